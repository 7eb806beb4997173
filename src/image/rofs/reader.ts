// Reads a ROFS (facts §3) from any ByteSource with every offset checked. Opening fails only
// when the tables cannot be parsed at all; everything else that is wrong (a child range past
// the table, an inode number out of range, file data outside the data region) is a problem
// reported by check() and skipped by the walkers, so `osv inspect` can show all of them.

import * as fs from 'node:fs';
import { join } from 'node:path';
import { err, ok, type Result } from '../../diagnostics/result.js';
import { OsvError } from '../../diagnostics/error.js';
import { catchOsv, corrupt, buildFailed, errnoCode } from '../errors.js';
import { openImageFile, type ByteSource } from '../source.js';
import { makeDirs } from '../../atomic.js';
import {
  DIRENT_HEADER_BYTES,
  INODE_BYTES,
  MODE_DIR,
  MODE_FILE,
  MODE_SYMLINK,
  ROFS_BLOCK,
  ROFS_MAGIC,
  ROFS_VERSION,
  SUPERBLOCK_BYTES,
  SYMLINK_HEADER_BYTES,
  decodeSuperblock,
  type RofsSuperblock,
} from './format.js';

export interface RofsInode {
  /** Position in the table + 1: the number the kernel uses. */
  ino: number;
  mode: number;
  /** The stored inode_no field (should equal `ino`). */
  storedIno: number;
  dataOffset: number;
  count: number;
}

export interface RofsDirent {
  ino: number;
  name: Buffer;
  /** Byte offset of the record inside the filesystem, for messages. */
  at: number;
}

export type RofsNodeKind = 'dir' | 'file' | 'symlink';

export interface RofsNode {
  /** Absolute guest path ('/' for the root). */
  path: string;
  ino: number;
  kind: RofsNodeKind;
  /** File: bytes; dir: children; symlink: target bytes. */
  size: number;
  /** File: first data block. */
  block?: number;
  /** Symlink target. */
  target?: string;
}

export interface RofsProblem {
  code: string;
  message: string;
}

