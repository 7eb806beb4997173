import * as fs from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeRofs } from '../../src/image/rofs/writer.js';
import { layoutRofs } from '../../src/image/rofs/layout.js';
import { RofsImage, openRofsFile } from '../../src/image/rofs/reader.js';
import { bufferSource } from '../../src/image/source.js';
import { OsvError } from '../../src/diagnostics/error.js';
import type { ImageEntry } from '../../src/image/entries.js';
import { expectRofsHolds, hostFile, manifestEntries, pattern, tempDir } from './helpers.js';

const FIXTURE = '/work/shared/fixtures/rofs';
const haveFixture = fs.existsSync(join(FIXTURE, 'small.rofs'));
if (!haveFixture) console.warn(`skipped: ROFS test vector not found at ${FIXTURE}`);

const work = tempDir('rofs');
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

function openFile(path: string): RofsImage {
  const r = openRofsFile(path);
  if (!r.ok) throw r.error;
  return r.value.rofs;
}

async function build(entries: ImageEntry[], name: string, order: 'sorted' | 'given' = 'sorted'): Promise<string> {
  const out = join(work, name);
  const r = await writeRofs(entries, out, { order });
  if (!r.ok) throw r.error;
  expect(fs.statSync(out).size).toBe(r.value.bytes);
  return out;
}

describe.skipIf(!haveFixture)('the ROFS test vector (gen-rofs-img.py output)', () => {
  it('is reproduced byte for byte from the manifest entries in manifest order', async () => {
    const entries = manifestEntries(FIXTURE, 'small.manifest');
    const out = await build(entries, 'small.rofs', 'given');
    expect(fs.readFileSync(out).equals(fs.readFileSync(join(FIXTURE, 'small.rofs')))).toBe(true);
  });

  it('reads back to exactly the tree of small.manifest', () => {
    const img = openFile(join(FIXTURE, 'small.rofs'));
    expect(img.superblock).toMatchObject({ structureFirstBlock: 143, structureBlocks: 2, dirEntries: 15, symlinks: 2, inodes: 16 });
    expectRofsHolds(img, manifestEntries(FIXTURE, 'small.manifest'));
    expect(img.lookup('/usr/lib/libfoo.so')).toMatchObject({ kind: 'symlink', target: 'big.bin' });
    expect(img.lookup('/etc/empty')).toMatchObject({ kind: 'file', size: 0, block: 2 });
  });

  it('matches the table dump in expected.txt', () => {
    const img = openFile(join(FIXTURE, 'small.rofs'));
    const text = fs.readFileSync(join(FIXTURE, 'expected.txt'), 'utf8');
    const inodeLines = text.split('inodes: number mode data_offset count\n')[1]!.split('\nstructure')[0]!.trim().split('\n');
    expect(inodeLines.map((l) => l.trim().split(/\s+/).map(Number))).toEqual(
      img.inodes.map((i) => [i.ino, i.mode, i.dataOffset, i.count]),
    );
    expect(text).toContain(`structure bytes: ${img.structureBytes}`);
  });
});

