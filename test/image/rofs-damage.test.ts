// The ROFS reader on one small image written by the writer, damaged one field at a time:
// open() refuses tables it cannot parse with the exact reason and byte offset, and check()
// names every other inconsistency (and nothing else), while walk(), lookup() and the file
// readers skip what is broken instead of crashing or looping.
//
// The image (sorted layout, as the writer makes it):
//   inode 1 /      dir      entries 2..4 (a, d, l)
//   inode 2 /a     file     5 bytes at block 1
//   inode 3 /d     dir      entries 0..1 (b, c)
//   inode 4 /d/b   file     600 bytes at block 2
//   inode 5 /d/c   file     0 bytes at block 4 (the first structure block: allowed when empty)
//   inode 6 /l     symlink  symlink 0 ("a")
// Data blocks 1..3, structure region at block 4 (byte 2048): five directory entries of 11
// bytes (b, c, a, d, l), one symlink of 3 bytes at 2103, six inodes of 32 bytes at 2106.

import * as fs from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { layoutRofs } from '../../src/image/rofs/layout.js';
import { RofsImage, type RofsProblem } from '../../src/image/rofs/reader.js';
import { writeRofs } from '../../src/image/rofs/writer.js';
import { bufferSource } from '../../src/image/source.js';
import type { ImageEntry } from '../../src/image/entries.js';
import { tempDir } from './helpers.js';

const work = tempDir('rofs-damage');
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

const B = Buffer.alloc(600, 7);
const entries: ImageEntry[] = [
  { kind: 'file', guest: '/a', content: Buffer.from('hello'), size: 5 },
  { kind: 'dir', guest: '/d' },
  { kind: 'file', guest: '/d/b', content: B, size: 600 },
  { kind: 'file', guest: '/d/c', content: Buffer.alloc(0), size: 0 },
  { kind: 'symlink', guest: '/l', target: 'a' },
];

const BASE = 2048;
const SYMLINK = 2103;
const inodeAt = (ino: number, field: 'mode' | 'ino' | 'offset' | 'count'): number => 2106 + (ino - 1) * 32 + { mode: 0, ino: 8, offset: 16, count: 24 }[field];
const direntAt = (i: number): number => BASE + i * 11;
const SB = { magic: 0, version: 8, blockSize: 16, structureFirstBlock: 24, structureBlocks: 32, dirEntries: 40, symlinks: 48, inodes: 56 };

let image: Buffer;
let written: Awaited<ReturnType<typeof writeRofs>>;
beforeAll(async () => {
  const out = join(work, 'small.rofs');
  written = await writeRofs([...entries].reverse(), out);
  if (!written.ok) throw written.error;
  image = fs.readFileSync(out);
});

/** A copy of the image with `patch` applied. */
function damaged(patch: (b: Buffer) => void): Buffer {
  const b = Buffer.from(image);
  patch(b);
  return b;
}
const u64 = (at: number, v: number | bigint) => (b: Buffer) => b.writeBigUInt64LE(BigInt(v), at);
const open = (b: Buffer): RofsImage => {
  const r = RofsImage.open(bufferSource(b, 'x.rofs'));
  if (!r.ok) throw r.error;
  return r.value;
};
const refused = (b: Buffer): string => {
  const r = RofsImage.open(bufferSource(b, 'x.rofs'));
  expect(r.ok).toBe(false);
  if (r.ok) return '';
  expect(r.error.code).toBe('image.corrupt');
  return r.error.message;
};
const paths = (img: RofsImage): string[] => img.walk().map((n) => n.path);
const problem = (code: string, message: string): RofsProblem => ({ code, message });

