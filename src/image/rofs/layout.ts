// The whole ROFS layout computed before a byte is written: entry sizes are known from the
// plan, so inode numbers, data blocks and the structure tables can be fixed up front and the
// image then written in one sequential pass (superblock, data, tables).
//
// Numbering follows facts §3.4 so that, given entries in a manifest's order ('given'), the
// bytes equal OSv's gen-rofs-img.py: inodes depth-first pre-order, file data in that order,
// a directory's entries appended to the dir-entry table after all of its subdirectories'
// (post-order), an empty file pointing at the block where the next data starts, and one
// extra zero block when the structure region is an exact multiple of 512 bytes.

import { err, ok, type Result } from '../../diagnostics/result.js';
import type { OsvError } from '../../diagnostics/error.js';
import { catchOsv } from '../errors.js';
import type { ImageEntry } from '../entries.js';
import { buildTree, childrenOf, type ChildOrder, type TreeDir, type TreeNode } from '../tree.js';
import {
  DIRENT_HEADER_BYTES,
  INODE_BYTES,
  MODE_DIR,
  MODE_FILE,
  MODE_SYMLINK,
  ROFS_BLOCK,
  ROFS_MAGIC,
  ROFS_VERSION,
  SYMLINK_HEADER_BYTES,
  blocksFor,
  type RofsSuperblock,
} from './format.js';

/**
 * 'sorted': each directory's children in byte order of their names — the output depends only
 * on the set of entries. 'given': children in order of first appearance in the entry list,
 * which reproduces gen-rofs-img.py for a manifest's entries.
 */
export type RofsOrder = ChildOrder;

export interface RofsLayoutOptions {
  order?: RofsOrder;
}

/** Where one regular file's bytes go. */
export interface PlacedFile {
  guest: string;
  /** Absolute block number of the first data block. */
  block: number;
  size: number;
  source: { host: string; offset?: number } | { content: Uint8Array };
}

export interface RofsLayout {
  superblock: RofsSuperblock;
  /** Regular files in data order (ascending blocks); empty files included. */
  files: PlacedFile[];
  /** Dir-entry table, symlink table and inode table, unpadded (S bytes). */
  structure: Buffer;
  /** Total image size: 512 × (F + N), plus 512 when S is an exact multiple of 512. */
  imageBytes: number;
  /** Sum of file sizes. */
  dataBytes: number;
  counts: { files: number; dirs: number; symlinks: number };
}

/** Compute the layout; pure (reads no file). Errors are bad-entry OsvErrors. */
export function layoutRofs(entries: readonly ImageEntry[], opts: RofsLayoutOptions = {}): Result<RofsLayout, OsvError> {
  const order = opts.order ?? 'sorted';
  const built = catchOsv(() => buildTree(entries));
  if (!built.ok) return err(built.error);
  const root = built.value;

  // Per-node records, in inode-number order; dirents refer to records by their child node.
  const recs = new Map<TreeNode, Inode>();
  const inodes: Inode[] = [];
  const dirents: Array<{ name: Buffer; rec: Inode }> = [];
  const symlinks: Buffer[] = [];
  const files: PlacedFile[] = [];
  let block = 1;
  let dataBytes = 0;
  const counts = { files: 0, dirs: 1, symlinks: 0 };
  const add = (n: TreeNode, mode: number, offset: number, count: number): Inode => {
    const r = { ino: inodes.length + 1, mode, offset, count };
    inodes.push(r);
    recs.set(n, r);
    return r;
  };
  add(root, MODE_DIR, 0, 0);

  // Explicit stack instead of recursion: deep trees must not hit the JS stack limit.
  type Frame = { dir: TreeDir; kids: TreeNode[]; next: number };
  const stack: Frame[] = [{ dir: root, kids: childrenOf(root, order), next: 0 }];
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    if (top.next === top.kids.length) {
      const rec = recs.get(top.dir)!;
      rec.offset = dirents.length;
      rec.count = top.kids.length;
      for (const k of top.kids) dirents.push({ name: k.name, rec: recs.get(k)! });
      stack.pop();
      continue;
    }
    const child = top.kids[top.next++]!;
    if (child.kind === 'dir') {
      counts.dirs++;
      add(child, MODE_DIR, 0, 0);
      stack.push({ dir: child, kids: childrenOf(child, order), next: 0 });
    } else if (child.kind === 'symlink') {
      counts.symlinks++;
      add(child, MODE_SYMLINK, symlinks.length, 1);
      symlinks.push(child.target);
    } else {
      counts.files++;
      const e = child.entry;
      add(child, MODE_FILE, block, e.size);
      files.push({
        guest: e.guest,
        block,
        size: e.size,
        source: e.content !== undefined ? { content: e.content } : { host: e.host, ...(e.offset !== undefined ? { offset: e.offset } : {}) },
      });
      block += blocksFor(e.size);
      dataBytes += e.size;
    }
  }

  const structure = encodeTables(dirents, symlinks, inodes);
  const structureBlocks = blocksFor(structure.length);
  const superblock: RofsSuperblock = {
    magic: Number(ROFS_MAGIC),
    version: ROFS_VERSION,
    blockSize: ROFS_BLOCK,
    structureFirstBlock: block,
    structureBlocks,
    dirEntries: dirents.length,
    symlinks: symlinks.length,
    inodes: inodes.length,
  };
  const quirk = structure.length % ROFS_BLOCK === 0 ? ROFS_BLOCK : 0;
  return ok({
    superblock,
    files,
    structure,
    imageBytes: ROFS_BLOCK * (block + structureBlocks) + quirk,
    dataBytes,
    counts,
  });
}

interface Inode {
  ino: number;
  mode: number;
  offset: number;
  count: number;
}

function encodeTables(dirents: Array<{ name: Buffer; rec: Inode }>, symlinks: Buffer[], inodes: Inode[]): Buffer {
  let size = inodes.length * INODE_BYTES;
  for (const d of dirents) size += DIRENT_HEADER_BYTES + d.name.length;
  for (const s of symlinks) size += SYMLINK_HEADER_BYTES + s.length;
  const b = Buffer.alloc(size);
  let at = 0;
  for (const d of dirents) {
    at = b.writeBigUInt64LE(BigInt(d.rec.ino), at);
    at = b.writeUInt16LE(d.name.length, at);
    at += d.name.copy(b, at);
  }
  for (const s of symlinks) {
    at = b.writeUInt16LE(s.length, at);
    at += s.copy(b, at);
  }
  for (const n of inodes) {
    at = b.writeBigUInt64LE(BigInt(n.mode), at);
    at = b.writeBigUInt64LE(BigInt(n.ino), at);
    at = b.writeBigUInt64LE(BigInt(n.offset), at);
    at = b.writeBigUInt64LE(BigInt(n.count), at);
  }
  return b;
}