describe('ROFS writer and reader round trip', () => {
  it('handles empty files, empty dirs, symlinks, non-ASCII names and inline content', async () => {
    const root = join(work, 'mixed');
    const entries: ImageEntry[] = [
      hostFile(root, '/empty', ''),
      hostFile(root, '/one-block', pattern(512, 1)),
      hostFile(root, '/block-plus-one', pattern(513, 2)),
      hostFile(root, '/café/naïve-日本語.txt', 'unicode\n'),
      { kind: 'dir', guest: '/data' },
      { kind: 'dir', guest: '/usr/share/empty' },
      { kind: 'symlink', guest: '/etc/mnttab', target: '/proc/mounts' },
      { kind: 'symlink', guest: '/lib/ü-link', target: '../café/naïve-日本語.txt' },
      { kind: 'file', guest: '/etc/hosts', content: Buffer.from('127.0.0.1 localhost\n'), size: 20 },
      hostFile(root, '/etc/empty-too', ''),
    ];
    const img = openFile(await build(entries, 'mixed.rofs'));
    expectRofsHolds(img, entries);
    // Name lengths are UTF-8 byte lengths (gen-rofs-img counts characters and corrupts these).
    const cafe = img.dirents.find((d) => d.name.toString() === 'café')!;
    expect(cafe.name.length).toBe(5);
  });

  it('ends the structure region exactly on a 512-byte boundary: one extra zero block, not counted', async () => {
    // 8 empty files with 18-byte names: 8 × (10 + 18) + 9 inodes × 32 = 512 structure bytes.
    const root = join(work, 'exact');
    const entries = Array.from({ length: 8 }, (_, i) => hostFile(root, `/empty-file-name-${i}x`, ''));
    const layout = layoutRofs(entries);
    if (!layout.ok) throw layout.error;
    expect(layout.value.structure.length).toBe(512);
    const out = await build(entries, 'exact.rofs');
    expect(fs.statSync(out).size).toBe(1536);
    const img = openFile(out);
    expect(img.superblock).toMatchObject({ structureFirstBlock: 1, structureBlocks: 1 });
    expectRofsHolds(img, entries);
  });

  it('handles a deep tree and thousands of small files', async () => {
    const root = join(work, 'many');
    const deep = '/' + Array.from({ length: 120 }, (_, i) => `d${i}`).join('/');
    const entries: ImageEntry[] = [hostFile(root, `${deep}/leaf`, 'deep\n')];
    for (let i = 0; i < 2000; i++) entries.push(hostFile(root, `/many/${i % 37}/f${i}.py`, `print(${i})\n`));
    const img = openFile(await build(entries, 'many.rofs'));
    expectRofsHolds(img, entries);
  });

  it('streams a large sparse file through the writer in chunks', async () => {
    const host = join(work, 'large.bin');
    const size = 50 * 1024 * 1024 + 7;
    const fd = fs.openSync(host, 'w');
    fs.ftruncateSync(fd, size);
    for (const at of [0, 12345678, size - 4096]) fs.writeSync(fd, pattern(4096, at), 0, 4096, at);
    fs.closeSync(fd);
    const entries: ImageEntry[] = [{ kind: 'file', guest: '/big/large.bin', host, size }];
    let calls = 0;
    let last = 0;
    const out = join(work, 'large.rofs');
    const r = await writeRofs(entries, out, { onProgress: (done, total) => ((calls += 1), (last = done), expect(done).toBeLessThanOrEqual(total)) });
    if (!r.ok) throw r.error;
    expect(calls).toBeGreaterThan(3);
    expect(last).toBe(r.value.bytes);
    const img = openFile(out);
    const node = img.lookup('/big/large.bin')!;
    expect(node.size).toBe(size);
    const copy = join(work, 'large.copy');
    const cfd = fs.openSync(copy, 'w');
    const c = img.copyFile(node, cfd);
    fs.closeSync(cfd);
    expect(c.ok).toBe(true);
    expect(fs.readFileSync(copy).equals(fs.readFileSync(host))).toBe(true);
    fs.rmSync(copy);
  });

  it('is deterministic: sorted output does not depend on entry order', async () => {
    const root = join(work, 'det');
    const entries = ['/b/x', '/a', '/a-c/y', '/b/a', '/Z'].map((g, i) => hostFile(root, g, pattern(700 + i, i)));
    const one = fs.readFileSync(await build(entries, 'det1.rofs'));
    const two = fs.readFileSync(await build([...entries].reverse(), 'det2.rofs'));
    expect(one.equals(two)).toBe(true);
    expect(openFile(join(work, 'det1.rofs')).walk().map((n) => n.path)).toEqual(['/', '/Z', '/a', '/a-c', '/a-c/y', '/b', '/b/a', '/b/x']);
  });

  it('extracts the tree to a host directory', async () => {
    const root = join(work, 'extract');
    const entries: ImageEntry[] = [
      hostFile(root, '/bin/prog', pattern(3000, 9)),
      { kind: 'symlink', guest: '/bin/alias', target: 'prog' },
      { kind: 'dir', guest: '/tmp' },
    ];
    const img = openFile(await build(entries, 'extract.rofs'));
    const dest = join(work, 'extracted');
    const r = img.extract(dest);
    expect(r).toEqual({ ok: true, value: 5 });
    expect(fs.readFileSync(join(dest, 'bin/prog')).equals(pattern(3000, 9))).toBe(true);
    expect(fs.readlinkSync(join(dest, 'bin/alias'))).toBe('prog');
    expect(fs.statSync(join(dest, 'tmp')).isDirectory()).toBe(true);
  });
});

