// Resolving inside a sysroot built from this machine's files: absolute symlinks stay inside
// it, its own ld.so.cache (written by ldconfig -r) or ld.so.conf is used, its layout picks
// the default directories, and kernel libraries it lacks are listed without a host file.

import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeHostFs } from '../../src/hostfs.js';
import { resolveClosure } from '../../src/resolve/index.js';
import { ldSoConfDirs } from '../../src/resolve/ldconf.js';
import { Sysroot } from '../../src/resolve/sysroot.js';
import type { Closure, ResolveOptions } from '../../src/resolve/types.js';

const LIB = '/usr/lib/x86_64-linux-gnu';
const needed = ['/usr/bin/ls', `${LIB}/libselinux.so.1`, `${LIB}/libpcre2-8.so.0`];
const present = needed.every((f) => existsSync(f));
if (!present) console.warn(`skipped: this machine lacks one of ${needed.join(', ')}`);
const isRoot = process.getuid?.() === 0;

function mk(root: string, path: string): string {
  const p = join(root, path);
  mkdirSync(dirname(p), { recursive: true });
  return p;
}

/**
 * A Debian-like root: /lib -> usr/lib, ls in /usr/bin, libselinux in the multiarch dir, and
 * libpcre2 reached through an ABSOLUTE symlink to /opt/pcre (which must mean <root>/opt/pcre).
 * No libc: the kernel provides it.
 */
function debianRoot(root: string): void {
  copyFileSync('/usr/bin/ls', mk(root, 'usr/bin/ls'));
  copyFileSync(`${LIB}/libselinux.so.1`, mk(root, `${LIB}/libselinux.so.1`));
  copyFileSync(`${LIB}/libpcre2-8.so.0`, mk(root, 'opt/pcre/libpcre2-8.so.0.real'));
  symlinkSync('/opt/pcre/libpcre2-8.so.0.real', join(root, `${LIB}/libpcre2-8.so.0`));
  symlinkSync('usr/lib', join(root, 'lib'));
}

const opts = (sysroot: string, over: Partial<ResolveOptions> = {}): ResolveOptions => ({ arch: 'x86_64', sysroot, libraryPath: [], hiddenSymbols: false, ...over });
function resolve(sysroot: string, over: Partial<ResolveOptions> = {}): Closure {
  const r = resolveClosure([{ path: '/usr/bin/ls' }], opts(sysroot, over), nodeHostFs);
  if (!r.ok) throw new Error(`${r.error.code}: ${r.error.message}`);
  return r.value;
}
const get = (c: Closure, soname: string) => c.objects.find((o) => o.soname === soname);