describe('the undamaged image', () => {
  it('is what the writer reports: 3 files, 2 directories (the root too), 1 symlink', () => {
    expect(written).toMatchObject({ ok: true, value: { bytes: 2560, files: 3, dirs: 2, symlinks: 1, dataBytes: 605, structureBytes: 250 } });
  });

  it('has the layout above, reads back whole, and check() finds nothing', () => {
    const img = open(image);
    expect(img.superblock).toEqual({ magic: 0xdeadbead, version: 1, blockSize: 512, structureFirstBlock: 4, structureBlocks: 1, dirEntries: 5, symlinks: 1, inodes: 6 });
    expect(img.inodes.map((i) => [i.ino, i.mode, i.storedIno, i.dataOffset, i.count])).toEqual([
      [1, 0x4000, 1, 2, 3],
      [2, 0x8000, 2, 1, 5],
      [3, 0x4000, 3, 0, 2],
      [4, 0x8000, 4, 2, 600],
      [5, 0x8000, 5, 4, 0],
      [6, 0xa000, 6, 0, 1],
    ]);
    expect(img.dirents.map((d) => [d.ino, d.name.toString(), d.at])).toEqual([
      [4, 'b', 2048],
      [5, 'c', 2059],
      [2, 'a', 2070],
      [3, 'd', 2081],
      [6, 'l', 2092],
    ]);
    expect(img.symlinks.map((s) => s.toString())).toEqual(['a']);
    expect(img.structureBytes).toBe(250);
    expect(img.check()).toEqual([]);
    expect(img.walk()).toEqual([
      { path: '/', ino: 1, kind: 'dir', size: 3 },
      { path: '/a', ino: 2, kind: 'file', size: 5, block: 1 },
      { path: '/d', ino: 3, kind: 'dir', size: 2 },
      { path: '/d/b', ino: 4, kind: 'file', size: 600, block: 2 },
      { path: '/d/c', ino: 5, kind: 'file', size: 0, block: 4 },
      { path: '/l', ino: 6, kind: 'symlink', size: 1, target: 'a' },
    ]);
    expect([0, 1, 6, 7].map((n) => img.inode(n)?.ino)).toEqual([undefined, 1, 6, undefined]);
  });

  it('looks paths up without following symlinks or walking "..", and reads files', () => {
    const img = open(image);
    expect(img.lookup('/')).toEqual({ path: '/', ino: 1, kind: 'dir', size: 3 });
    expect(img.lookup('/d/')).toMatchObject({ path: '/d', ino: 3 });
    expect(img.lookup('//d//b')).toMatchObject({ path: '/d/b', ino: 4 });
    expect(img.lookup('/d/../a')).toBeUndefined();
    expect(img.lookup('/l/x')).toBeUndefined();
    expect(img.lookup('/nope')).toBeUndefined();
    expect(img.readFile('/a')).toEqual({ ok: true, value: Buffer.from('hello') });
    expect(img.readFile('/d/c')).toEqual({ ok: true, value: Buffer.alloc(0) });
    const b = img.readFile(img.lookup('/d/b')!);
    expect(b.ok && b.value.equals(B)).toBe(true);
    const dir = img.readFile('/d');
    expect(!dir.ok && dir.error.message).toBe('x.rofs: /d is a dir, not a file');
    const link = img.readFile('/l');
    expect(!link.ok && link.error.message).toBe('x.rofs: /l is a symlink, not a file');
    const none = img.readFile('/nope');
    expect(!none.ok && none.error.message).toBe('x.rofs: no such file: /nope');
  });

  it('lays out sorted by default, whatever the order of the entries', () => {
    const given = layoutRofs([...entries].reverse());
    const sorted = layoutRofs(entries, { order: 'sorted' });
    if (!given.ok || !sorted.ok) throw new Error('layout failed');
    expect(given.value.structure.equals(sorted.value.structure)).toBe(true);
    expect(given.value.counts).toEqual({ files: 3, dirs: 2, symlinks: 1 });
    expect(given.value.dataBytes).toBe(605);
    const asGiven = layoutRofs([...entries].reverse(), { order: 'given' });
    expect(asGiven.ok && asGiven.value.structure.equals(sorted.value.structure)).toBe(false);
  });
});

