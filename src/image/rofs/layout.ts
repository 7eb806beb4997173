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
import { badEntry, catchOsv } from '../errors.js';
import type { ImageEntry } from '../entries.js';
import {
  DIRENT_HEADER_BYTES,
  INODE_BYTES,
  MAX_NAME_BYTES,
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
export type RofsOrder = 'sorted' | 'given';

export interface RofsLayoutOptions {
  order?: RofsOrder;
}

/** Where one regular file's bytes go. */
export interface PlacedFile {
  guest: string;
  /** Absolute block number of the first data block. */
  block: number;
  size: number;
  source: { host: string } | { content: Uint8Array };
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

type Node =
  | { kind: 'dir'; name: Buffer; children: Map<string, Node>; explicit: boolean; ino: number; offset: number; count: number }
  | { kind: 'file'; name: Buffer; entry: ImageEntry & { kind: 'file' }; ino: number; offset: number }
  | { kind: 'symlink'; name: Buffer; target: Buffer; ino: number; offset: number };

type DirNode = Extract<Node, { kind: 'dir' }>;

const newDir = (name: Buffer, explicit: boolean): DirNode => ({
  kind: 'dir',
  name,
  children: new Map(),
  explicit,
  ino: 0,
  offset: 0,
  count: 0,
});

/** Split an absolute guest path into components; throws a bad-entry error for anything odd. */
export function guestComponents(guest: string): string[] {
  if (!guest.startsWith('/')) throw badEntry(guest, 'guest paths must be absolute (start with /)');
  if (guest.includes('\0')) throw badEntry(guest, 'guest path contains a NUL byte');
  const parts = guest.split('/').slice(1);
  if (parts.length > 0 && parts[parts.length - 1] === '') parts.pop(); // trailing slash
  for (const p of parts) {
    if (p === '' || p === '.' || p === '..')
      throw badEntry(guest, `guest path has an empty, "." or ".." component`, 'write the path normalized, e.g. /usr/lib/x');
    if (Buffer.byteLength(p) > MAX_NAME_BYTES) throw badEntry(guest, `a name is longer than ${MAX_NAME_BYTES} bytes`);
  }
  return parts;
}

function sameLeaf(a: Node, e: ImageEntry): boolean {
  if (a.kind === 'symlink') return e.kind === 'symlink' && a.target.equals(Buffer.from(e.target));
  if (a.kind === 'file' && e.kind === 'file') {
    if (a.entry.host !== undefined) return e.host === a.entry.host && e.size === a.entry.size;
    return e.content !== undefined && Buffer.from(e.content).equals(Buffer.from(a.entry.content));
  }
  return false;
}

function buildTree(entries: readonly ImageEntry[]): DirNode {
  const root = newDir(Buffer.alloc(0), true);
  for (const e of entries) {
    const parts = guestComponents(e.guest);
    let dir = root;
    for (let i = 0; i < parts.length; i++) {
      const name = parts[i]!;
      const last = i === parts.length - 1;
      const existing = dir.children.get(name);
      if (!last) {
        if (existing === undefined) {
          const d = newDir(Buffer.from(name), false);
          dir.children.set(name, d);
          dir = d;
        } else if (existing.kind === 'dir') dir = existing;
        else throw badEntry(e.guest, `/${parts.slice(0, i + 1).join('/')} is a ${existing.kind}, not a directory`);
        continue;
      }
      if (e.kind === 'dir') {
        if (existing === undefined) dir.children.set(name, newDir(Buffer.from(name), true));
        else if (existing.kind !== 'dir') throw badEntry(e.guest, `appears twice: as a ${existing.kind} and as a directory`);
        else existing.explicit = true;
        continue;
      }
      if (existing !== undefined) {
        if (sameLeaf(existing, e)) continue; // an exact repeat is harmless
        throw badEntry(e.guest, `appears twice with different contents (${existing.kind} and ${e.kind})`);
      }
      if (e.kind === 'symlink') {
        const target = Buffer.from(e.target);
        if (target.length > MAX_NAME_BYTES) throw badEntry(e.guest, `symlink target is longer than ${MAX_NAME_BYTES} bytes`);
        if (target.includes(0)) throw badEntry(e.guest, 'symlink target contains a NUL byte');
        dir.children.set(name, { kind: 'symlink', name: Buffer.from(name), target, ino: 0, offset: 0 });
      } else {
        if (!Number.isSafeInteger(e.size) || e.size < 0) throw badEntry(e.guest, `invalid file size ${e.size}`);
        if (e.content !== undefined && e.content.byteLength !== e.size)
          throw badEntry(e.guest, `inline content is ${e.content.byteLength} bytes but size says ${e.size}`);
        dir.children.set(name, { kind: 'file', name: Buffer.from(name), entry: e, ino: 0, offset: 0 });
      }
    }
    if (parts.length === 0 && e.kind !== 'dir') throw badEntry(e.guest, 'the root can only be a directory');
  }
  return root;
}

function childrenOf(dir: DirNode, order: RofsOrder): Node[] {
  const list = [...dir.children.values()];
  return order === 'sorted' ? list.sort((a, b) => Buffer.compare(a.name, b.name)) : list;
}

/** Compute the layout; pure (reads no file). Errors are bad-entry OsvErrors. */
export function layoutRofs(entries: readonly ImageEntry[], opts: RofsLayoutOptions = {}): Result<RofsLayout, OsvError> {
  const order = opts.order ?? 'sorted';
  const built = catchOsv(() => buildTree(entries));
  if (!built.ok) return err(built.error);
  const root = built.value;

  const inodes: Node[] = [root];
  const dirents: Node[] = [];
  const symlinks: Buffer[] = [];
  const files: PlacedFile[] = [];
  let block = 1;
  let dataBytes = 0;
  const counts = { files: 0, dirs: 1, symlinks: 0 };
  root.ino = 1;

  // Explicit stack instead of recursion: deep trees must not hit the JS stack limit.
  type Frame = { dir: DirNode; kids: Node[]; next: number };
  const stack: Frame[] = [{ dir: root, kids: childrenOf(root, order), next: 0 }];
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    if (top.next === top.kids.length) {
      top.dir.offset = dirents.length;
      top.dir.count = top.kids.length;
      dirents.push(...top.kids);
      stack.pop();
      continue;
    }
    const child = top.kids[top.next++]!;
    inodes.push(child);
    child.ino = inodes.length;
    if (child.kind === 'dir') {
      counts.dirs++;
      stack.push({ dir: child, kids: childrenOf(child, order), next: 0 });
    } else if (child.kind === 'symlink') {
      counts.symlinks++;
      child.offset = symlinks.length;
      symlinks.push(child.target);
    } else {
      counts.files++;
      const e = child.entry;
      child.offset = block;
      files.push({
        guest: e.guest,
        block,
        size: e.size,
        source: e.content !== undefined ? { content: e.content } : { host: e.host },
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

function encodeTables(dirents: Node[], symlinks: Buffer[], inodes: Node[]): Buffer {
  let size = inodes.length * INODE_BYTES;
  for (const d of dirents) size += DIRENT_HEADER_BYTES + d.name.length;
  for (const s of symlinks) size += SYMLINK_HEADER_BYTES + s.length;
  const b = Buffer.alloc(size);
  let at = 0;
  for (const d of dirents) {
    at = b.writeBigUInt64LE(BigInt(d.ino), at);
    at = b.writeUInt16LE(d.name.length, at);
    at += d.name.copy(b, at);
  }
  for (const s of symlinks) {
    at = b.writeUInt16LE(s.length, at);
    at += s.copy(b, at);
  }
  for (const n of inodes) {
    const [mode, count] =
      n.kind === 'dir' ? [MODE_DIR, n.count] : n.kind === 'file' ? [MODE_FILE, n.entry.size] : [MODE_SYMLINK, 1];
    at = b.writeBigUInt64LE(BigInt(mode), at);
    at = b.writeBigUInt64LE(BigInt(n.ino), at);
    at = b.writeBigUInt64LE(BigInt(n.offset), at);
    at = b.writeBigUInt64LE(BigInt(count), at);
  }
  return b;
}
