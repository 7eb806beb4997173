// `osv resolve` (manifest_from_host.sh's modes) on hand-built sysroots, in this process: a file
// by absolute, relative or bare path; a library by soname (-l, -i); a program found on PATH
// (relative, absent, non-executable and directory entries passed over; scripts refused);
// directory mode with -R, a sub-path and -r (which files count as libraries, how deep, which
// dependencies are inside); every error with its code, text and hint.

import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as C from '../../src/elf/constants.js';
import { nodeHostFs, type HostFs } from '../../src/hostfs.js';
import { formatHostManifest, hostManifest, type HostManifest, type HostManifestOptions } from '../../src/resolve/host-manifest.js';
import { craftElf, type CraftSpec } from '../elf/craft.js';

let tmp = '';
let R = '';
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'osv-host-manifest-'));
  R = join(tmp, 'root');
  const lib = (path: string, soname: string, needed: string[] = [], extra: Partial<CraftSpec> = {}): void => put(path, { soname, needed, ...extra });
  put('app/prog', { ...pie, needed: ['liba.so.1', 'libc.so.6'], runpath: '/opt/lib' });
  put('app/two-missing', { ...pie, needed: ['libx.so.1', 'liby.so.1', 'liba.so.1', 'libc.so.6'], runpath: '/opt/lib' });
  put('app/one-missing', { ...pie, needed: ['libx.so.1'] });
  put('app/bare', { ...pie });
  lib('opt/lib/liba.so.1', 'liba.so.1', ['libb.so'], { runpath: '$ORIGIN' });
  lib('opt/lib/libb.so', 'libb.so.2');
  lib('opt/lib/libshared.so', 'libshared.so', ['liba.so.1'], { runpath: '$ORIGIN' });
  lib('opt/lib/libneedsz.so.1', 'libneedsz.so.1', ['libz.so.9']);
  // PATH: a relative entry, a non-executable ELF, a directory, then the program; scripts.
  put('rel/prog', { ...pie });
  put('opt/noexec/prog', { ...pie });
  chmodSync(join(R, 'opt/noexec/prog'), 0o644);
  mkdirSync(join(R, 'opt/dirs/prog'), { recursive: true });
  put('opt/bin/prog', { ...pie, needed: ['liba.so.1'], runpath: '/opt/lib' });
  for (const d of ['opt/shims', 'opt/only-shims']) {
    mkdirSync(join(R, d), { recursive: true });
    writeFileSync(join(R, d, 'prog'), '#!/bin/sh\nexec /opt/bin/prog "$@"\n');
    chmodSync(join(R, d, 'prog'), 0o755);
  }
  // Directory mode: which files are libraries, and which of their needs are inside.
  const D = 'app2';
  lib(`${D}/lib/liba2.so`, 'liba2.so', ['libin.so.1', '$ORIGIN/private.bin', 'libout.so.1', 'libsib.so.1'], { runpath: '$ORIGIN:$ORIGIN/../../app2x' });
  lib(`${D}/lib/libin.so.1`, 'libin.so.1');
  lib(`${D}/lib/private.bin`, 'libpriv.so.1');
  lib(`${D}/libv.so.1.2`, 'libv.so.1', ['libv12dep.so.1']);
  lib(`${D}/libw.so.10`, 'libw.so.10', ['libw10dep.so.1']);
  lib(`${D}/plugin.so.bak`, 'plugin', ['libbak.so.1']);
  lib(`${D}/tool`, 'tool', ['libtool.so.1']);
  writeFileSync(join(R, D, 'notes.so'), 'not an ELF file\n');
  symlinkSync('../outside/libfar.so', join(R, D, 'liblink.so'));
  lib('outside/libfar.so', 'libfar.so', ['libfardep.so.1']);
  const deep = (n: number): string => `${D}/${Array.from({ length: n }, () => 'd').join('/')}`;
  lib(`${deep(64)}/libdeep64.so`, 'libdeep64.so', ['libd64.so.1']);
  lib(`${deep(65)}/libdeep65.so`, 'libdeep65.so', ['libd65.so.1']);
  lib('app2x/libsib.so.1', 'libsib.so.1');
  for (const n of ['libout', 'libv12dep', 'libw10dep', 'libbak', 'libtool', 'libfardep', 'libd64', 'libd65']) lib(`opt/out/${n}.so.1`, `${n}.so.1`);
  mkdirSync(join(R, 'empty/sub'), { recursive: true });
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const pie = { interp: '/lib64/ld-linux-x86-64.so.2', flags1: C.DF_1_PIE };