describe('open() refuses tables it cannot parse, saying why and where', () => {
  it.each([
    ['an image smaller than a block', () => image.subarray(0, 511), 'x.rofs: too small for a ROFS superblock (511 bytes)'],
    ['exactly one block: the superblock, but no structure region', () => image.subarray(0, 512), 'x.rofs: the structure region ends at byte 2560, past the end of the filesystem (512 bytes) (at byte 24)'],
    ['one byte short', () => image.subarray(0, 2559), 'x.rofs: the structure region ends at byte 2560, past the end of the filesystem (2559 bytes) (at byte 24)'],
    ['another magic', () => damaged(u64(SB.magic, 0)), 'x.rofs: not a ROFS: magic is 0x0, expected 0xdeadbead (at byte 0)'],
    ['a count past 2^53', () => damaged(u64(SB.inodes, 2n ** 53n)), 'x.rofs: superblock field(s) inodes are absurdly large (at byte 0)'],
    ['two fields past 2^53', () => damaged((b) => (u64(SB.version, 2n ** 60n)(b), u64(SB.symlinks, 2n ** 63n)(b))), 'x.rofs: superblock field(s) version, symlinks are absurdly large (at byte 0)'],
    ['a count of 2^53 - 1 (large, but a number)', () => damaged(u64(SB.inodes, 2n ** 53n - 1n)), `x.rofs: the superblock counts (5 dir entries, 1 symlinks, ${2 ** 53 - 1} inodes) cannot fit in 512 structure bytes (at byte 40)`],
    ['version 2', () => damaged(u64(SB.version, 2)), 'x.rofs: ROFS version 2; only version 1 exists (at byte 8)'],
    ['4 KiB blocks', () => damaged(u64(SB.blockSize, 4096)), 'x.rofs: block size 4096; OSv only reads 512 (at byte 16)'],
    ['the structure in block 0', () => damaged(u64(SB.structureFirstBlock, 0)), 'x.rofs: the structure region starts inside the superblock (at byte 24)'],
    ['no structure blocks', () => damaged(u64(SB.structureBlocks, 0)), 'x.rofs: the structure region is empty (OSv refuses to mount this) (at byte 32)'],
    ['no inodes', () => damaged(u64(SB.inodes, 0)), 'x.rofs: no inodes: there is not even a root directory (at byte 56)'],
    ['more entries than fit', () => damaged(u64(SB.dirEntries, 50)), 'x.rofs: the superblock counts (50 dir entries, 1 symlinks, 6 inodes) cannot fit in 512 structure bytes (at byte 40)'],
    ['a name running past the region', () => damaged((b) => b.writeUInt16LE(0xffff, direntAt(4) + 8)), 'x.rofs: the name of directory entry 4 runs past the structure region (at byte 2092)'],
    ['an entry header running past the region', () => damaged((b) => b.writeUInt16LE(465, direntAt(3) + 8)), 'x.rofs: directory entry 4 runs past the structure region (at byte 2556)'],
    ['a symlink header running past the region', () => damaged((b) => b.writeUInt16LE(457, direntAt(4) + 8)), 'x.rofs: symlink 0 runs past the structure region (at byte 2559)'],
    ['a symlink target running past the region', () => damaged((b) => b.writeUInt16LE(0xffff, SYMLINK)), 'x.rofs: the target of symlink 0 runs past the structure region (at byte 2103)'],
    ['an inode table running past the region', () => damaged((b) => b.writeUInt16LE(400, SYMLINK)), 'x.rofs: the inode table runs past the structure region (at byte 2505)'],
    // 263: the inode table now ends exactly at the region's end (allowed), over zeros.
    ['an inode table read from zeros', () => damaged((b) => b.writeUInt16LE(263, SYMLINK)), 'x.rofs: inode 1 (the root) is not a directory (at byte 2560)'],
    ['a root that is a file', () => damaged(u64(inodeAt(1, 'mode'), 0x8000)), 'x.rofs: inode 1 (the root) is not a directory (at byte 2298)'],
  ])('%s', (_what, make, message) => {
    expect(refused(make())).toBe(message);
  });

  it('takes counts that exactly fill the region (the limits are inclusive)', () => {
    // 5 entries, 135 symlinks and 6 inodes need exactly 512 bytes: past the count check,
    // the table itself then does not hold them.
    const m = refused(damaged(u64(SB.symlinks, 135)));
    expect(m).not.toMatch(/cannot fit/);
    expect(m).toMatch(/runs past the structure region/);
  });
});

