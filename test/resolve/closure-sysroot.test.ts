// The resolver over the files of a sysroot as the kernel and ld.so see them: symlink chains
// up to Linux's limit, paths spelled with "." and "//", the sysroot's own spelling, its
// ld.so.cache (written by ldconfig -r for each sysroot, rewritten, corrupt, unreadable, or of
// AArch64 libraries), a link that cannot be read, and the work done once per resolution.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as C from '../../src/elf/constants.js';
import { nodeHostFs, type HostFs } from '../../src/hostfs.js';
import { hostManifest, type HostManifestOptions } from '../../src/resolve/host-manifest.js';
import { resolveClosure } from '../../src/resolve/index.js';
import type { Closure, ResolveOptions, ResolveRoot, ResolvedObject } from '../../src/resolve/types.js';
import type { OsvError } from '../../src/diagnostics/error.js';
import { lacks } from '../helpers/skip.js';
import { pie, put, trees } from './tree.js';

const t = trees('osv-closure-sysroot-');
beforeAll(t.open);
afterAll(t.close);
const sysroot = t.sysroot;
const opts = (root: string, over: Partial<ResolveOptions> = {}): ResolveOptions => ({ arch: 'x86_64', sysroot: root, libraryPath: [], hiddenSymbols: false, ...over });
function resolve(root: string, roots: ResolveRoot[], over: Partial<ResolveOptions> = {}, fs: HostFs = nodeHostFs): Closure {
  const r = resolveClosure(roots, opts(root, over), fs);
  if (!r.ok) throw new Error(`${r.error.code}: ${r.error.message}`);
  return r.value;
}
function failure(root: string, roots: ResolveRoot[], over: Partial<ResolveOptions> = {}): OsvError {
  const r = resolveClosure(roots, opts(root, over), nodeHostFs);
  if (r.ok) throw new Error('resolved, where an error was expected');
  return r.error;
}
const get = (c: Closure, soname: string): ResolvedObject | undefined => c.objects.find((o) => o.soname === soname);
const errno = (code: string, p: string): Error => Object.assign(new Error(`${code}: ${p}`), { code });