function put(path: string, spec: Partial<CraftSpec>): void {
  const p = join(R, path);
  mkdirSync(dirname(p), { recursive: true });
  writeFileSync(p, craftElf({ cls: 64, le: true, ...spec }));
  chmodSync(p, 0o755);
}

const options = (over: Partial<HostManifestOptions> = {}): HostManifestOptions => ({
  library: false,
  recursive: false,
  realPrefix: false,
  ignoreMissing: false,
  sysroot: R,
  arch: 'x86_64',
  libraryPath: [],
  hiddenSymbols: false,
  kernelFilter: true,
  optional: [],
  cwd: '/',
  pathEnv: '',
  ...over,
});

/** The manifest without its closure (checked apart), or the error as its code, message, details and hint. */
function manifest(target: string, over: Partial<HostManifestOptions> = {}, sub?: string, fs: HostFs = nodeHostFs): Omit<HostManifest, 'closure'> | { error: object } {
  const r = hostManifest(target, sub, options(over), fs);
  if (!r.ok) return { error: { code: r.error.code, message: r.error.message, details: r.error.details, hint: r.error.hint } };
  const { closure: _closure, ...rest } = r.value;
  return rest;
}

const progDeps = () => [
  { guest: '/usr/lib/liba.so.1', host: `${R}/opt/lib/liba.so.1` },
  // Sorted by bytes of the whole line: "libb.so.2: " before "libb.so: ".
  { guest: '/usr/lib/libb.so.2', host: `${R}/opt/lib/libb.so` },
  { guest: '/usr/lib/libb.so', host: `${R}/opt/lib/libb.so` },
];

describe('osv resolve FILE', () => {
  it('a program by absolute, relative and bare path: its line, every name its libraries are needed by, its command line', () => {
    const want = { mode: 'file', label: '(PIE) Position Independent Executable', target: [{ guest: '/prog', host: `${R}/app/prog` }], deps: progDeps(), cmdline: '/prog --help' };
    expect(manifest('/app/prog')).toEqual(want);
    expect(manifest('app/prog', { cwd: R })).toEqual(want);
    expect(manifest('./prog', { cwd: join(R, 'app') })).toEqual(want);
    // A bare name is first a file of the current directory, as the script's [ -f ] takes it.
    expect(manifest('prog', { cwd: join(R, 'app') })).toEqual(want);
    // On the host itself, a relative path is taken from the current directory.
    expect(manifest('app/bare', { sysroot: '/', cwd: R })).toEqual({ ...want, target: [{ guest: '/bare', host: `${R}/app/bare` }], deps: [], cmdline: '/bare --help' });
    expect(formatHostManifest(manifest('/app/prog') as HostManifest)).toBe(
      [
        '# (PIE) Position Independent Executable',
        '/prog: ' + `${R}/app/prog`,
        '# --------------------',
        '# Dependencies        ',
        '# --------------------',
        `/usr/lib/liba.so.1: ${R}/opt/lib/liba.so.1`,
        `/usr/lib/libb.so.2: ${R}/opt/lib/libb.so`,
        `/usr/lib/libb.so: ${R}/opt/lib/libb.so`,
        '# --------------------',
        '',
      ].join('\n'),
    );
  });

  it('a library by path goes to /usr/lib, with no command line', () => {
    expect(manifest('/opt/lib/libshared.so')).toEqual({ mode: 'file', label: 'Shared Library', target: [{ guest: '/usr/lib/libshared.so', host: `${R}/opt/lib/libshared.so` }], deps: progDeps() });
  });

  it('a path that does not exist, or leads out of the sysroot, is an error saying so', () => {
    expect(manifest('/app/none')).toEqual({ error: { code: 'resolve.not-found', message: `/app/none does not exist in the sysroot ${R}`, details: [], hint: undefined } });
    expect(manifest(`${tmp}/none`, { sysroot: '/' })).toEqual({ error: { code: 'resolve.not-found', message: `${tmp}/none does not exist`, details: [], hint: undefined } });
    expect(manifest('../elsewhere/prog', { cwd: R })).toEqual({
      error: { code: 'resolve.outside-sysroot', message: `${tmp}/elsewhere/prog is not inside the sysroot ${R}`, details: [], hint: 'give a path inside the sysroot (absolute paths are taken inside it)' },
    });
  });

  it('lists every missing library with the chain that needed it and the paths tried', () => {
    const tried = (n: string, more: string[] = []): string[] => [...more, `/lib64/${n}`, `/usr/lib64/${n}`].map((t) => `  ${t}`);
    const hint = 'install it, add its directory with --library-path, or mark it optional with --optional <soname>';
    expect(manifest('/app/one-missing')).toEqual({ error: { code: 'resolve.missing', message: 'a library is missing: libx.so.1', details: ['libx.so.1, needed by one-missing; tried:', ...tried('libx.so.1')], hint } });
    expect(manifest('/opt/lib/libneedsz.so.1', {})).toMatchObject({ error: { message: 'a library is missing: libz.so.9', details: ['libz.so.9, needed by libneedsz.so.1; tried:', ...tried('libz.so.9')] } });
    const two = manifest('/app/two-missing');
    expect(two).toEqual({
      error: {
        code: 'resolve.missing',
        message: '2 libraries are missing: libx.so.1, liby.so.1',
        details: ['libx.so.1, needed by two-missing; tried:', ...tried('libx.so.1', ['/opt/lib/libx.so.1']), 'liby.so.1, needed by two-missing; tried:', ...tried('liby.so.1', ['/opt/lib/liby.so.1'])],
        hint,
      },
    });
    // Optional ones are no error; a chain two deep is shown whole.
    expect(manifest('/app/two-missing', { optional: ['libx.so.1', 'liby.so.1'] })).toMatchObject({ mode: 'file', deps: progDeps() });
    const chain = manifest('/opt/lib/libshared.so', { sysroot: R, libraryPath: [] }, undefined, withoutFile(join(R, 'opt/lib/libb.so')));
    expect(chain).toMatchObject({ error: { message: 'a library is missing: libb.so', details: ['libb.so, needed by libshared.so -> liba.so.1; tried:', ...tried('libb.so', ['/opt/lib/libb.so'])] } });
  });
});