describe('check() names each inconsistency, and the walkers skip it', () => {
  it.each<[string, (b: Buffer) => void, RofsProblem[], string[] | undefined]>([
    ['a stored inode number that differs', u64(inodeAt(4, 'ino'), 9), [problem('rofs.inode-number', 'inode 4 stores inode number 9')], undefined],
    ['an unknown mode', u64(inodeAt(4, 'mode'), 0x1000), [problem('rofs.inode-mode', 'inode 4 has mode 0x1000, not a directory, file or symlink')], ['/', '/a', '/d', '/d/c', '/l']],
    ['a data offset past 2^53', u64(inodeAt(4, 'offset'), 2n ** 60n), [problem('rofs.inode-range', 'inode 4 has an absurd data offset or count')], undefined],
    [
      'a directory count past 2^53',
      u64(inodeAt(3, 'count'), 2n ** 60n),
      [problem('rofs.inode-range', 'inode 3 has an absurd data offset or count'), problem('rofs.dirent-orphan', 'directory entry 0 belongs to no directory'), problem('rofs.dirent-orphan', 'directory entry 1 belongs to no directory')],
      ['/', '/a', '/d', '/l'],
    ],
    [
      'a directory listing past the table',
      u64(inodeAt(3, 'count'), 6),
      [
        problem('rofs.dir-range', 'inode 3 (directory) lists entries 0..5 but the table has 5'),
        problem('rofs.dirent-shared', 'directory entry 2 is listed by 2 directories'),
        problem('rofs.dirent-shared', 'directory entry 3 is listed by 2 directories'),
        problem('rofs.dirent-shared', 'directory entry 4 is listed by 2 directories'),
      ],
      // /d lists itself among its entries: visited once.
      ['/', '/a', '/d', '/d/b', '/d/c', '/d/a', '/d/l', '/l'],
    ],
    [
      'a directory listing up to the table end exactly',
      u64(inodeAt(3, 'count'), 5),
      [
        problem('rofs.dirent-shared', 'directory entry 2 is listed by 2 directories'),
        problem('rofs.dirent-shared', 'directory entry 3 is listed by 2 directories'),
        problem('rofs.dirent-shared', 'directory entry 4 is listed by 2 directories'),
      ],
      ['/', '/a', '/d', '/d/b', '/d/c', '/d/a', '/d/l', '/l'],
    ],
    ['two entries of one name', (b) => b.write('b', direntAt(1) + 10), [problem('rofs.dir-duplicate', 'inode 3 (directory) has two entries named "b"')], ['/', '/a', '/d', '/d/b', '/d/b', '/l']],
    ['file data in the superblock block', u64(inodeAt(2, 'offset'), 0), [problem('rofs.file-range', 'inode 2 (file) has data in the superblock block')], undefined],
    ['an empty file at block 0', u64(inodeAt(5, 'offset'), 0), [], undefined],
    ['file data ending exactly at the structure region', u64(inodeAt(4, 'count'), 1024), [], undefined],
    ['file data running into the structure region', u64(inodeAt(4, 'count'), 1025), [problem('rofs.file-range', 'inode 4 (file, 1025 bytes at block 2) extends past the data region (ends at block 4)')], undefined],
    ['an empty file past the structure region', u64(inodeAt(5, 'offset'), 5), [problem('rofs.file-range', 'inode 5 (file, 0 bytes at block 5) extends past the data region (ends at block 4)')], undefined],
    ['a symlink past the symlink table', u64(inodeAt(6, 'offset'), 1), [problem('rofs.symlink-range', 'inode 6 (symlink) refers to symlink 1; the table has 1')], undefined],
    ['a symlink count other than 1', u64(inodeAt(6, 'count'), 2), [problem('rofs.symlink-count', 'inode 6 (symlink) has count 2, expected 1')], undefined],
    ['an entry no directory lists', u64(inodeAt(1, 'count'), 2), [problem('rofs.dirent-orphan', 'directory entry 4 belongs to no directory')], ['/', '/a', '/d', '/d/b', '/d/c']],
    [
      'an entry naming inode 7 of 6',
      u64(direntAt(4), 7),
      [problem('rofs.dirent-inode', 'directory entry 4 (at byte 2092) names inode 7, outside 1..6'), problem('rofs.inode-unreachable', 'inode 6 is in no directory')],
      ['/', '/a', '/d', '/d/b', '/d/c'],
    ],
    [
      'an entry naming inode 0',
      u64(direntAt(2), 0),
      [problem('rofs.dirent-inode', 'directory entry 2 (at byte 2070) names inode 0, outside 1..6'), problem('rofs.inode-unreachable', 'inode 2 is in no directory')],
      ['/', '/d', '/d/b', '/d/c', '/l'],
    ],
    [
      'an entry naming the root',
      u64(direntAt(4), 1),
      [problem('rofs.root-linked', 'the root directory (inode 1) appears as a directory entry'), problem('rofs.inode-unreachable', 'inode 6 is in no directory')],
      ['/', '/a', '/d', '/d/b', '/d/c'],
    ],
    [
      'a directory in two entries',
      u64(direntAt(4), 3),
      [problem('rofs.dir-linked-twice', 'directory inode 3 appears in 2 directory entries'), problem('rofs.inode-unreachable', 'inode 6 is in no directory')],
      // Under both names (not a loop: a directory is entered only from where it is first listed).
      ['/', '/a', '/d', '/d/b', '/d/c', '/l', '/l/b', '/l/c'],
    ],
    ['a name "."', (b) => b.write('.', direntAt(0) + 10), [problem('rofs.dirent-name', 'directory entry 0 (at byte 2048) has an invalid name "."')], ['/', '/a', '/d', '/d/c', '/l']],
    ['a name "/"', (b) => b.write('/', direntAt(0) + 10), [problem('rofs.dirent-name', 'directory entry 0 (at byte 2048) has an invalid name "/"')], ['/', '/a', '/d', '/d/c', '/l']],
    ['a name with a NUL', (b) => (b[direntAt(0) + 10] = 0), [problem('rofs.dirent-name', 'directory entry 0 (at byte 2048) has an invalid name "\\u0000"')], ['/', '/a', '/d', '/d/c', '/l']],
    [
      'an empty name',
      // "l" removed: the tables after it move up a byte, as a writer would have put them.
      (b) => {
        b.copy(b, direntAt(4) + 10, direntAt(4) + 11, BASE + 250);
        b[BASE + 249] = 0;
        b.writeUInt16LE(0, direntAt(4) + 8);
      },
      [problem('rofs.dirent-name', 'directory entry 4 (at byte 2092) has an invalid name ""')],
      ['/', '/a', '/d', '/d/b', '/d/c'],
    ],
    ['a name that is not UTF-8', (b) => (b[direntAt(0) + 10] = 0xff), [problem('rofs.dirent-utf8', 'directory entry 0 (at byte 2048) has a name that is not UTF-8')], ['/', '/a', '/d', '/d/ÿ', '/d/c', '/l']],
  ])('%s', (_what, patch, problems, walked) => {
    const img = open(damaged(patch));
    expect(img.check()).toEqual(problems);
    expect(paths(img)).toEqual(walked ?? ['/', '/a', '/d', '/d/b', '/d/c', '/l']);
  });

  it('a symlink past its table reads as an empty target', () => {
    const img = open(damaged(u64(inodeAt(6, 'offset'), 1)));
    expect(img.lookup('/l')).toEqual({ path: '/l', ino: 6, kind: 'symlink', size: 0, target: '' });
  });

  it('a directory with an absurd offset has no children', () => {
    const img = open(damaged(u64(inodeAt(3, 'offset'), 2n ** 60n)));
    expect(img.children(img.inode(3)!)).toEqual([]);
    expect(img.children(img.inode(2)!)).toEqual([]); // a file has none either
    expect(img.lookup('/d/b')).toBeUndefined();
  });
});