describe('paths inside a sysroot', () => {
  it('follows a chain of 40 symlinks and not of 41, as the kernel does', () => {
    const root = sysroot('chain');
    const lib = put(root, 'real/libk.so.1', { soname: 'libk.so.1' });
    mkdirSync(join(root, 'links'));
    for (let i = 0; i < 41; i++) symlinkSync(i === 0 ? '/real/libk.so.1' : `l${i - 1}`, join(root, 'links', `l${i}`));
    mkdirSync(join(root, 'opt/forty'), { recursive: true });
    mkdirSync(join(root, 'opt/forty-one'), { recursive: true });
    symlinkSync('/links/l38', join(root, 'opt/forty/libk.so.1')); // this link and l38..l0: 40
    symlinkSync('/links/l39', join(root, 'opt/forty-one/libk.so.1')); // 41
    put(root, 'app/prog', { ...pie, needed: ['libk.so.1'], runpath: '/opt/forty' });
    put(root, 'app/too-far', { ...pie, needed: ['libk.so.1'], runpath: '/opt/forty-one' });
    expect(get(resolve(root, [{ path: '/app/prog' }]), 'libk.so.1')).toMatchObject({ path: '/opt/forty/libk.so.1', hostPath: lib });
    expect(resolve(root, [{ path: '/app/too-far' }]).missing.map((m) => m.soname)).toEqual(['libk.so.1']);
    // The kernel agrees, with the sysroot at "/" (the links' targets made relative to it).
    const host = sysroot('chain-host');
    writeFileSync(join(host, 'f'), 'x');
    for (let i = 0; i < 41; i++) symlinkSync(i === 0 ? 'f' : `l${i - 1}`, join(host, `l${i}`));
    expect([existsSync(join(host, 'l39')), existsSync(join(host, 'l40'))]).toEqual([true, false]);
  });

  it('a library found through a path spelled with "." and "//" has its canonical host file, and is one object', () => {
    const root = sysroot('spelled');
    const lib = put(root, 'opt/x/y/libs.so.1', { soname: 'libs.so.1' });
    put(root, 'app/prog', { ...pie, needed: ['libs.so.1', 'libt.so.1'], rpath: '/opt/./x//y' });
    put(root, 'opt/x/y/libt.so.1', { soname: 'libt.so.1', needed: ['/opt/x/y/libs.so.1'] });
    const c = resolve(root, [{ path: '/app/prog' }]);
    expect(get(c, 'libs.so.1')).toMatchObject({ path: '/opt/./x//y/libs.so.1', hostPath: lib, requestedAs: ['libs.so.1', '/opt/x/y/libs.so.1'] });
    expect(c.objects.filter((o) => o.soname === 'libs.so.1')).toHaveLength(1);
  });

  it('a sysroot spelled with trailing slashes, or "//", is the same directory', () => {
    const root = sysroot('slashes');
    const prog = put(root, 'app/prog', pie);
    expect(resolve(root + '//', [{ path: '/app/prog' }]).objects[0]!.hostPath).toBe(prog);
    expect(resolve('//', [{ path: prog }]).objects[0]!.hostPath).toBe(prog);
    expect(failure('//', [{ path: join(root, 'none') }]).hint).toBe('check the path');
  });

  it('osv resolve from inside the sysroot: "." is its top; a sibling directory that merely starts with its name is outside', () => {
    const root = sysroot('tree');
    put(root, 'app/prog', pie);
    const sibling = sysroot('tree-sibling');
    put(sibling, 'prog', pie);
    const o = (cwd: string): HostManifestOptions => ({ library: false, recursive: false, realPrefix: false, ignoreMissing: false, sysroot: root, arch: 'x86_64', libraryPath: [], hiddenSymbols: false, kernelFilter: true, optional: [], cwd, pathEnv: '' });
    for (const dot of ['.', './']) {
      const top = hostManifest(dot, undefined, o(root), nodeHostFs);
      expect(top.ok ? top.value.mode : top.error.code).toBe('directory');
    }
    const out = hostManifest('./prog', undefined, o(sibling), nodeHostFs);
    expect(out.ok ? out.value.mode : out.error).toMatchObject({ code: 'resolve.outside-sysroot', message: `${sibling}/prog is not inside the sysroot ${root}` });
  });

  it('a symlink that cannot be read is absent, and the search goes on', () => {
    const root = sysroot('unreadable-link');
    const lib = put(root, 'opt/b/libz.so.1', { soname: 'libz.so.1' });
    mkdirSync(join(root, 'opt/a'));
    symlinkSync('../b/libz.so.1', join(root, 'opt/a/libz.so.1'));
    put(root, 'app/prog', { ...pie, needed: ['libz.so.1'], rpath: '/opt/a:/opt/b' });
    const bad = join(root, 'opt/a/libz.so.1');
    const fs: HostFs = {
      ...nodeHostFs,
      readlink: (p) => {
        if (p === bad) throw errno('EACCES', p);
        return nodeHostFs.readlink(p);
      },
    };
    expect(get(resolve(root, [{ path: '/app/prog' }], {}, fs), 'libz.so.1')).toMatchObject({ path: '/opt/b/libz.so.1', hostPath: lib, tried: ['/opt/a/libz.so.1'] });
  });

  it('looks each path up once, reads each file once and closes it, in one resolution', () => {
    const root = sysroot('once');
    mkdirSync(join(root, 'lib/x86_64-linux-gnu'), { recursive: true });
    put(root, 'app/prog', { ...pie, needed: ['liba.so.1', 'libb.so.1', 'libc.so.6'] });
    put(root, 'usr/lib/liba.so.1', { soname: 'liba.so.1', needed: ['libb.so.1', 'libnone.so.1'] });
    put(root, 'usr/lib/libb.so.1', { soname: 'libb.so.1', needed: ['libnone.so.2', 'libw.so.1', 'libw-compat.so'] });
    // An AArch64 libw.so.1 reached by two names: passed over twice, read once.
    put(root, 'usr/lib/libw.so.1', { machine: C.EM_AARCH64, soname: 'libw.so.1' });
    symlinkSync('libw.so.1', join(root, 'usr/lib/libw-compat.so'));
    const lstats = new Map<string, number>();
    const stats = new Map<string, number>();
    let open = 0;
    let closed = 0;
    const count = (m: Map<string, number>, p: string): void => void m.set(p, (m.get(p) ?? 0) + 1);
    const fs: HostFs = {
      ...nodeHostFs,
      lstat: (p) => (count(lstats, p), nodeHostFs.lstat(p)),
      stat: (p) => (count(stats, p), nodeHostFs.stat(p)),
      open: (p) => {
        const h = nodeHostFs.open(p);
        open++;
        return Object.assign(Object.create(h) as typeof h, { close: () => (closed++, h.close()) });
      },
    };
    const c = resolve(root, [{ path: '/app/prog' }], {}, fs);
    expect(c.missing.map((m) => m.soname)).toEqual(['libnone.so.1', 'libnone.so.2', 'libw.so.1', 'libw-compat.so']);
    expect([...lstats].filter(([, n]) => n > 1)).toEqual([]);
    expect([...stats].filter(([, n]) => n > 1)).toEqual([]);
    expect([open, closed]).toEqual([4, 4]);
  });
});

const isRoot = process.getuid?.() === 0;
const hasLdconfig = spawnSync('ldconfig', ['--version']).status === 0;

