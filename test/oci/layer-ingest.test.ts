// One layer into the content cache (src/oci/layer.ts): what its index says of each member, every
// refusal with its message in full (they name the image, the layer and the member), damaged
// gzip and zstd streams, blobs that do not match their manifest, the expansion limit, and
// layers written by the real tar, gzip and zstd.

import { execFileSync } from 'node:child_process';
import { existsSync, linkSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Digest } from '../../src/oci/digest.js';
import { ingestLayer, readLayerIndex, sniff, type LayerEntry } from '../../src/oci/layer.js';
import { MergedFs } from '../../src/oci/merged-fs.js';
import { osvFailure as failure } from '../helpers/failure.js';
import { chunks, layerWorkspace } from '../helpers/layer-store.js';
import { gzip, sha256, tar, type TarEntry } from '../helpers/tar-writer.js';
import { hasTool } from '../helpers/tools.js';

const zstdOk = hasTool('zstd');
if (!zstdOk) console.warn('skipped: the zstd stream tests (truncated, garbage, a bomb read no further than needed, real zstd layers): zstd is not installed (it compresses them)');
const tarOk = hasTool('tar') && hasTool('gzip');
if (!tarOk) console.warn('skipped: layers written by the real tar and gzip: tar or gzip is not installed');

const ws = layerWorkspace('osv-layer-ingest-');
afterAll(() => ws.cleanup());

const zstd = (b: Buffer): Buffer => execFileSync('zstd', ['-q', '-c'], { input: b });
const hostileHint = 'the image was built to attack the extractor, or is broken; nothing was written outside the cache';
const damagedHint = 'the layer is damaged; pull again, or rebuild the image';
const transitHint = 'the blob was damaged in transit or in the registry: pull again, or re-push the image';
/** How a message about layer 3 of registry.test/app:2 starts. */
const about = (digest: string): string => `registry.test/app:2, layer 3 (${digest.slice(0, 19)}): `;
const label = { image: 'registry.test/app:2', index: 3 };

/** The files of a store's tmp/ and whether it has a blobs/ directory: what a failure leaves. */
const leftovers = (root: string): { tmp: string[]; blobs: boolean } => ({ tmp: existsSync(join(root, 'tmp')) ? readdirSync(join(root, 'tmp')) : [], blobs: existsSync(join(root, 'blobs')) });

/** A damaged stream is refused with the decoder's reason, and leaves nothing behind. */
async function expectDamaged(raw: Buffer, blob: Buffer, stream: string, why: string): Promise<void> {
  const store = ws.store();
  const e = await failure(ws.ingest(raw, { blob, store, label }));
  expect(e.code).toBe('oci.bad-layer');
  expect(e.message).toBe(`${about(sha256(blob))}its ${stream} stream is corrupt or truncated (${why})`);
  expect(e.hint).toBe(damagedHint);
  expect(leftovers(store.root)).toEqual({ tmp: [], blobs: false });
}

const entry = (e: Partial<LayerEntry> & Pick<LayerEntry, 'path' | 'kind'>): LayerEntry => ({ mode: 0, size: 0, offset: 0, link: '', mtimeMs: 1_700_000_000_000, ...e });