/** The host file system with one file hidden. */
function withoutFile(hidden: string): HostFs {
  return { ...nodeHostFs, lstat: (p) => (p === hidden ? undefined : nodeHostFs.lstat(p)), stat: (p) => (p === hidden ? undefined : nodeHostFs.stat(p)) };
}

describe('osv resolve -l SONAME', () => {
  it('finds a library as dlopen would and lists what it needs', () => {
    expect(manifest('liba.so.1', { library: true, libraryPath: ['/opt/lib'] })).toEqual({
      mode: 'library',
      label: 'Shared library',
      target: [{ guest: '/usr/lib/liba.so.1', host: `${R}/opt/lib/liba.so.1` }],
      deps: progDeps().slice(1),
    });
  });

  it('a library not found is an error with every path tried, or nothing at all with -i', () => {
    expect(manifest('libnone.so.1', { library: true, libraryPath: ['/opt/lib'] })).toEqual({
      error: {
        code: 'resolve.not-found',
        message: 'could not find the library libnone.so.1',
        details: ['/opt/lib', '/lib64', '/usr/lib64'].map((d) => `tried ${R}${d}/libnone.so.1`),
        hint: 'give its soname exactly (e.g. libssl.so.3), or add its directory with --library-path',
      },
    });
    const r = hostManifest('libnone.so.1', undefined, options({ library: true, ignoreMissing: true }), nodeHostFs);
    expect(r.ok && r.value).toMatchObject({ mode: 'library', target: [] });
    expect(r.ok && 'deps' in r.value).toBe(false);
    expect(r.ok && formatHostManifest(r.value)).toBe('');
  });
});

describe('osv resolve PROGRAM (on PATH)', () => {
  it('takes the first executable file on PATH, passing over relative, absent, non-executable and directory entries', () => {
    expect(manifest('prog', { pathEnv: 'rel:/nowhere:/opt/noexec:/opt/dirs:/opt/bin/' })).toEqual({
      mode: 'program',
      label: '(PIE) Position Independent Executable',
      target: [{ guest: '/prog', host: `${R}/opt/bin/prog` }],
      deps: progDeps(),
      cmdline: '/prog --help',
    });
  });

  it('refuses a script first on PATH, naming the ELF program after it when there is one', () => {
    expect(manifest('prog', { pathEnv: '/opt/shims//:/opt/only-shims:/opt/bin' })).toEqual({
      error: {
        code: 'resolve.not-elf',
        message: `${R}/opt/shims/prog (found on PATH for prog) is not an ELF program (a script or a shim)`,
        details: [],
        hint: `the next prog on PATH is an ELF program: osv resolve ${R}/opt/bin/prog`,
      },
    });
    expect(manifest('prog', { pathEnv: '/opt/only-shims' })).toMatchObject({ error: { code: 'resolve.not-elf', hint: 'give the path of the real program' } });
    expect(manifest('prog', { pathEnv: '/nowhere:/opt/dirs' })).toEqual({
      error: { code: 'resolve.not-found', message: 'could not find the program prog on PATH', details: [], hint: 'give its path, or use -l for a library' },
    });
  });
});