const kindOf = (mode: number): RofsNodeKind | undefined =>
  mode === MODE_DIR ? 'dir' : mode === MODE_FILE ? 'file' : mode === MODE_SYMLINK ? 'symlink' : undefined;

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** A u64 as a number; values past 2^53 cannot be valid offsets here and are clamped to -1. */
function u64(b: Buffer, at: number): number {
  const v = b.readBigUInt64LE(at);
  return v > MAX_SAFE ? -1 : Number(v);
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
function decodeName(b: Buffer): { text: string; valid: boolean } {
  try {
    return { text: utf8.decode(b), valid: true };
  } catch {
    return { text: b.toString('latin1'), valid: false };
  }
}

/** A name that is safe to use as one path component on the host. */
const safeName = (n: string): boolean => n !== '' && n !== '.' && n !== '..' && !n.includes('/') && !n.includes('\0');

export class RofsImage {
  private constructor(
    readonly source: ByteSource,
    readonly superblock: RofsSuperblock,
    readonly dirents: RofsDirent[],
    readonly symlinks: Buffer[],
    readonly inodes: RofsInode[],
    /** Bytes actually used by the three tables. */
    readonly structureBytes: number,
  ) {}

  /** Parse the superblock and tables. Fails (image.corrupt) only when they cannot be parsed. */
  static open(source: ByteSource): Result<RofsImage, OsvError> {
    return catchOsv(() => RofsImage.parse(source));
  }

  private static parse(src: ByteSource): RofsImage {
    const L = src.label;
    if (src.size < ROFS_BLOCK) throw corrupt(L, `too small for a ROFS superblock (${src.size} bytes)`);
    const { sb, tooLarge } = decodeSuperblock(src.read(0, SUPERBLOCK_BYTES, 'superblock'));
    if (BigInt(sb.magic) !== ROFS_MAGIC)
      throw corrupt(L, `not a ROFS: magic is 0x${sb.magic.toString(16)}, expected 0xdeadbead`, 0);
    if (tooLarge.length) throw corrupt(L, `superblock field(s) ${tooLarge.join(', ')} are absurdly large`, 0);
    if (sb.version !== ROFS_VERSION) throw corrupt(L, `ROFS version ${sb.version}; only version 1 exists`, 8);
    if (sb.blockSize !== ROFS_BLOCK) throw corrupt(L, `block size ${sb.blockSize}; OSv only reads 512`, 16);
    if (sb.structureFirstBlock < 1) throw corrupt(L, 'the structure region starts inside the superblock', 24);
    if (sb.structureBlocks < 1) throw corrupt(L, 'the structure region is empty (OSv refuses to mount this)', 32);
    if (sb.inodes < 1) throw corrupt(L, 'no inodes: there is not even a root directory', 56);
    const end = (sb.structureFirstBlock + sb.structureBlocks) * ROFS_BLOCK;
    if (end > src.size)
      throw corrupt(L, `the structure region ends at byte ${end}, past the end of the filesystem (${src.size} bytes)`, 24);

    const base = sb.structureFirstBlock * ROFS_BLOCK;
    const region = src.read(base, sb.structureBlocks * ROFS_BLOCK, 'structure region');
    // Minimum sizes first, so absurd counts fail before any loop runs.
    const minimum = sb.dirEntries * DIRENT_HEADER_BYTES + sb.symlinks * SYMLINK_HEADER_BYTES + sb.inodes * INODE_BYTES;
    if (minimum > region.length)
      throw corrupt(L, `the superblock counts (${sb.dirEntries} dir entries, ${sb.symlinks} symlinks, ${sb.inodes} inodes) cannot fit in ${region.length} structure bytes`, 40);

    let at = 0;
    const need = (n: number, what: string): void => {
      if (at + n > region.length) throw corrupt(L, `${what} runs past the structure region`, base + at);
    };
    const dirents: RofsDirent[] = [];
    for (let i = 0; i < sb.dirEntries; i++) {
      need(DIRENT_HEADER_BYTES, `directory entry ${i}`);
      const ino = u64(region, at);
      const len = region.readUInt16LE(at + 8);
      need(DIRENT_HEADER_BYTES + len, `the name of directory entry ${i}`);
      dirents.push({ ino, name: Buffer.from(region.subarray(at + 10, at + 10 + len)), at: base + at });
      at += DIRENT_HEADER_BYTES + len;
    }
    const symlinks: Buffer[] = [];
    for (let i = 0; i < sb.symlinks; i++) {
      need(SYMLINK_HEADER_BYTES, `symlink ${i}`);
      const len = region.readUInt16LE(at);
      need(SYMLINK_HEADER_BYTES + len, `the target of symlink ${i}`);
      symlinks.push(Buffer.from(region.subarray(at + 2, at + 2 + len)));
      at += SYMLINK_HEADER_BYTES + len;
    }
    need(sb.inodes * INODE_BYTES, 'the inode table');
    const inodes: RofsInode[] = [];
    for (let i = 0; i < sb.inodes; i++, at += INODE_BYTES) {
      inodes.push({
        ino: i + 1,
        mode: u64(region, at),
        storedIno: u64(region, at + 8),
        dataOffset: u64(region, at + 16),
        count: u64(region, at + 24),
      });
    }
    if (inodes[0]!.mode !== MODE_DIR) throw corrupt(L, 'inode 1 (the root) is not a directory', base + at);
    return new RofsImage(src, sb, dirents, symlinks, inodes, at);
  }

  inode(ino: number): RofsInode | undefined {
    return ino >= 1 && ino <= this.inodes.length ? this.inodes[ino - 1] : undefined;
  }

  /** A directory's valid children (entries out of range are skipped; check() reports them). */
  children(dir: RofsInode): Array<{ name: string; ino: RofsInode }> {
    if (dir.mode !== MODE_DIR || dir.dataOffset < 0 || dir.count < 0) return [];
    const out: Array<{ name: string; ino: RofsInode }> = [];
    const last = Math.min(dir.dataOffset + dir.count, this.dirents.length);
    for (let i = dir.dataOffset; i < last; i++) {
      const d = this.dirents[i]!;
      const child = this.inode(d.ino);
      const name = decodeName(d.name).text;
      if (child && kindOf(child.mode) && safeName(name)) out.push({ name, ino: child });
    }
    return out;
  }

  private node(path: string, i: RofsInode): RofsNode {
    const kind = kindOf(i.mode)!;
    const n: RofsNode = { path, ino: i.ino, kind, size: i.count };
    if (kind === 'file') n.block = i.dataOffset;
    if (kind === 'symlink') {
      const t = this.symlinks[i.dataOffset];
      n.target = t ? decodeName(t).text : '';
      n.size = t?.length ?? 0;
    }
    return n;
  }

  /** Every reachable node, depth-first in table order, the root first. Never loops. */
  walk(): RofsNode[] {
    const out: RofsNode[] = [];
    const seenDirs = new Set<number>([1]);
    const stack: Array<{ path: string; ino: RofsInode }> = [{ path: '/', ino: this.inodes[0]! }];
    while (stack.length) {
      const { path, ino } = stack.pop()!;
      out.push(this.node(path, ino));
      if (ino.mode !== MODE_DIR) continue;
      const kids = this.children(ino).filter((c) => c.ino.mode !== MODE_DIR || !seenDirs.has(c.ino.ino));
      for (const c of kids) if (c.ino.mode === MODE_DIR) seenDirs.add(c.ino.ino);
      for (let k = kids.length - 1; k >= 0; k--) {
        const c = kids[k]!;
        stack.push({ path: path === '/' ? `/${c.name}` : `${path}/${c.name}`, ino: c.ino });
      }
    }
    return out;
  }

  /** The node at an absolute path, without following symlinks. */
  lookup(path: string): RofsNode | undefined {
    let cur = this.inodes[0]!;
    const parts = path.split('/').filter((p) => p !== '');
    for (const p of parts) {
      const next = this.children(cur).find((c) => c.name === p);
      if (!next) return undefined;
      cur = next.ino;
    }
    return this.node('/' + parts.join('/'), cur);
  }

  /** A file's bytes (for tests and small files; use copyFile for large ones). */
  readFile(pathOrNode: string | RofsNode): Result<Buffer, OsvError> {
    return catchOsv(() => {
      const n = this.fileNode(pathOrNode);
      return Buffer.from(this.source.read(n.block! * ROFS_BLOCK, n.size, `data of ${n.path}`));
    });
  }

  /** Stream a file's bytes to a host file descriptor in 1 MiB pieces. */
  copyFile(pathOrNode: string | RofsNode, fd: number): Result<number, OsvError> {
    return catchOsv(() => {
      const n = this.fileNode(pathOrNode);
      const start = n.block! * ROFS_BLOCK;
      if (start + n.size > this.source.size)
        throw corrupt(this.source.label, `data of ${n.path} runs past the end of the filesystem`, start);
      for (let done = 0; done < n.size; ) {
        const len = Math.min(1 << 20, n.size - done);
        fs.writeSync(fd, this.source.read(start + done, len, `data of ${n.path}`));
        done += len;
      }
      return n.size;
    });
  }

  private fileNode(pathOrNode: string | RofsNode): RofsNode {
    const n = typeof pathOrNode === 'string' ? this.lookup(pathOrNode) : pathOrNode;
    if (!n) throw corrupt(this.source.label, `no such file: ${String(pathOrNode)}`);
    if (n.kind !== 'file') throw corrupt(this.source.label, `${n.path} is a ${n.kind}, not a file`);
    return n;
  }

  /** Recreate the tree under `dest` (which must not exist or be empty). */
  extract(dest: string): Result<number, OsvError> {
    return catchOsv(() => {
      let count = 0;
      for (const n of this.walk()) {
        const host = join(dest, n.path);
        try {
          if (n.kind === 'dir') makeDirs(host);
          else if (n.kind === 'symlink') fs.symlinkSync(n.target ?? '', host);
          else {
            const fd = fs.openSync(host, 'wx');
            try {
              const r = this.copyFile(n, fd);
              if (!r.ok) throw r.error;
            } finally {
              fs.closeSync(fd);
            }
          }
        } catch (e) {
          if (e instanceof OsvError || errnoCode(e) === undefined) throw e;
          throw buildFailed('image.extract-failed', `cannot create ${host}: ${errnoCode(e)}`);
        }
        count++;
      }
      return count;
    });
  }

  /** Everything inconsistent in the image, without stopping at the first. */
  check(): RofsProblem[] {
    const problems: RofsProblem[] = [];
    const p = (code: string, message: string): void => {
      problems.push({ code, message });
    };
    const sb = this.superblock;
    const dataEnd = sb.structureFirstBlock * ROFS_BLOCK;
    const referenced = new Map<number, number>();
    for (const [idx, d] of this.dirents.entries()) {
      if (!this.inode(d.ino)) p('rofs.dirent-inode', `directory entry ${idx} (at byte ${d.at}) names inode ${d.ino}, outside 1..${this.inodes.length}`);
      else referenced.set(d.ino, (referenced.get(d.ino) ?? 0) + 1);
      const name = decodeName(d.name);
      if (!safeName(name.text)) p('rofs.dirent-name', `directory entry ${idx} (at byte ${d.at}) has an invalid name ${JSON.stringify(name.text)}`);
      else if (!name.valid) p('rofs.dirent-utf8', `directory entry ${idx} (at byte ${d.at}) has a name that is not UTF-8`);
    }
    const claimed = new Array<number>(this.dirents.length).fill(0);
    for (const i of this.inodes) {
      const kind = kindOf(i.mode);
      const where = `inode ${i.ino}`;
      if (i.storedIno !== i.ino) p('rofs.inode-number', `${where} stores inode number ${i.storedIno}`);
      if (!kind) {
        p('rofs.inode-mode', `${where} has mode 0x${i.mode.toString(16)}, not a directory, file or symlink`);
        continue;
      }
      if (i.dataOffset < 0 || i.count < 0) {
        p('rofs.inode-range', `${where} has an absurd data offset or count`);
        continue;
      }
      if (kind === 'dir') {
        if (i.dataOffset + i.count > this.dirents.length)
          p('rofs.dir-range', `${where} (directory) lists entries ${i.dataOffset}..${i.dataOffset + i.count - 1} but the table has ${this.dirents.length}`);
        const names = new Set<string>();
        for (let k = i.dataOffset; k < Math.min(i.dataOffset + i.count, this.dirents.length); k++) {
          claimed[k]!++;
          const n = decodeName(this.dirents[k]!.name).text;
          if (names.has(n)) p('rofs.dir-duplicate', `${where} (directory) has two entries named ${JSON.stringify(n)}`);
          names.add(n);
        }
      } else if (kind === 'file') {
        const start = i.dataOffset * ROFS_BLOCK;
        if (i.count > 0 && i.dataOffset < 1) p('rofs.file-range', `${where} (file) has data in the superblock block`);
        if (start + i.count > dataEnd || i.dataOffset > sb.structureFirstBlock)
          p('rofs.file-range', `${where} (file, ${i.count} bytes at block ${i.dataOffset}) extends past the data region (ends at block ${sb.structureFirstBlock})`);
      } else {
        if (i.dataOffset >= this.symlinks.length)
          p('rofs.symlink-range', `${where} (symlink) refers to symlink ${i.dataOffset}; the table has ${this.symlinks.length}`);
        if (i.count !== 1) p('rofs.symlink-count', `${where} (symlink) has count ${i.count}, expected 1`);
      }
    }
    claimed.forEach((c, k) => {
      if (c === 0) p('rofs.dirent-orphan', `directory entry ${k} belongs to no directory`);
      if (c > 1) p('rofs.dirent-shared', `directory entry ${k} is listed by ${c} directories`);
    });
    if (referenced.has(1)) p('rofs.root-linked', 'the root directory (inode 1) appears as a directory entry');
    for (const i of this.inodes.slice(1)) {
      const refs = referenced.get(i.ino) ?? 0;
      if (refs === 0) p('rofs.inode-unreachable', `inode ${i.ino} is in no directory`);
      else if (refs > 1 && i.mode === MODE_DIR) p('rofs.dir-linked-twice', `directory inode ${i.ino} appears in ${refs} directory entries`);
    }
    return problems;
  }
}

/** Open a ROFS at byte `offset` of an image file path or source. */
export function openRofs(source: ByteSource, offset = 0, size?: number): Result<RofsImage, OsvError> {
  const win = catchOsv(() => (offset === 0 && size === undefined ? source : source.slice(offset, size ?? source.size - offset, `${source.label} (ROFS at byte ${offset})`)));
  if (!win.ok) return err(win.error);
  const r = RofsImage.open(win.value);
  return r.ok ? ok(r.value) : r;
}

/** Open the ROFS in an image file at byte `offset`. Call close() when done. */
export function openRofsFile(path: string, offset = 0): Result<{ rofs: RofsImage; close(): void }, OsvError> {
  const f = catchOsv(() => openImageFile(path));
  if (!f.ok) return f;
  const r = openRofs(f.value.source, offset);
  if (!r.ok) {
    f.value.close();
    return r;
  }
  return ok({ rofs: r.value, close: f.value.close });
}