describe('a layer into the cache', () => {
  it('indexes every member, normalized, with its kind, mode, size, data offset, link and mtime', async () => {
    const raw = tar([
      { name: './', type: 'dir' },
      { name: './usr//bin/', type: 'dir', mode: 0o750, mtime: 1_700_000_123 },
      { name: 'usr/bin/tool', data: 'hello', mode: 0o700 },
      { name: 'usr/bin/link', type: 'symlink', linkname: '../lib/./x' },
      { name: 'usr/bin/hard', type: 'hardlink', linkname: './usr/bin//tool' },
      { name: '.wh.gone' },
      { name: 'etc/.wh..wh..opq' },
      { name: '.wh..wh..opq' },
      { name: 'etc/sub/.wh.x' },
      { name: 'dev/sda', type: 'block' },
      { name: 'usr/bin/dup', data: 'one', mtime: 1_600_000_000 },
      { name: 'usr/bin/dup', data: 'two' },
      { name: 'tmp/', type: 'dir', mode: 0o1777 },
    ]);
    const { index, store, file } = await ws.ingest(raw);
    expect(index.entries).toEqual([
      entry({ path: 'usr/bin', kind: 'dir', mode: 0o750, mtimeMs: 1_700_000_123_000 }),
      entry({ path: 'usr/bin/tool', kind: 'file', mode: 0o700, size: 5, offset: 1536 }),
      entry({ path: 'usr/bin/link', kind: 'symlink', mode: 0o644, link: '../lib/./x' }),
      entry({ path: 'usr/bin/hard', kind: 'hardlink', mode: 0o644, link: 'usr/bin/tool' }),
      entry({ path: 'gone', kind: 'whiteout' }),
      entry({ path: 'etc', kind: 'opaque' }),
      entry({ path: '', kind: 'opaque' }),
      entry({ path: 'etc/sub/x', kind: 'whiteout' }),
      entry({ path: 'usr/bin/dup', kind: 'file', mode: 0o644, size: 3, offset: 6144, mtimeMs: 1_600_000_000_000 }),
      entry({ path: 'usr/bin/dup', kind: 'file', mode: 0o644, size: 3, offset: 7168 }),
      entry({ path: 'tmp', kind: 'dir', mode: 0o1777 }),
    ]);
    expect(index.notes).toEqual(['dropped the device node /dev/sda']);
    expect(index).toMatchObject({ version: 1, diffId: sha256(raw), size: raw.length });
    // the uncompressed layer is what the offsets point into; the index is kept beside it
    expect(readFileSync(file).equals(raw)).toBe(true);
    expect(readFileSync(file).subarray(1536, 1541).toString()).toBe('hello');
    expect(readLayerIndex(store, sha256(raw) as Digest)).toEqual(index);
    expect(readdirSync(join(store.root, 'tmp'))).toEqual([]);
  });

  it('drops char and block devices and FIFOs, clears set-uid and set-gid bits but keeps the sticky bit, and notes nothing else', async () => {
    const { index } = await ws.ingest(tar([
      { name: 'dev/tty', type: 'char' },
      { name: 'dev/sda', type: 'block' },
      { name: 'run/fifo', type: 'fifo' },
      { name: 'bin/su', data: 'x', mode: 0o4755 },
      { name: 'bin/wall', data: 'x', mode: 0o2711 },
      { name: 'tmp/', type: 'dir', mode: 0o1777 },
    ]));
    expect(index.entries.map((e) => [e.path, e.mode])).toEqual([['bin/su', 0o755], ['bin/wall', 0o711], ['tmp', 0o1777]]);
    expect(index.notes).toEqual(['dropped the device node /dev/tty', 'dropped the device node /dev/sda', 'dropped the FIFO /run/fifo', 'cleared the set-id bits of /bin/su', 'cleared the set-id bits of /bin/wall']);
    const plain = await ws.ingest(tar([{ name: 'a', data: 'x', mode: 0o755 }, { name: 'd/', type: 'dir' }]));
    expect(plain.index.notes).toEqual([]);
  });

  it.each<[string, TarEntry[], string]>([
    ['an absolute name', [{ name: '/etc/passwd', data: 'x' }], 'member "/etc/passwd": its name is absolute ("/etc/passwd"): layer members must be relative to the root'],
    ['a name with ..', [{ name: 'a/../../etc/passwd', data: 'x' }], 'member "a/../../etc/passwd": its name contains ".." ("a/../../etc/passwd"): it would leave the root'],
    ['a name that is only ..', [{ name: 'ok', data: 'x' }, { name: '..', type: 'dir' }], 'member "..": its name contains ".." (".."): it would leave the root'],
    ['a hard link out of the root', [{ name: 'x', type: 'hardlink', linkname: '../../etc/shadow' }], 'member "x": it is a hard link out of the root: its hard-link target contains ".." ("../../etc/shadow"): it would leave the root'],
    ['an absolute hard link', [{ name: 'x', type: 'hardlink', linkname: '/etc/shadow' }], 'member "x": it is a hard link out of the root: its hard-link target is absolute ("/etc/shadow"): layer members must be relative to the root'],
    ['a hard link to the root', [{ name: 'x', type: 'hardlink', linkname: './' }], 'member "x": it is a hard link to the root'],
    ['a hard link to itself', [{ name: 'a/x', type: 'hardlink', linkname: './a//x' }], 'member "a/x": it is a hard link to itself'],
    ['a symlink without a target', [{ name: 's', type: 'symlink', linkname: '' }], 'member "s": it is a symlink with an empty target'],
    ['a whiteout that escapes', [{ name: 'a/.wh...' }], 'member "a/.wh...": it is a whiteout of "..", which would escape its directory'],
    ['a whiteout of its own directory', [{ name: 'a/.wh..' }], 'member "a/.wh..": it is a whiteout of ".", which would escape its directory'],
    ['a bare .wh. at the top', [{ name: '.wh.' }], 'member ".wh.": it is a whiteout of "", which would escape its directory'],
  ])('refuses %s, naming the image, the layer and the member', async (_what, entries, message) => {
    const store = ws.store();
    const blob = gzip(tar(entries));
    const e = await failure(ws.ingest(tar(entries), { blob, store, label }));
    expect(e.code).toBe('oci.hostile-layer');
    expect(e.message).toBe(about(sha256(blob)) + message);
    expect(e.hint).toBe(hostileHint);
    expect(e.exitCode).toBe(1);
    expect(leftovers(store.root)).toEqual({ tmp: [], blobs: false });
  });

  it('refuses a name longer than PATH_MAX as a damaged tar archive, naming the member before it', async () => {
    const raw = tar([{ name: 'ok', data: 'x' }, { name: `${'d/'.repeat(2100)}f`, data: 'y' }]);
    const e = await failure(ws.ingest(raw, { compress: (b) => b, label }));
    expect(e.code).toBe('oci.bad-layer');
    // the offset is the tar parser's to tell (where the long name's header is)
    expect(e.message.startsWith(`${about(sha256(raw))}not a valid tar archive at byte `)).toBe(true);
    expect(e.message).toMatch(/ at byte \d+ \(after member "ok"\): a name longer than 4096 bytes$/);
    expect(e.hint).toBe(damagedHint);
  });

  it('refuses what is not a tar archive, or one cut inside a member, saying where', async () => {
    const junk = Buffer.from('this is not a tar archive; '.repeat(40));
    const notTar = await failure(ws.ingest(junk, { compress: (b) => b, label }));
    expect(notTar.code).toBe('oci.bad-layer');
    expect(notTar.message.startsWith(`${about(sha256(junk))}not a valid tar archive at byte 0: `)).toBe(true);
    expect(notTar.hint).toBe(damagedHint);
    const cut = tar([{ name: 'a', data: 'x'.repeat(3000) }]).subarray(0, 1000);
    const truncated = await failure(ws.ingest(cut, { compress: (b) => b, label }));
    expect(truncated.message.startsWith(`${about(sha256(cut))}not a valid tar archive at byte 1000 (after member "a"): `)).toBe(true);
  });

  it('refuses a truncated or garbled gzip stream with zlib\'s reason, and leaves nothing behind', async () => {
    const raw = tar([{ name: 'a', data: 'x'.repeat(100_000) }]);
    const gz = gzip(raw);
    const cases: Array<[Buffer, string]> = [
      [gz.subarray(0, gz.length - 100), 'unexpected end of file'],
      [gz.subarray(0, 2), 'unexpected end of file'],
      [Buffer.concat([gz.subarray(0, 10), Buffer.alloc(100, 0xff)]), 'invalid block type'],
    ];
    for (const [blob, why] of cases) await expectDamaged(raw, blob, 'gzip', why);
  });

  it.runIf(zstdOk)('refuses a truncated or garbled zstd stream with the decoder\'s reason, and leaves nothing behind', async () => {
    const raw = tar([{ name: 'a', data: 'x'.repeat(100_000) }, { name: 'b', data: Buffer.from(Array.from({ length: 50_000 }, (_, i) => (i * 7919) & 255)) }]);
    const zs = zstd(raw);
    const cases: Array<[Buffer, string]> = [
      [zs.subarray(0, zs.length - 10), 'unexpected EOF'],
      [zs.subarray(0, zs.length >> 1), 'unexpected EOF'],
      [zs.subarray(0, 4), 'unexpected EOF'],
      [Buffer.concat([zs.subarray(0, 4), Buffer.alloc(64, 0xff)]), 'invalid zstd data'],
    ];
    for (const [blob, why] of cases) await expectDamaged(raw, blob, 'zstd', why);
  });

  it('reports a failing download as such, not as a damaged layer, whatever the compression', async () => {
    const raw = tar([{ name: 'a', data: 'x'.repeat(10_000) }]);
    const failing = (head: Buffer, err: unknown) =>
      async function* (): AsyncGenerator<Buffer> {
        yield head;
        throw err;
      };
    const reset = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
    const heads: Array<[string, Buffer]> = [['none', raw.subarray(0, 600)], ['gzip', gzip(raw).subarray(0, 20)], ...(zstdOk ? [['zstd', zstd(raw).subarray(0, 20)] as [string, Buffer]] : [])];
    for (const [compression, head] of heads) {
      for (const [err, said] of [
        [reset, 'read ECONNRESET'],
        [new Error('socket hang up'), 'socket hang up'],
        ['the connection closed', 'the connection closed'],
      ] as const) {
        const store = ws.store();
        const digest = sha256('blob') as Digest;
        const e = await failure(ingestLayer(failing(head, err)(), { label: { ...label, digest }, size: 1_000_000, diffId: sha256(raw) as Digest, store }));
        expect(e.code, `${compression}: ${said}`).toBe('oci.pull-failed');
        expect(e.message).toBe(`${about(digest)}reading the layer failed: ${said}`);
        expect(e.hint).toBeUndefined();
        expect(leftovers(store.root)).toEqual({ tmp: [], blobs: false });
      }
    }
  });

  it('refuses a blob longer or shorter than its manifest says, or with another digest or diff_id', async () => {
    const raw = tar([{ name: 'a', data: 'x'.repeat(1000) }]);
    const blob = gzip(raw);
    const diffId = sha256(raw) as Digest;
    const digest = sha256(blob) as Digest;
    const run = async (o: { size?: number; digest?: string; diffId?: string }) => {
      const store = ws.store();
      const e = await failure(ingestLayer(chunks(blob), { label: { ...label, digest: (o.digest ?? digest) as Digest }, size: o.size ?? blob.length, diffId: (o.diffId ?? diffId) as Digest, store }));
      expect(leftovers(store.root)).toEqual({ tmp: [], blobs: false });
      return e;
    };
    const longer = await run({ size: blob.length - 1 });
    expect([longer.code, longer.message, longer.hint]).toEqual(['oci.blob-mismatch', `${about(digest)}the blob is larger than the ${blob.length - 1} bytes its manifest says`, 'the registry or the image is damaged; pull again, or re-push the image']);
    const shorter = await run({ size: blob.length + 1 });
    expect([shorter.code, shorter.message, shorter.hint]).toEqual(['oci.blob-mismatch', `${about(digest)}the blob has ${blob.length} bytes, its manifest says ${blob.length + 1}`, transitHint]);
    const named = sha256('another blob');
    const other = await run({ digest: named });
    expect([other.code, other.message, other.hint]).toEqual(['oci.digest-mismatch', `${about(named)}the blob's sha256 is ${digest}, not the digest its manifest names`, transitHint]);
    const wrongDiff = sha256('another layer');
    const diff = await run({ diffId: wrongDiff });
    expect([diff.code, diff.message, diff.hint]).toEqual(['oci.diffid-mismatch', `${about(digest)}the uncompressed layer's sha256 is ${diffId}, not its diff_id ${wrongDiff} in the image config`, transitHint]);
  });

  it('reports the compressed bytes received as they come, and reads a blob in chunks of any size', async () => {
    const raw = tar([{ name: 'a/b', data: 'y'.repeat(5000) }, { name: 'c', data: 'z' }]);
    for (const compress of [gzip, (b: Buffer) => b, ...(zstdOk ? [zstd] : [])]) {
      const seen: number[] = [];
      const blob = compress(raw);
      const { index, file } = await ws.ingest(raw, { blob, chunkSize: 100, more: { onBytes: (n) => void seen.push(n) } });
      expect(seen).toEqual(Array.from({ length: Math.ceil(blob.length / 100) }, (_, i) => Math.min((i + 1) * 100, blob.length)));
      expect(index.entries.map((e) => [e.path, e.size])).toEqual([['a/b', 5000], ['c', 1]]);
      expect(readFileSync(file).equals(raw)).toBe(true);
    }
  });

  it('takes a layer of exactly the limit, refuses one byte more as a bomb', async () => {
    const raw = tar([{ name: 'a', data: 'x' }]); // 2 KiB, given uncompressed
    const exact = await ws.ingest(raw, { compress: (b) => b, more: { limit: raw.length } });
    expect(exact.index.size).toBe(2048);
    expect((await failure(ws.ingest(raw, { compress: (b) => b, more: { limit: raw.length - 1 } }))).code).toBe('oci.layer-too-large');
    const store = ws.store();
    const e = await failure(ws.ingest(raw, { compress: (b) => b, store, label, more: { limit: 1000 } }));
    expect(e.code).toBe('oci.layer-too-large');
    expect(e.message).toBe(`${about(sha256(raw))}it expands past 1000 B from 2.0 KiB compressed: refused as a decompression bomb`);
    expect(e.hint).toBe('a layer may grow to 200 times its compressed size (at least 256 MiB)');
    expect(leftovers(store.root)).toEqual({ tmp: [], blobs: false });
  });

  it.runIf(zstdOk)('stops reading a zstd bomb once it has expanded past the limit', async () => {
    // 16 frames of 8 MiB of zeros, a frame a chunk, against an 8 MiB limit
    const frame = zstd(Buffer.alloc(8 * 2 ** 20));
    let pulled = 0;
    async function* blob(): AsyncGenerator<Buffer> {
      for (let i = 0; i < 16; i++) {
        pulled++;
        yield frame;
      }
    }
    const size = frame.length * 16;
    const e = await failure(ingestLayer(blob(), { label: { ...label, digest: sha256('bomb') as Digest }, size, diffId: sha256('x') as Digest, store: ws.store(), limit: 8 * 2 ** 20 }));
    expect(e.code).toBe('oci.layer-too-large');
    expect(pulled).toBeLessThanOrEqual(2);
  });

  it('stops when the pull is interrupted', async () => {
    const ac = new AbortController();
    ac.abort();
    const store = ws.store();
    const e = await failure(ws.ingest(tar([{ name: 'a', data: 'x' }]), { store, more: { signal: ac.signal } }));
    expect([e.code, e.message, e.hint, e.exitCode]).toEqual(['oci.interrupted', 'the pull was interrupted', undefined, 130]);
    expect(leftovers(store.root)).toEqual({ tmp: [], blobs: false });
  });

  it('tells the compression by the first bytes only', () => {
    expect(sniff(Buffer.from([0x1f, 0x8b, 0x08]))).toBe('gzip');
    expect(sniff(Buffer.from([0x1f, 0x00]))).toBe('none');
    expect(sniff(Buffer.from([0x00, 0x8b]))).toBe('none');
    expect(sniff(Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x04]))).toBe('zstd');
    for (const notZstd of [[0x00, 0xb5, 0x2f, 0xfd], [0x28, 0x00, 0x2f, 0xfd], [0x28, 0xb5, 0x00, 0xfd], [0x28, 0xb5, 0x2f, 0x00]]) expect(sniff(Buffer.from(notZstd))).toBe('none');
    expect(sniff(Buffer.alloc(0))).toBe('none');
    expect(sniff(Buffer.from('usr/bin/'))).toBe('none');
  });

  it('gives back a cached layer\'s index only when it is whole and its blob is there', async () => {
    const raw = tar([{ name: 'a', data: 'x' }]);
    const diffId = sha256(raw) as Digest;
    const { store, index } = await ws.ingest(raw);
    expect(readLayerIndex(store, diffId)).toEqual(index);
    expect(readLayerIndex(store, sha256('other') as Digest)).toBeUndefined();
    const at = store.indexPath(diffId);
    const good = readFileSync(at, 'utf8');
    for (const damaged of [{ ...index, version: 2 }, { ...index, diffId: sha256('other') }, { ...index, entries: {} }]) {
      writeFileSync(at, JSON.stringify(damaged));
      expect(readLayerIndex(store, diffId)).toBeUndefined();
    }
    writeFileSync(at, good.slice(0, 20));
    expect(readLayerIndex(store, diffId)).toBeUndefined();
    writeFileSync(at, good);
    expect(readLayerIndex(store, diffId)).toEqual(index);
    rmSync(store.blobPath(diffId));
    expect(readLayerIndex(store, diffId)).toBeUndefined();
  });
});