describe.runIf(present)('resolving inside a sysroot', () => {
  let tmp = '';
  beforeAll(() => {
    tmp = mkdtempSync(join(tmpdir(), 'osv-sysroot-'));
  });
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('follows absolute symlinks inside the sysroot and clamps .. at its top', () => {
    const root = join(tmp, 'links');
    debianRoot(root);
    symlinkSync('../../../../../../../opt/pcre/libpcre2-8.so.0.real', mk(root, 'usr/lib/up.so'));
    symlinkSync('loop-b', mk(root, 'loop-a'));
    symlinkSync('loop-a', mk(root, 'loop-b'));
    const sys = new Sysroot(nodeHostFs, root);
    expect(sys.realpath(`/lib/x86_64-linux-gnu/libpcre2-8.so.0`)).toBe('/opt/pcre/libpcre2-8.so.0.real');
    expect(sys.realpath('/usr/lib/up.so')).toBe('/opt/pcre/libpcre2-8.so.0.real');
    expect(sys.realpath('/loop-a')).toBeUndefined();
    expect(sys.realpath('/usr/bin/ls/x')).toBeUndefined();
    expect(sys.host('/usr/bin/ls')).toBe(join(root, 'usr/bin/ls'));
    expect(sys.inside(join(root, 'usr'))).toBe('/usr');
    expect(sys.inside('/etc/passwd')).toBeUndefined();
  });

  it('without a cache: the multiarch default directories, kernel libraries it lacks listed empty', () => {
    const root = join(tmp, 'nocache');
    debianRoot(root);
    const c = resolve(root);
    expect(get(c, 'libselinux.so.1')).toMatchObject({ rule: 'default', path: '/lib/x86_64-linux-gnu/libselinux.so.1', hostPath: join(root, `${LIB}/libselinux.so.1`) });
    expect(get(c, 'libpcre2-8.so.0')).toMatchObject({ rule: 'default', hostPath: join(root, 'opt/pcre/libpcre2-8.so.0.real') });
    expect(get(c, 'libc.so.6')).toMatchObject({ providedByKernel: true, hostPath: '', rule: 'kernel' });
    expect(get(c, 'libc.so.6')!.tried).toContain('/lib/x86_64-linux-gnu/libc.so.6');
    expect(get(c, 'ld-linux-x86-64.so.2')).toMatchObject({ providedByKernel: true, hostPath: '', path: '/lib64/ld-linux-x86-64.so.2' });
    expect(c.objects.every((o) => o.hostPath === '' || o.hostPath.startsWith(root + '/'))).toBe(true);
    expect(c.missing).toEqual([]);
    // The plain Linux closure reports what this root lacks.
    const full = resolve(root, { osvFilter: false });
    expect(full.missing.map((m) => m.soname).sort()).toEqual(['/lib64/ld-linux-x86-64.so.2', 'ld-linux-x86-64.so.2', 'libc.so.6']);
  });

  it('without a cache: the directories its ld.so.conf names, includes followed', () => {
    const root = join(tmp, 'conf');
    debianRoot(root);
    copyFileSync(`${LIB}/libselinux.so.1`, mk(root, 'opt/se/libselinux.so.1'));
    writeFileSync(mk(root, 'etc/ld.so.conf'), '# comment\ninclude /etc/ld.so.conf.d/*.conf\n/opt/none\n');
    writeFileSync(mk(root, 'etc/ld.so.conf.d/b.conf'), '/opt/se\n');
    writeFileSync(mk(root, 'etc/ld.so.conf.d/a.conf'), '/opt/first:/opt/pcre, /opt/se\n');
    const sys = new Sysroot(nodeHostFs, root);
    expect(ldSoConfDirs(sys)).toEqual(['/opt/first', '/opt/pcre', '/opt/se', '/opt/none']);
    const c = resolve(root);
    expect(get(c, 'libselinux.so.1')).toMatchObject({ rule: 'ld.so.cache', path: '/opt/se/libselinux.so.1', tried: ['/opt/first/libselinux.so.1', '/opt/pcre/libselinux.so.1'] });
  });

  it('an upstream (non-multiarch) layout searches /lib64 and /usr/lib64', () => {
    const root = join(tmp, 'fedora');
    copyFileSync('/usr/bin/ls', mk(root, 'usr/bin/ls'));
    copyFileSync(`${LIB}/libselinux.so.1`, mk(root, 'usr/lib64/libselinux.so.1'));
    copyFileSync(`${LIB}/libpcre2-8.so.0`, mk(root, 'usr/lib64/libpcre2-8.so.0'));
    symlinkSync('usr/lib64', join(root, 'lib64'));
    const c = resolve(root);
    expect(get(c, 'libselinux.so.1')).toMatchObject({ rule: 'default', path: '/lib64/libselinux.so.1' });
    expect(get(c, 'libc.so.6')!.tried).toEqual(['/lib64/libc.so.6', '/usr/lib64/libc.so.6']);
  });

  it.runIf(isRoot)('uses the ld.so.cache ldconfig -r writes for the sysroot', () => {
    const root = join(tmp, 'cache');
    debianRoot(root);
    writeFileSync(mk(root, 'etc/ld.so.conf'), '/opt/pcre\n');
    const r = spawnSync('ldconfig', ['-X', '-r', root], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const c = resolve(root);
    expect(get(c, 'libselinux.so.1')).toMatchObject({ rule: 'ld.so.cache', hostPath: join(root, `${LIB}/libselinux.so.1`) });
    expect(c.objects.every((o) => o.hostPath === '' || o.hostPath.startsWith(root + '/'))).toBe(true);
  });
  if (!isRoot) console.warn('skipped part: ldconfig -r needs root (chroot); the sysroot cache test does not run');
});
