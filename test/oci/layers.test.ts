// Layers into the cache and the merged view over them, with layers written by a tar writer:
// whiteouts, opaque directories, hard links, absolute symlinks, and hostile members.

import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Digest } from '../../src/oci/digest.js';
import { expansionLimit, ingestLayer } from '../../src/oci/layer.js';
import { osvFailure as failure } from '../helpers/failure.js';
import { chunks, layerWorkspace } from '../helpers/layer-store.js';
import { gzip, sha256, tar, type TarEntry } from '../helpers/tar-writer.js';
import { hasTool } from '../helpers/tools.js';

if (!hasTool('zstd')) console.warn('skipped: zstd layers (read alike, a zstd bomb): zstd is not installed (it compresses them)');

const ws = layerWorkspace('osv-layers-');
afterAll(() => ws.cleanup());
const { ingest, merged } = ws;

describe('layers and the merged view', () => {
  it('applies whiteouts, opaque directories, hard links and keeps absolute symlinks', async () => {
    const fs = await merged([
      [
        { name: 'etc/', type: 'dir' },
        { name: 'etc/alternatives/', type: 'dir' },
        { name: 'usr/bin/python3.11', data: 'ELF-python', mode: 0o755 },
        { name: 'etc/alternatives/python', type: 'symlink', linkname: '/usr/bin/python3.11' },
        { name: 'usr/bin/py', type: 'symlink', linkname: '/etc/alternatives/python' },
        { name: 'opt/keep/a', data: 'a' },
        { name: 'opt/keep/b', data: 'b' },
        { name: 'opt/gone/c', data: 'c' },
        { name: 'var/cache/x', data: 'x' },
        { name: 'lib', type: 'symlink', linkname: 'usr/lib' },
        { name: 'usr/lib/libz.so.1', data: 'zlib' },
      ],
      [
        { name: 'opt/keep/.wh.a' },
        { name: 'opt/.wh.gone' },
        { name: 'var/cache/.wh..wh..opq' },
        { name: 'var/cache/y', data: 'new' },
        { name: 'usr/bin/python3', type: 'hardlink', linkname: 'usr/bin/python3.11' },
        // a whiteout and a member of the same name in one layer: the member stays
        { name: 'opt/keep/b', data: 'b2' },
        { name: 'opt/keep/.wh.b' },
      ],
    ]);
    expect(fs.readdir('/opt')).toEqual(['keep']);
    expect(fs.readdir('/opt/keep')).toEqual(['b']);
    expect(fs.readFile('/opt/keep/b').toString()).toBe('b2');
    expect(fs.readdir('/var/cache')).toEqual(['y']);
    expect(fs.readlink('/usr/bin/py')).toBe('/etc/alternatives/python');
    expect(fs.readFile('/usr/bin/py').toString()).toBe('ELF-python');
    expect(fs.stat('/usr/bin/python3')).toMatchObject({ kind: 'file', size: 10, mode: 0o755, ino: fs.stat('/usr/bin/python3.11')!.ino });
    expect(fs.readFile('/usr/bin/python3').toString()).toBe('ELF-python');
    // intermediate symlinks are followed inside the image
    expect(fs.readFile('/lib/libz.so.1').toString()).toBe('zlib');
    expect(fs.locate('/lib/libz.so.1')).toMatchObject({ layer: 0, path: '/usr/lib/libz.so.1' });
    expect(fs.locate('/usr/bin/python3')).toMatchObject({ layer: 0, path: '/usr/bin/python3' });
    // an absolute symlink restarts at the image's root, `..` stops there
    expect(fs.stat('/usr/../../../usr/lib/libz.so.1')?.kind).toBe('file');
    expect(fs.lstat('/nope')).toBeUndefined();
  });

  it('drops device nodes and set-id bits with a note', async () => {
    const { index } = await ingest(tar([
      { name: 'dev/null', type: 'char' },
      { name: 'fifo', type: 'fifo' },
      { name: 'usr/bin/su', data: 'x', mode: 0o4755 },
    ]));
    expect(index.entries.map((e) => e.path)).toEqual(['usr/bin/su']);
    expect(index.entries[0]!.mode).toBe(0o755);
    expect(index.notes).toEqual(['dropped the device node /dev/null', 'dropped the FIFO /fifo', 'cleared the set-id bits of /usr/bin/su']);
  });

  it('reads gzip, zstd and uncompressed layers alike, told by their first bytes', async () => {
    const raw = tar([{ name: 'a/b', data: 'hello' }], { end: false });
    const viaZstd = (b: Buffer): Buffer => execFileSync('zstd', ['-q', '-c'], { input: b });
    for (const compress of [gzip, (b: Buffer) => b, ...(hasTool('zstd') ? [viaZstd] : [])]) {
      const { index, file } = await ingest(raw, { compress });
      const e = index.entries[0]!;
      expect(e.path).toBe('a/b');
      expect(readdirSync(join(file, '..'))).toContain(sha256(raw).slice(7));
    }
  });

  it.runIf(hasTool('zstd'))('refuses a zstd decompression bomb without holding it in memory', async () => {
    // 2 GiB of zeros in 256 concatenated zstd frames (about 70 KiB), against an 8 MiB limit
    const frame = execFileSync('zstd', ['-q', '-c'], { input: Buffer.alloc(8 * 2 ** 20) });
    const bomb = Buffer.concat(Array.from({ length: 256 }, () => frame));
    const store = ws.store();
    const before = process.resourceUsage().maxRSS;
    const b = await failure(ingestLayer(chunks(bomb), { label: { image: 'i', index: 1, digest: sha256(bomb) as Digest }, size: bomb.length, diffId: sha256('x') as Digest, store, limit: 8 * 2 ** 20 }));
    expect(b.code).toBe('oci.layer-too-large');
    // the peak resident size grew by far less than the bomb (maxRSS is in KiB)
    expect((process.resourceUsage().maxRSS - before) / 1024).toBeLessThan(512);
    expect(readdirSync(join(store.root, 'tmp'))).toEqual([]);
  });

  it.each([
    ['an absolute name', [{ name: '/etc/passwd', data: 'x' }], /member "\/etc\/passwd": its name is absolute/],
    ['a .. name', [{ name: 'a/../../etc/passwd', data: 'x' }], /contains "\.\."/],
    ['a hard link out of the root', [{ name: 'x', type: 'hardlink', linkname: '../../etc/shadow' }] as TarEntry[], /hard link out of the root/],
    ['an absolute hard link', [{ name: 'x', type: 'hardlink', linkname: '/etc/shadow' }] as TarEntry[], /hard link out of the root/],
    ['a whiteout that escapes', [{ name: 'a/.wh...' }], /whiteout of "\.\."/],
    ['a whiteout of its own directory', [{ name: 'a/.wh..' }], /whiteout of "\."/],
    ['a bare .wh.', [{ name: 'a/.wh.' }], /whiteout of ""/],
  ])('refuses %s, naming the image, the layer and the member', async (_what, entries, message) => {
    const e = await failure(ingest(tar(entries as TarEntry[])));
    expect(e.code).toBe('oci.hostile-layer');
    expect(e.message).toMatch(/^test\/image:1, layer 1 \(sha256:[0-9a-f]{12}\): /);
    expect(e.message).toMatch(message);
  });

  it('refuses a member written through a symlink, in one layer or planted by a lower one', async () => {
    const one = await failure(merged([[{ name: 'evil', type: 'symlink', linkname: '/etc' }, { name: 'evil/passwd', data: 'root::0:0' }]]));
    expect(one.message).toMatch(/layer 1 .*member "evil\/passwd": its parent \/evil is a symlink/);
    const two = await failure(merged([[{ name: 'evil', type: 'symlink', linkname: '../../..' }], [{ name: 'evil/x', data: 'x' }]]));
    expect(two.message).toMatch(/layer 2 .*member "evil\/x": its parent \/evil is a symlink/);
    const wh = await failure(merged([[{ name: 'evil', type: 'symlink', linkname: '/etc' }], [{ name: 'evil/.wh.passwd' }]]));
    expect(wh.message).toMatch(/layer 2 .*its parent \/evil is a symlink/);
    const hl = await failure(merged([[{ name: 'd/', type: 'dir' }, { name: 'x', type: 'hardlink', linkname: 'd' }]]));
    expect(hl.message).toMatch(/hard link to "d", which is a directory/);
    const missing = await failure(merged([[{ name: 'x', type: 'hardlink', linkname: 'nowhere' }]]));
    expect(missing.message).toMatch(/which is in no layer up to this one/);
  });

  it('refuses a corrupt or truncated gzip stream, a digest or diff_id mismatch, and a decompression bomb; leaves nothing in the cache', async () => {
    const raw = tar([{ name: 'a', data: 'x'.repeat(100_000) }]);
    const gz = gzip(raw);
    const truncated = await failure(ingest(raw, { blob: gz.subarray(0, gz.length - 100) }));
    expect(truncated.message).toMatch(/gzip stream is (corrupt or )?truncated/);
    const corrupt = Buffer.from(gz);
    corrupt[gz.length >> 1] = corrupt[gz.length >> 1]! ^ 0xff;
    expect((await failure(ingest(raw, { blob: corrupt }))).code).toMatch(/oci\.(bad-layer|diffid-mismatch)/);
    const store = ws.store();
    const wrongDiff = await failure(ingest(raw, { diffId: sha256('other'), store }));
    expect(wrongDiff.code).toBe('oci.diffid-mismatch');
    expect(readdirSync(join(store.root, 'tmp'))).toEqual([]);
    expect(() => readdirSync(join(store.root, 'blobs'))).toThrow();
    // the label's digest is that of the blob; a different blob under it is refused
    const other = gzip(tar([{ name: 'b' }]));
    const e = await failure(ingestLayer(chunks(other), { label: { image: 'i', index: 1, digest: sha256(gz) as Digest }, size: other.length, diffId: sha256(raw) as Digest, store }));
    expect(e.code).toBe('oci.digest-mismatch');
    // 24 MiB of zeros in a 24 KiB blob, against an 8 MiB limit (the default policy is tested below)
    const bomb = gzip(tar([{ name: 'zeros', data: Buffer.alloc(24 * 2 ** 20) }]));
    const b = await failure(ingestLayer(chunks(bomb), { label: { image: 'i', index: 1, digest: sha256(bomb) as Digest }, size: bomb.length, diffId: sha256('x') as Digest, store, limit: 8 * 2 ** 20 }));
    expect(b.code).toBe('oci.layer-too-large');
    expect(b.message).toMatch(/decompression bomb/);
    expect(readdirSync(join(store.root, 'tmp'))).toEqual([]);
    expect(expansionLimit(1000)).toBe(256 * 2 ** 20);
    expect(expansionLimit(10 * 2 ** 20)).toBe(2000 * 2 ** 20);
  });
});