describe('layers written by the real tar, gzip and zstd', () => {
  it.runIf(tarOk)('reads back files, directories, symlinks and hard links through the merged view', async () => {
    const src = mkdtempSync(join(tmpdir(), 'osv-layer-src-'));
    try {
      mkdirSync(join(src, 'usr/lib'), { recursive: true });
      mkdirSync(join(src, 'etc'));
      const big = Buffer.from(Array.from({ length: 70_000 }, (_, i) => (i * 31) & 255));
      writeFileSync(join(src, 'usr/lib/libbig.so'), big);
      writeFileSync(join(src, 'etc/hostname'), 'osv\n');
      symlinkSync('../usr/lib/libbig.so', join(src, 'etc/big'));
      linkSync(join(src, 'etc/hostname'), join(src, 'etc/hostname.bak'));
      utimesSync(join(src, 'etc/hostname'), 1_650_000_000, 1_650_000_000);
      const raw = execFileSync('tar', ['-C', src, '--sort=name', '--owner=0', '--group=0', '--numeric-owner', '-cf', '-', '.']);
      const compressors: Array<[string, (b: Buffer) => Buffer]> = [['gzip', (b) => execFileSync('gzip', ['-c', '-n'], { input: b })], ['none', (b) => b], ...(zstdOk ? [['zstd', zstd] as [string, (b: Buffer) => Buffer]] : [])];
      for (const [, compress] of compressors) {
        const { index, file, label: l } = await ws.ingest(raw, { compress, chunkSize: 4096 });
        expect(index.entries.map((e) => `${e.kind} ${e.path}`)).toEqual(['dir etc', 'symlink etc/big', 'file etc/hostname', 'hardlink etc/hostname.bak', 'dir usr', 'dir usr/lib', 'file usr/lib/libbig.so']);
        const fs = MergedFs.merge([{ label: l, index, file }]);
        expect(fs.readFile('/etc/big').equals(big)).toBe(true);
        expect(fs.readFile('/etc/hostname.bak').toString()).toBe('osv\n');
        expect(fs.stat('/etc/hostname')).toMatchObject({ kind: 'file', size: 4, mtimeMs: 1_650_000_000_000 });
        expect(fs.stat('/etc/hostname.bak')!.ino).toBe(fs.stat('/etc/hostname')!.ino);
        expect(fs.readlink('/etc/big')).toBe('../usr/lib/libbig.so');
        expect(fs.readdir('/')).toEqual(['etc', 'usr']);
      }
    } finally {
      rmSync(src, { recursive: true, force: true });
    }
  });
});
