// The merged view over an image's layers (src/oci/merged-fs.ts), as `from:` reads it: lookups at
// each depth, symlinks followed inside the image root (absolute targets, `..` stopped at the root,
// loops), whiteouts and opaque directories across layers, a file replacing a directory and back,
// hard links, listings in byte order, stat fields, and file contents read from the right layer at
// the right offset. Members that would be written through a symlink or a file are refused, with
// the message in full.

import { readdirSync, truncateSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { MergedFs } from '../../src/oci/merged-fs.js';
import { osvFailure as failure } from '../helpers/failure.js';
import { layerWorkspace } from '../helpers/layer-store.js';
import { tar, type TarEntry } from '../helpers/tar-writer.js';

const ws = layerWorkspace('osv-merged-fs-');
afterAll(() => ws.cleanup());

/** The code and message of what `f` throws. */
function thrown(f: () => unknown): { code: string; message: string } {
  try {
    f();
  } catch (e) {
    return { code: (e as { code: string }).code, message: (e as Error).message };
  }
  throw new Error('expected a throw');
}

/** Why merging these layers is refused: code, message and hint. */
async function refusal(layers: TarEntry[][]): Promise<{ code: string; message: string; hint: string | undefined; digests: string[] }> {
  const inputs = await ws.inputs(layers.map((l) => tar(l)));
  const e = await failure(Promise.resolve().then(() => MergedFs.merge(inputs)));
  return { code: e.code, message: e.message, hint: e.hint, digests: inputs.map((i) => i.label.digest.slice(0, 19)) };
}
const hostileHint = 'the image was built to attack the extractor, or is broken; nothing was written outside the cache';

/** Every path under `dir` (lstat, not following symlinks). */
function walk(fs: MergedFs, dir = '/'): string[] {
  return fs.readdir(dir).flatMap((name) => {
    const p = dir === '/' ? `/${name}` : `${dir}/${name}`;
    return fs.lstat(p)!.kind === 'dir' ? [p, ...walk(fs, p)] : [p];
  });
}

const openFds = (): number => readdirSync('/proc/self/fd').length;

describe('lookups and symlinks', () => {
  const t1 = 1_700_000_100;
  const layer: TarEntry[] = [
    { name: 'usr/', type: 'dir', mtime: t1 },
    { name: 'usr/bin/', type: 'dir', mode: 0o711 },
    { name: 'usr/bin/python3.11', data: 'ELF-python', mode: 0o755, mtime: t1 + 1 },
    { name: 'usr/bin/python3', type: 'symlink', linkname: 'python3.11', mtime: t1 + 2 },
    { name: 'usr/bin/py', type: 'symlink', linkname: './python3' },
    { name: 'usr/lib/x86_64/libc.so.6', data: 'libc', mode: 0o644 },
    { name: 'usr/lib/up', type: 'symlink', linkname: '../../../../usr/bin' },
    { name: 'lib', type: 'symlink', linkname: 'usr/lib' },
    { name: 'lib64', type: 'symlink', linkname: '/usr/lib/x86_64' },
    { name: 'etc/hosts', data: '127.0.0.1 localhost\n', mode: 0o600 },
    { name: 'loop-a', type: 'symlink', linkname: 'loop-b' },
    { name: 'loop-b', type: 'symlink', linkname: '/loop-a' },
    { name: 'self', type: 'symlink', linkname: 'self' },
    { name: 'dangling', type: 'symlink', linkname: '/nowhere/at/all' },
  ];
  let fs: MergedFs;
  const ready = ws.merged([layer]).then((m) => (fs = m));

  it('gives the root, directories, files and symlinks at each depth with their stat fields', async () => {
    await ready;
    expect(fs.stat('/')).toEqual({ kind: 'dir', size: 0, mtimeMs: 0, ctimeMs: 0, ino: 1, dev: 0, mode: 0o755 });
    expect(fs.lstat('/')).toEqual(fs.stat('/'));
    expect(fs.stat('/usr')).toMatchObject({ kind: 'dir', mode: 0o755, mtimeMs: t1 * 1000, size: 0 });
    expect(fs.stat('/usr/bin')).toMatchObject({ kind: 'dir', mode: 0o711 });
    // a parent the layer left out is made, 0755, at time 0
    expect(fs.stat('/usr/lib/x86_64')).toMatchObject({ kind: 'dir', mode: 0o755, mtimeMs: 0 });
    const py = fs.stat('/usr/bin/python3.11')!;
    expect(py).toEqual({ kind: 'file', size: 10, mtimeMs: (t1 + 1) * 1000, ctimeMs: (t1 + 1) * 1000, ino: py.ino, dev: 0, mode: 0o755 });
    expect(fs.stat('/etc/hosts')).toMatchObject({ kind: 'file', size: 20, mode: 0o600 });
    // a symlink: lstat is the link (its size is its target's length), stat what it leads to
    expect(fs.lstat('/usr/bin/python3')).toEqual({ kind: 'symlink', size: 10, mtimeMs: (t1 + 2) * 1000, ctimeMs: (t1 + 2) * 1000, ino: fs.lstat('/usr/bin/python3')!.ino, dev: 0, mode: 0o777 });
    expect(fs.stat('/usr/bin/python3')).toEqual(py);
    expect(fs.stat('/usr/bin/py')).toEqual(py);
    expect(fs.readlink('/usr/bin/py')).toBe('./python3');
    expect(fs.readlink('/lib64')).toBe('/usr/lib/x86_64');
    expect(fs.lstat('/lib64')!.kind).toBe('symlink');
    expect(fs.stat('/lib64')!.kind).toBe('dir');
  });

  it('follows symlinks in the middle of a path even for lstat, and `.`, `..` and absolute targets inside the image root', async () => {
    await ready;
    expect(fs.lstat('/lib/x86_64/libc.so.6')).toMatchObject({ kind: 'file', size: 4 });
    expect(fs.locate('/lib64/libc.so.6')).toMatchObject({ layer: 0, path: '/usr/lib/x86_64/libc.so.6', size: 4 });
    expect(fs.locate('/lib/up/python3')).toMatchObject({ path: '/usr/bin/python3.11' });
    expect(fs.locate('/usr/lib/up/py')).toMatchObject({ path: '/usr/bin/python3.11' });
    expect(fs.locate('/usr/./bin/../bin/./python3.11')).toMatchObject({ path: '/usr/bin/python3.11' });
    expect(fs.locate('/../../usr//bin/python3.11')).toMatchObject({ path: '/usr/bin/python3.11' });
    expect(fs.readFile('/lib/up/py').toString()).toBe('ELF-python');
    expect(fs.readdir('/lib')).toEqual(['up', 'x86_64']);
    expect(fs.readdir('/lib/up/..')).toEqual(['bin', 'lib']);
    expect(fs.readdir('/usr/bin/')).toEqual(['py', 'python3', 'python3.11']);
  });

  it('says what is missing, not a directory, not a symlink or a loop', async () => {
    await ready;
    for (const p of ['/nope', '/usr/nope', '/etc/hosts/x', '/dangling', '/loop-a', '/self', '/loop-a/x']) {
      expect(fs.stat(p), p).toBeUndefined();
      expect(fs.locate(p), p).toBeUndefined();
    }
    expect(fs.lstat('/etc/hosts/x')).toBeUndefined();
    expect(fs.lstat('/dangling')!.kind).toBe('symlink');
    expect(fs.lstat('/self')!.kind).toBe('symlink');
    expect(thrown(() => fs.readlink('/nope'))).toEqual({ code: 'ENOENT', message: 'no such file or directory: /nope' });
    expect(thrown(() => fs.readlink('/etc/hosts/x'))).toEqual({ code: 'ENOTDIR', message: 'not a directory: /etc/hosts/x' });
    expect(thrown(() => fs.readlink('/etc/hosts'))).toEqual({ code: 'EINVAL', message: 'not a symlink: /etc/hosts' });
    expect(thrown(() => fs.readlink('/usr'))).toEqual({ code: 'EINVAL', message: 'not a symlink: /usr' });
    expect(thrown(() => fs.readdir('/etc/hosts'))).toEqual({ code: 'ENOTDIR', message: 'not a directory: /etc/hosts' });
    expect(thrown(() => fs.readdir('/usr/bin/python3'))).toEqual({ code: 'ENOTDIR', message: 'not a directory: /usr/bin/python3' });
    expect(thrown(() => fs.readdir('/loop-a'))).toEqual({ code: 'ELOOP', message: 'too many symlinks: /loop-a' });
    expect(thrown(() => fs.readdir('/self/x'))).toEqual({ code: 'ELOOP', message: 'too many symlinks: /self/x' });
    expect(thrown(() => fs.open('/usr'))).toEqual({ code: 'EISDIR', message: 'not a regular file: /usr' });
    expect(thrown(() => fs.open('/lib64'))).toEqual({ code: 'EISDIR', message: 'not a regular file: /lib64' });
    expect(thrown(() => fs.open('/nope'))).toEqual({ code: 'ENOENT', message: 'no such file: /nope' });
    expect(thrown(() => fs.readFile('/dangling'))).toEqual({ code: 'ENOENT', message: 'no such file: /dangling' });
    expect(fs.locate('/usr')).toBeUndefined();
  });

  it('follows 40 symlinks in a row, not 41', async () => {
    // s1 -> f, s2 -> s1, ... : resolving sN follows N links
    const links: TarEntry[] = Array.from({ length: 41 }, (_, i) => ({ name: `s${i + 1}`, type: 'symlink', linkname: i === 0 ? 'f' : `/s${i}` }));
    const m = await ws.merged([[{ name: 'f', data: 'end' }, ...links]]);
    expect(m.readFile('/s40').toString()).toBe('end');
    expect(m.stat('/s41')).toBeUndefined();
    expect(thrown(() => m.readdir('/s41'))).toEqual({ code: 'ELOOP', message: 'too many symlinks: /s41' });
  });

  it('gives every node its own inode number, the root 1, a hard link its target\'s', async () => {
    const m = await ws.merged([
      [{ name: 'a/b/c', data: 'x' }, { name: 'a/d/', type: 'dir' }, { name: 'a/l', type: 'symlink', linkname: 'b' }, { name: 'e', data: 'y' }, { name: 'f/g/', type: 'dir' }],
      [{ name: 'h/i/j', data: 'z' }, { name: 'k', type: 'symlink', linkname: 'e' }, { name: 'a/hard', type: 'hardlink', linkname: 'a/b/c' }, { name: 'm/', type: 'dir' }],
    ]);
    const paths = walk(m).filter((p) => p !== '/a/hard');
    expect(paths).toEqual(['/a', '/a/b', '/a/b/c', '/a/d', '/a/l', '/e', '/f', '/f/g', '/h', '/h/i', '/h/i/j', '/k', '/m']);
    const inos = ['/', ...paths].map((p) => m.lstat(p)!.ino);
    expect(inos[0]).toBe(1);
    expect(new Set(inos).size).toBe(inos.length);
    expect(inos.every((i) => i >= 1)).toBe(true);
    expect(m.lstat('/a/hard')!.ino).toBe(m.lstat('/a/b/c')!.ino);
  });

  it('lists a directory in byte order (UTF-8), whatever the order in the layer', async () => {
    const names = ['b', '\u{1F600}', 'B', '\uFFFD', 'a', '_', '\u00e9', 'a0', '1'];
    const m = await ws.merged([names.map((name) => ({ name: `d/${name}`, data: name }))]);
    expect(m.readdir('/d')).toEqual(['1', 'B', '_', 'a', 'a0', 'b', '\u00e9', '\uFFFD', '\u{1F600}']);
  });
});

describe('layers over layers', () => {
  it('hides with whiteouts and opaque markers only what lower layers wrote, and ignores those with nothing to hide', async () => {
    const m = await ws.merged([
      [
        { name: 'a/x', data: 'x' },
        { name: 'a/y', data: 'y' },
        { name: 'c/', type: 'dir', mode: 0o700 },
        { name: 'c/old', data: 'old' },
        { name: 'c/sub/deep', data: 'deep' },
        { name: 'f', data: 'a file' },
        { name: 'b/z', data: 'z' },
        { name: 'd/inner', data: 'inner' },
        { name: 'g', data: 'g' },
      ],
      [
        { name: 'a/.wh.x' },
        { name: 'a/.wh.missing' },
        { name: 'nodir/deeper/.wh.q' },
        { name: 'nodir2/.wh..wh..opq' },
        { name: 'c/.wh..wh..opq' },
        { name: 'ghost/.wh..wh..opq' },
        { name: 'f/.wh..wh..opq' },
        { name: 'f/', type: 'dir' },
        { name: 'f/new', data: 'new' },
        { name: 'd', data: 'now a file' },
        { name: 'b/', type: 'dir', mode: 0o750, mtime: 1_700_000_999 },
        { name: 'g/', type: 'dir' },
        { name: 'g/.wh..wh..opq' },
      ],
    ]);
    expect(m.readdir('/')).toEqual(['a', 'b', 'c', 'd', 'f', 'g']);
    expect(m.readdir('/a')).toEqual(['y']);
    expect(m.readdir('/c')).toEqual([]);
    expect(m.stat('/c')).toMatchObject({ kind: 'dir', mode: 0o700 });
    expect(m.readdir('/f')).toEqual(['new']);
    expect(m.readFile('/d').toString()).toBe('now a file');
    expect(m.locate('/d')).toMatchObject({ layer: 1 });
    // a directory over a directory changes its mode and time, and keeps what it holds
    expect(m.readdir('/b')).toEqual(['z']);
    expect(m.stat('/b')).toMatchObject({ kind: 'dir', mode: 0o750, mtimeMs: 1_700_000_999_000 });
    expect(m.readdir('/g')).toEqual([]);
  });

  it('empties the root with a top-level opaque marker, keeping the layer\'s own members', async () => {
    const m = await ws.merged([
      [{ name: 'old/a', data: 'a' }, { name: 'top', data: 't' }],
      [{ name: 'fresh', data: 'f' }, { name: '.wh..wh..opq' }, { name: 'old/b', data: 'b' }],
    ]);
    expect(m.readdir('/')).toEqual(['fresh', 'old']);
    expect(m.readdir('/old')).toEqual(['b']);
  });

  it('applies members in order: the last of one name wins, a whiteout in the same layer hides nothing of it', async () => {
    const m = await ws.merged([
      [{ name: 'keep', data: 'lower' }],
      [
        { name: 'dup', data: 'one' },
        { name: 'dup', data: 'two' },
        { name: 'n/', type: 'dir' },
        { name: 'n', data: 'file after dir' },
        { name: 'o', data: 'dir after file' },
        { name: 'o/', type: 'dir' },
        { name: 'keep', data: 'upper' },
        { name: '.wh.keep' },
      ],
    ]);
    expect(m.readFile('/dup').toString()).toBe('two');
    expect(m.stat('/n')!.kind).toBe('file');
    expect(m.stat('/o')!.kind).toBe('dir');
    expect(m.readFile('/keep').toString()).toBe('upper');
  });

  it('links a hard link to a file of a lower layer or earlier in its own, with the same bytes and mode', async () => {
    const m = await ws.merged([
      [{ name: 'bin/busybox', data: 'BUSYBOX', mode: 0o750 }],
      [{ name: 'pad', data: 'p'.repeat(600) }, { name: 'bin/sh', type: 'hardlink', linkname: 'bin/busybox' }, { name: 'own', data: 'own' }, { name: 'own2', type: 'hardlink', linkname: 'own' }],
    ]);
    expect(m.stat('/bin/sh')).toMatchObject({ kind: 'file', size: 7, mode: 0o750 });
    expect(m.locate('/bin/sh')).toMatchObject({ layer: 0, path: '/bin/sh', offset: 512 });
    expect(m.readFile('/bin/sh').toString()).toBe('BUSYBOX');
    expect(m.readFile('/own2').toString()).toBe('own');
    expect(m.locate('/own2')).toMatchObject({ layer: 1 });
  });

  it.each<[string, TarEntry[][], number, string]>([
    ['a hard link to a member later in its layer', [[{ name: 'early', type: 'hardlink', linkname: 'later' }, { name: 'later', data: 'x' }]], 1, 'member "early": it is a hard link to "later", which is in no layer up to this one'],
    ['a hard link to a file its layer whites out', [[{ name: 'f', data: 'x' }], [{ name: 'l', type: 'hardlink', linkname: 'f' }, { name: '.wh.f' }]], 2, 'member "l": it is a hard link to "f", which is in no layer up to this one'],
    ['a hard link into a missing directory', [[{ name: 'x', type: 'hardlink', linkname: 'no/such/file' }]], 1, 'member "x": it is a hard link to "no/such/file", which is in no layer up to this one'],
    ['a hard link to a symlink', [[{ name: 's', type: 'symlink', linkname: 'f' }, { name: 'f', data: 'x' }, { name: 'x', type: 'hardlink', linkname: 's' }]], 1, 'member "x": it is a hard link to "s", which is a symlink, not a file'],
    ['a hard link to a directory', [[{ name: 'd/', type: 'dir' }], [{ name: 'x', type: 'hardlink', linkname: 'd' }]], 2, 'member "x": it is a hard link to "d", which is a directory, not a file'],
    ['a hard link through a symlink', [[{ name: 'lnk', type: 'symlink', linkname: '/etc' }], [{ name: 'x', type: 'hardlink', linkname: 'lnk/shadow' }]], 2, 'member "x": its hard-link target "lnk/shadow": its parent /lnk is a symlink (to "/etc"): writing through it is refused'],
    ['a member through a deeper symlink', [[{ name: 'a/b', type: 'symlink', linkname: 'x' }], [{ name: 'a/b/c/d', data: 'x' }]], 2, 'member "a/b/c/d": its parent /a/b is a symlink (to "x"): writing through it is refused'],
    ['a member under a file', [[{ name: 'f', data: 'x' }], [{ name: 'f/x', data: 'y' }]], 2, 'member "f/x": its parent /f is a file, not a directory'],
    ['a member under a file deeper down', [[{ name: 'a/f', data: 'x' }, { name: 'a/f/g/h', data: 'y' }]], 1, 'member "a/f/g/h": its parent /a/f is a file, not a directory'],
    ['a whiteout under a file', [[{ name: 'f', data: 'x' }], [{ name: 'f/.wh.x' }]], 2, 'member "f/x": its parent /f is a file, not a directory'],
    ['a whiteout through a symlink', [[{ name: 'evil', type: 'symlink', linkname: '/etc' }], [{ name: 'evil/.wh.passwd' }]], 2, 'member "evil/passwd": its parent /evil is a symlink (to "/etc"): writing through it is refused'],
    ['an opaque marker in a symlink', [[{ name: 'a', type: 'symlink', linkname: '/etc' }], [{ name: 'a/.wh..wh..opq' }]], 2, 'member "a/.wh..wh..opq": its directory /a is a symlink: an opaque marker there would hide what the link points to'],
    ['an opaque marker under a symlink', [[{ name: 'a', type: 'symlink', linkname: '/etc' }], [{ name: 'a/b/.wh..wh..opq' }]], 2, 'member "a/b/.wh..wh..opq": its parent /a is a symlink (to "/etc"): writing through it is refused'],
  ])('refuses %s, naming the image, the layer and the member', async (_what, layers, at, message) => {
    const r = await refusal(layers);
    expect(r.code).toBe('oci.hostile-layer');
    expect(r.message).toBe(`test/image:1, layer ${at} (${r.digests[at - 1]}): ${message}`);
    expect(r.hint).toBe(hostileHint);
  });
});

describe('file contents', () => {
  it('reads each file from its own layer at its own offset, any range of it', async () => {
    const inputs = await ws.inputs([
      tar([{ name: 'a', data: 'lower-a' }, { name: 'digits', data: 'xxxx' }]),
      tar([{ name: 'pad', data: 'p'.repeat(700) }, { name: 'digits', data: '0123456789' }]),
      tar([{ name: 'a', data: 'upper-a' }]),
    ]);
    const m = MergedFs.merge(inputs);
    expect(m.locate('/digits')).toEqual({ layer: 1, path: '/digits', file: inputs[1]!.file, offset: 2048, size: 10, mtimeMs: 1_700_000_000_000 });
    expect(m.readFile('/a').toString()).toBe('upper-a');
    expect(m.locate('/a')).toMatchObject({ layer: 2, file: inputs[2]!.file, offset: 512 });
    expect(m.readFile('/digits').toString()).toBe('0123456789');
    expect(m.readRange('/digits', 3, 4).toString()).toBe('3456');
    expect(m.readRange('/digits', 0, 1).toString()).toBe('0');
    expect(m.readRange('/digits', 8, 10).toString()).toBe('89');
    expect(m.readRange('/digits', 10, 5).length).toBe(0);
    expect(m.readRange('/digits', 12, 5).length).toBe(0);
    const f = m.open('/digits');
    expect([f.path, f.size]).toEqual(['/digits', 10]);
    expect(f.read(9, 1).toString()).toBe('9');
    expect(f.read(2, 3).toString()).toBe('234');
    f.close();
    f.close(); // twice is harmless
    expect(() => f.read(0, 1)).toThrow(new Error('read after close: /digits'));
  });

  it.runIf(process.platform === 'linux')('closes what it opens', async () => {
    const m = await ws.merged([[{ name: 'f', data: 'data' }]]);
    const before = openFds();
    for (let i = 0; i < 5; i++) {
      m.readFile('/f');
      m.readRange('/f', 1, 2);
      m.open('/f').close();
    }
    expect(openFds()).toBe(before);
  });

  it('reads short, without hanging, from a cached layer cut short', async () => {
    const inputs = await ws.inputs([tar([{ name: 'big', data: 'b'.repeat(5000) }])]);
    const m = MergedFs.merge(inputs);
    truncateSync(inputs[0]!.file, 512 + 100);
    expect(m.readFile('/big').toString()).toBe('b'.repeat(100));
    expect(m.readRange('/big', 50, 100).toString()).toBe('b'.repeat(50));
  });
});