describe('ROFS writer errors', () => {
  const root = join(work, 'errors');

  it.each([
    [[{ kind: 'dir', guest: 'relative' }], /must be absolute/],
    [[{ kind: 'dir', guest: '/a/../b' }], /"\.\." component/],
    [[{ kind: 'symlink', guest: '/x', target: 'a' }, { kind: 'dir', guest: '/x' }], /appears twice/],
    [[{ kind: 'symlink', guest: '/x', target: 'a' }, { kind: 'dir', guest: '/x/y' }], /is a symlink, not a directory/],
    [[{ kind: 'symlink', guest: '/x', target: 'a' }, { kind: 'symlink', guest: '/x', target: 'b' }], /different contents/],
  ] as Array<[ImageEntry[], RegExp]>)('rejects bad entry lists with a named path (%#)', async (entries, message) => {
    const r = await writeRofs(entries, join(work, 'bad.rofs'));
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error).toBeInstanceOf(OsvError);
      expect(r.error.code).toBe('image.bad-entry');
      expect(r.error.message).toMatch(message);
    }
    expect(fs.existsSync(join(work, 'bad.rofs'))).toBe(false);
  });

  it('fails on a vanished or changed host file and keeps the previous image', async () => {
    const good = hostFile(root, '/good', 'good');
    const out = await build([good], 'keep.rofs');
    const before = fs.readFileSync(out);
    const gone: ImageEntry = { kind: 'file', guest: '/gone', host: join(root, 'nope'), size: 3 };
    const r1 = await writeRofs([good, gone], out);
    expect(!r1.ok && r1.error.code).toBe('image.input-unreadable');
    expect(!r1.ok && r1.error.message).toContain('/gone');
    const grown = hostFile(root, '/grown', 'abc');
    fs.appendFileSync((grown as { host: string }).host, 'more');
    const r2 = await writeRofs([good, grown], out);
    expect(!r2.ok && r2.error.code).toBe('image.input-changed');
    expect(fs.readFileSync(out).equals(before)).toBe(true);
    expect(fs.readdirSync(work).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });

  it('says that a /proc source is a pseudo file, not that it changed (issue #20)', async () => {
    const cpuinfo: ImageEntry = { kind: 'file', guest: '/cpuinfo', host: '/proc/cpuinfo', size: fs.statSync('/proc/cpuinfo').size };
    const r = await writeRofs([cpuinfo], join(work, 'proc.rofs'));
    expect(!r.ok && r.error.code).toBe('image.pseudo-file');
    expect(!r.ok && r.error.message).toContain('/proc/cpuinfo (for /cpuinfo) is a file of /proc');
    expect(!r.ok && r.error.hint).toContain('copy it to a regular file first');
  });
});

describe('ROFS reader on damaged images', () => {
  function tryEverything(buf: Buffer): void {
    const r = RofsImage.open(bufferSource(buf, 'damaged.rofs'));
    if (!r.ok) {
      expect(r.error).toBeInstanceOf(OsvError);
      return;
    }
    const img = r.value;
    img.check();
    for (const n of img.walk()) if (n.kind === 'file') img.readFile(n); // Results, never throws
    img.lookup('/etc/hosts');
  }

  it.runIf(haveFixture)('reports typed errors for truncation, bad magic and absurd counts', () => {
    const good = fs.readFileSync(join(FIXTURE, 'small.rofs'));
    const cases: Array<[Buffer, RegExp]> = [
      [good.subarray(0, 100), /too small/],
      [good.subarray(0, 70000), /past the end of the filesystem/],
      [Buffer.concat([Buffer.from([0, 0, 0, 0]), good.subarray(4)]), /not a ROFS/],
    ];
    const counts = Buffer.from(good);
    counts.writeBigUInt64LE(1n << 40n, 56); // inodes_count
    cases.push([counts, /cannot fit/]);
    const version = Buffer.from(good);
    version.writeUInt8(2, 8);
    cases.push([version, /version 2/]);
    for (const [buf, message] of cases) {
      const r = RofsImage.open(bufferSource(buf, 'damaged.rofs'));
      expect(r.ok).toBe(false);
      if (!r.ok) {
        expect(r.error.code).toBe('image.corrupt');
        expect(r.error.message).toMatch(message);
        expect(r.error.message).toContain('damaged.rofs');
      }
    }
  });

  it.runIf(haveFixture)('finds out-of-range references with check() instead of crashing', () => {
    const buf = Buffer.from(fs.readFileSync(join(FIXTURE, 'small.rofs')));
    const F = 143 * 512;
    const inodeTable = F + 778 - 16 * 32;
    buf.writeBigUInt64LE(99999n, inodeTable + 9 * 32 + 16); // inode 10 (big.bin): data_offset far away
    buf.writeBigUInt64LE(50n, inodeTable + 1 * 32 + 24); // inode 2 (etc): 50 children
    buf.writeBigUInt64LE(77n, F); // first dir entry: inode 77
    const img = RofsImage.open(bufferSource(buf, 'x.rofs'));
    if (!img.ok) throw img.error;
    const codes = img.value.check().map((p) => p.code);
    expect(codes).toEqual(expect.arrayContaining(['rofs.file-range', 'rofs.dir-range', 'rofs.dirent-inode']));
    const big = img.value.lookup('/usr/lib/big.bin')!;
    const read = img.value.readFile(big);
    expect(!read.ok && read.error.code).toBe('image.corrupt');
  });

  it.runIf(haveFixture)('never throws anything but OsvError under random byte damage', () => {
    const good = fs.readFileSync(join(FIXTURE, 'small.rofs'));
    const noise = pattern(4 * 1500, 77);
    const structure = 143 * 512;
    for (let i = 0; i < 1500; i++) {
      const buf = Buffer.from(good);
      const pick = noise.readUInt32LE(i * 4);
      // Mostly hit the tables and superblock, where the interesting damage is.
      const at = pick % 4 === 0 ? pick % 64 : structure + (pick % 778);
      buf[at] = (pick >>> 16) & 0xff;
      if (pick % 3 === 0) buf[(at + 8) % buf.length] = 0xff;
      tryEverything(buf);
    }
  });
});