describe('osv resolve DIRECTORY', () => {
  it('is one ** line; -R names it by its real path; a sub-path is trimmed of slashes', () => {
    expect(manifest('/app2')).toEqual({ mode: 'directory', target: [{ guest: '/**', host: `${R}/app2/**` }] });
    expect(manifest('/app2', {}, '//lib/sub//')).toEqual({ mode: 'directory', target: [{ guest: '/lib/sub/**', host: `${R}/app2/lib/sub/**` }] });
    expect(manifest('/app2', { realPrefix: true }, 'lib')).toEqual({ mode: 'directory', target: [{ guest: `${R}/app2/lib/**`, host: `${R}/app2/lib/**` }] });
  });

  it('-r: the needs of its shared libraries (named .so or .so.N..., ELF, 64 levels deep at most) from outside it', () => {
    const r = hostManifest('/app2', undefined, options({ recursive: true, libraryPath: ['/opt/out'] }), nodeHostFs);
    if (!r.ok) throw new Error(r.error.message);
    expect(r.value).toMatchObject({ mode: 'directory', target: [{ guest: '/**', host: `${R}/app2/**` }] });
    const out = (n: string) => ({ guest: `/usr/lib/${n}.so.1`, host: `${R}/opt/out/${n}.so.1` });
    // Not private.bin (inside it, and not a root as libin.so.1 is), but libsib.so.1 of the sibling app2x (a name it is a prefix of).
    expect(r.value.deps).toEqual([out('libd64'), out('libout'), { guest: '/usr/lib/libsib.so.1', host: `${R}/app2/lib/../../app2x/libsib.so.1` }, out('libv12dep'), out('libw10dep')]);
    expect(r.value.closure!.objects.filter((o) => o.root).map((o) => o.path)).toEqual(['/app2/d/' + 'd/'.repeat(63) + 'libdeep64.so', '/app2/lib/liba2.so', '/app2/lib/libin.so.1', '/app2/libv.so.1.2', '/app2/libw.so.10']);
    // Nothing to resolve: an empty dependency section and no closure.
    expect(hostManifest('/empty', undefined, options({ recursive: true }), nodeHostFs)).toEqual({ ok: true, value: { mode: 'directory', target: [{ guest: '/**', host: `${R}/empty/**` }], deps: [] } });
  });

  it('-r passes over what it cannot list, and a host failure is not taken for a user error', () => {
    const locked = join(R, 'app2', 'lib');
    const fs: HostFs = { ...nodeHostFs, readdir: (p) => (p === locked ? fail('EACCES') : nodeHostFs.readdir(p)) };
    const r = hostManifest('/app2', undefined, options({ recursive: true, libraryPath: ['/opt/out'] }), fs);
    expect(r.ok && r.value.deps!.map((d) => d.guest)).toEqual(['/usr/lib/libd64.so.1', '/usr/lib/libv12dep.so.1', '/usr/lib/libw10dep.so.1']);
    // A name listed and gone before it is looked at.
    const gone: HostFs = { ...nodeHostFs, readdir: (p) => (p === join(R, 'empty') ? ['vanished.so', 'sub'] : nodeHostFs.readdir(p)) };
    expect(hostManifest('/empty', undefined, options({ recursive: true }), gone)).toMatchObject({ ok: true, value: { deps: [] } });
    const broken: HostFs = { ...nodeHostFs, lstat: (p) => (p === join(R, 'empty', 'sub') ? fail('EIO') : nodeHostFs.lstat(p)) };
    expect(() => hostManifest('/empty', undefined, options({ recursive: true }), broken)).toThrow('EIO: simulated');
  });

  it('-r on the top of a sysroot names its libraries by their paths inside it', () => {
    const top = join(tmp, 'top');
    mkdirSync(join(top, 'lib'), { recursive: true });
    mkdirSync(join(top, 'etc'), { recursive: true });
    writeFileSync(join(top, 'lib', 'libtop.so'), craftElf({ cls: 64, le: true, soname: 'libtop.so' }));
    const r = hostManifest('/', undefined, options({ recursive: true, sysroot: top }), nodeHostFs);
    expect(r.ok && r.value.closure!.objects.map((o) => [o.path, o.hostPath])).toEqual([['/lib/libtop.so', join(top, 'lib/libtop.so')]]);
  });
});

function fail(code: string): never {
  throw Object.assign(new Error(`${code}: simulated`), { code });
}