describe('copyFile and extract', () => {
  it('copies a file whose data ends exactly at the end of the filesystem, and refuses one that runs past it', () => {
    const fd = fs.openSync(join(work, 'copy.out'), 'w');
    const whole = damaged(u64(inodeAt(4, 'count'), 1536));
    try {
      const exact = open(whole);
      expect(exact.copyFile('/d/b', fd)).toEqual({ ok: true, value: 1536 });
      const past = open(damaged(u64(inodeAt(4, 'count'), 1537)));
      const r = past.copyFile('/d/b', fd);
      expect(!r.ok && r.error.message).toBe('x.rofs: data of /d/b runs past the end of the filesystem (at byte 1024)');
      const dir = past.copyFile('/d', fd);
      expect(!dir.ok && dir.error.message).toBe('x.rofs: /d is a dir, not a file');
    } finally {
      fs.closeSync(fd);
    }
    expect(fs.readFileSync(join(work, 'copy.out')).equals(whole.subarray(1024, 2560))).toBe(true);
  });

  it('extracts a file larger than one 1 MiB piece byte for byte', async () => {
    const big = Buffer.alloc(2.5 * 2 ** 20);
    for (let i = 0; i < big.length; i += 4096) big.writeUInt32LE(i, i);
    const out = join(work, 'big.rofs');
    const w = await writeRofs([{ kind: 'file', guest: '/big', content: big, size: big.length }], out);
    if (!w.ok) throw w.error;
    const img = open(fs.readFileSync(out));
    const dest = join(work, 'big-out');
    expect(img.extract(dest)).toEqual({ ok: true, value: 2 });
    expect(fs.readFileSync(join(dest, 'big')).equals(big)).toBe(true);
  });

  it('refuses to write over a file that is already there, naming it', () => {
    const dest = join(work, 'taken');
    fs.mkdirSync(join(dest, 'd'), { recursive: true });
    fs.writeFileSync(join(dest, 'd', 'b'), 'mine');
    const r = open(image).extract(dest);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.code).toBe('image.extract-failed');
    expect(r.error.message).toBe(`cannot create ${join(dest, 'd', 'b')}: EEXIST`);
    expect(fs.readFileSync(join(dest, 'd', 'b'), 'utf8')).toBe('mine');
  });
});