describe.skipIf(lacks('the sysroot ld.so.cache', [hasLdconfig, 'ldconfig is not installed'], [isRoot, 'ldconfig -r needs root (it chroots into the sysroot)']))('the ld.so.cache of a sysroot', () => {
  /** A sysroot whose ld.so.conf names `dirs`, its cache written by ldconfig -r. */
  function cached(name: string, libs: Record<string, string>): string {
    const root = sysroot(name);
    for (const [path, soname] of Object.entries(libs)) put(root, path, { soname });
    mkdirSync(join(root, 'etc'), { recursive: true });
    writeFileSync(join(root, 'etc/ld.so.conf'), [...new Set(Object.keys(libs).map((p) => '/' + dirname(p)))].join('\n') + '\n');
    const r = spawnSync('ldconfig', ['-X', '-r', root], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    put(root, 'app/prog', { ...pie, needed: ['libq.so.1'] });
    return root;
  }

  it('each sysroot is searched with its own cache, and a cache rewritten is read again', () => {
    const one = cached('cache-one', { 'opt/one/libq.so.1': 'libq.so.1' });
    const two = cached('cache-two', { 'opt/two/libq.so.1': 'libq.so.1' });
    expect(get(resolve(one, [{ path: '/app/prog' }]), 'libq.so.1')).toMatchObject({ rule: 'ld.so.cache', path: '/opt/one/libq.so.1' });
    expect(get(resolve(two, [{ path: '/app/prog' }]), 'libq.so.1')).toMatchObject({ rule: 'ld.so.cache', path: '/opt/two/libq.so.1' });
    put(one, 'opt/three/libq.so.1', { soname: 'libq.so.1' });
    writeFileSync(join(one, 'etc/ld.so.conf'), '/opt/three\n');
    expect(spawnSync('ldconfig', ['-X', '-r', one]).status).toBe(0);
    expect(get(resolve(one, [{ path: '/app/prog' }]), 'libq.so.1')).toMatchObject({ rule: 'ld.so.cache', path: '/opt/three/libq.so.1' });
  });

  it('one cache file is read once for many resolutions', () => {
    const root = cached('cache-once', { 'opt/q/libq.so.1': 'libq.so.1' });
    let reads = 0;
    const fs: HostFs = { ...nodeHostFs, readFile: (p) => (p.endsWith('/ld.so.cache') && reads++, nodeHostFs.readFile(p)) };
    for (let i = 0; i < 3; i++) expect(get(resolve(root, [{ path: '/app/prog' }], {}, fs), 'libq.so.1')!.rule).toBe('ld.so.cache');
    expect(reads).toBe(1);
  });

  it('an unreadable cache is passed over: the directories of ld.so.conf are searched', () => {
    const root = cached('cache-unreadable', { 'opt/q/libq.so.1': 'libq.so.1' });
    const fs: HostFs = {
      ...nodeHostFs,
      readFile: (p) => {
        if (p === join(root, 'etc/ld.so.cache')) throw errno('EACCES', p);
        return nodeHostFs.readFile(p);
      },
    };
    writeFileSync(join(root, 'etc/ld.so.conf'), '/opt/conf\n');
    put(root, 'opt/conf/libq.so.1', { soname: 'libq.so.1' });
    expect(get(resolve(root, [{ path: '/app/prog' }], {}, fs), 'libq.so.1')).toMatchObject({ rule: 'ld.so.cache', path: '/opt/conf/libq.so.1' });
  });

  it('a corrupt cache is an error naming the library looked for, with the hint to regenerate it', () => {
    const root = cached('cache-corrupt', { 'opt/q/libq.so.1': 'libq.so.1' });
    writeFileSync(join(root, 'etc/ld.so.cache'), readFileSync(join(root, 'etc/ld.so.cache')).subarray(0, 30));
    const e = failure(root, [{ path: '/app/prog' }]);
    expect(e).toMatchObject({ code: 'ldcache.bad-format', hint: 'regenerate the cache inside the sysroot (ldconfig -r <sysroot>), or remove it to search the default directories' });
    expect(e.details).toEqual(['while looking for libq.so.1, needed by prog']);
  });

  it('an AArch64 tree takes the cache entries of AArch64 libraries (flags 0x0a03)', () => {
    // ldconfig here records only x86 libraries: the cache of x86-64 stand-ins is rewritten with
    // the flags an AArch64 ldconfig gives its libraries, and the stand-ins replaced.
    const root = cached('cache-arm', { 'opt/arm/libq.so.1': 'libq.so.1' });
    const file = join(root, 'etc/ld.so.cache');
    const b = readFileSync(file);
    expect(b.toString('latin1', 0, 20)).toBe('glibc-ld.so.cache1.1');
    for (let i = 0; i < b.readUInt32LE(20); i++) if (b.readInt32LE(48 + i * 24) === 0x0303) b.writeInt32LE(0x0a03, 48 + i * 24);
    writeFileSync(file, b);
    const A = { machine: C.EM_AARCH64 };
    put(root, 'opt/arm/libq.so.1', { ...A, soname: 'libq.so.1' });
    put(root, 'app/arm', { ...A, interp: '/lib/ld-linux-aarch64.so.1', flags1: C.DF_1_PIE, needed: ['libq.so.1'] });
    expect(get(resolve(root, [{ path: '/app/arm' }], { arch: 'aarch64' }), 'libq.so.1')).toMatchObject({ rule: 'ld.so.cache', path: '/opt/arm/libq.so.1' });
    // The x86-64 target does not take those entries.
    expect(resolve(root, [{ path: '/app/prog' }]).missing.map((m) => m.soname)).toEqual(['libq.so.1']);
  });
});
