// ELF fixtures for the symbol check, compiled by gcc into a temporary directory (nothing is
// committed): a stand-in kernel exporting a chosen set of symbols, programs that each need
// one kind of thing the image lacks, and libraries that satisfy each other's needs.
//
// "Missing" symbols are made the way they go missing in real life: the program is linked
// against a library that defines them, and the library is then rebuilt without them.

import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { fixtureOnce } from '../helpers/fixture-cache.js';

export { hasGcc } from '../helpers/tools.js';

const run = promisify(execFile);
const gcc = async (args: string[]): Promise<void> => {
  await run('gcc', args);
};

export interface CheckFixtures {
  dir: string;
  /** The stand-in kernel directory (loader-stripped.elf inside). */
  kernelDir: string;
  kernelElf: string;
  /** What the stand-in kernel exports (besides linker-made symbols). */
  kernelExports: string[];
  /** A stand-in kernel whose exports carry versions, as a glibc-compatible kernel's do. */
  versionedKernelElf: string;
  f: Record<'ok' | 'needsFn' | 'needsData' | 'many' | 'kernelVersions' | 'cycleA' | 'cycleB' | 'version' | 'hidden' | 'unknownData' | 'weak' | 'stub' | 'plugin' | 'pluginMissing' | 'tree' | 'libok' | 'libhelper', string>;
  cleanup(): void;
}

/** libc functions the fixtures (and the libgcc_s.so.1 every image ships) need from the kernel. */
const LIBC = ['__libc_start_main', 'puts', 'fork', 'free', 'abort', 'strlen', 'memset', 'calloc', 'memcpy', 'malloc', 'realloc', '_dl_find_object'];

/** The fixtures, compiled for this run (under `npm run mutate`, once per mutation run). */
export const buildCheckFixtures = (): Promise<CheckFixtures> => fixtureOnce('check-fixtures', compileCheckFixtures);

async function compileCheckFixtures(): Promise<CheckFixtures> {
  const dir = mkdtempSync(join(tmpdir(), 'osv-check-'));
  const d = (...p: string[]): string => {
    const x = join(dir, ...p);
    mkdirSync(x, { recursive: true });
    return x;
  };
  const src = (name: string, text: string): string => {
    const p = join(dir, 'src', name);
    writeFileSync(p, text);
    return p;
  };
  d('src');
  const K = d('kernel');
  const L = d('lib');
  const G = d('ghost');
  const V = d('ver');
  const A = d('app');
  const P = d('plugins');
  const T = d('tree', 'modules');
  const H = d('hid');
  const U = d('uses');
  const M = d('many');
  const CY = d('cycle'); // libca.so.1 <-> libcb.so.1, both loaded at run time
  const manyFns = Array.from({ length: 10 }, (_, i) => `many_${i}`);
  const rpath = (...dirs: string[]): string => `-Wl,--enable-new-dtags,-rpath,${dirs.join(':')}`;

  // The stand-in kernel: an ET_EXEC exporting its symbols (-rdynamic), like loader-stripped.elf.
  // A dynamic executable needs one shared library on its link line; a dummy one does.
  const kernelExports = ['kfunc', 'kdata', ...LIBC];
  const kdefs = [
    'int kdata = 1;',
    ...kernelExports.filter((n) => n !== 'kdata').map((n) => `void ${n}(void) {}`),
    'void _start(void) {}',
  ].join('\n');
  await gcc(['-shared', '-fPIC', src('kdep.c', 'void kdep(void) {}\n'), '-o', join(K, 'libkdep.so')]);
  const kernelElf = join(K, 'loader-stripped.elf');
  // -fno-builtin: the stand-ins for memcpy & co. must not be taken for the builtins.
  await gcc(['-no-pie', '-rdynamic', '-nostdlib', '-fno-builtin', src('kernel.c', kdefs + '\n'), '-o', kernelElf, `-L${K}`, '-Wl,--no-as-needed', '-l:libkdep.so']);

  // The versioned kernel exports kv_new only in an older version, kv_ok in the one needed, and
  // kv_hid only as a non-default version; a library linked against a stand-in libc.so.6 that
  // has all three in GLIBC_9.9 needs them from the kernel (libc.so.6 is the kernel's).
  const KV = d('kernel-versioned');
  const versionedKernelElf = join(KV, 'loader-stripped.elf');
  await gcc([
    '-no-pie', '-rdynamic', '-nostdlib', src('kv.c', 'void kv_new(void) {}\nvoid kv_ok(void) {}\nvoid kv_hid_impl(void) {}\n__asm__(".symver kv_hid_impl,kv_hid@GLIBC_9.9");\nvoid _start(void) {}\n'),
    '-o', versionedKernelElf, `-Wl,--version-script,${src('kv.map', 'GLIBC_9.8 { global: kv_new; };\nGLIBC_9.9 { global: kv_ok; kv_hid; } GLIBC_9.8;\n')}`,
    `-L${K}`, '-Wl,--no-as-needed', '-l:libkdep.so',
  ]);
  const FL = d('fakelibc');
  await gcc(['-shared', '-fPIC', '-nostdlib', '-Wl,-soname,libc.so.6', src('fakelibc.c', 'void kv_new(void) {}\nvoid kv_ok(void) {}\nvoid kv_hid(void) {}\n'), '-o', join(FL, 'libc.so.6'), `-Wl,--version-script,${src('fakelibc.map', 'GLIBC_9.9 { global: kv_new; kv_ok; kv_hid; local: *; };\n')}`]);

  const f = {} as CheckFixtures['f'];
  const lib = (out: string, soname: string, file: string, text: string, extra: string[] = []): Promise<void> =>
    gcc(['-shared', '-fPIC', `-Wl,-soname,${soname}`, src(file, text), '-o', out, ...extra]);
  const verScript = (name: string, text: string): string => src(name, text);

  // Phase 1: the libraries as the programs are linked against them.
  await Promise.all([
    lib((f.libhelper = join(L, 'libhelper.so.1')), 'libhelper.so.1', 'helper.c', 'int helper_fn(void) { return 1; }\n'),
    lib(join(G, 'libghost.so.1'), 'libghost.so.1', 'ghost1.c', 'int ghost_fn(void) { return 2; }\nint ghost_data = 3;\n'),
    lib(join(V, 'libver.so.1'), 'libver.so.1', 'ver2.c', 'int ver_old(void) { return 1; }\nint ver_fn(void) { return 2; }\n', [
      `-Wl,--version-script,${verScript('ver2.map', 'VER_1 { global: ver_old; local: *; };\nVER_2 { global: ver_fn; } VER_1;\n')}`,
    ]),
    lib(join(d('gone'), 'libnotthere.so.1'), 'libnotthere.so.1', 'gone.c', 'int gone_fn(void) { return 4; }\n'),
    lib(join(CY, 'libcb.so.1'), 'libcb.so.1', 'cb1.c', 'int cb_fn(void) { return 1; }\n'),
    lib(join(M, 'libmany.so.1'), 'libmany.so.1', 'many1.c', [...manyFns, 'many_ptr'].map((n) => `int ${n}(void) { return 1; }\n`).join('')),
    lib(join(H, 'libhid.so.1'), 'libhid.so.1', 'hid1.c', 'int hid_fn(void) { return 5; }\nint hid_new(void) { return 6; }\n'),
    // Linked without the library that defines ext_var: an undefined symbol of no type (NOTYPE),
    // read through a GOT entry the loader fills at load time (GLOB_DAT).
    lib(join(U, 'libuses.so.1'), 'libuses.so.1', 'uses.c', 'extern int ext_var;\nint uses_fn(void) { return ext_var; }\n'),
  ]);

  // Phase 2: libraries on top, and the programs.
  const prog = (name: string, text: string, extra: string[] = []): Promise<void> => gcc(['-fPIE', '-pie', src(`${name}.c`, text), '-o', join(A, name), ...extra]);
  const ghost = ['-L', G, '-l:libghost.so.1', rpath(G)];
  await Promise.all([
    // libok needs helper_fn (libhelper, beside it) and kfunc (the kernel).
    lib((f.libok = join(L, 'libok.so.1')), 'libok.so.1', 'ok-lib.c', 'int helper_fn(void);\nint kfunc(void);\nint lib_fn(void) { return helper_fn() + kfunc(); }\n', [
      `-L${L}`,
      '-l:libhelper.so.1',
      '-Wl,--enable-new-dtags,-rpath,$ORIGIN',
    ]),
    prog('needs-fn', 'int ghost_fn(void);\nint main(void) { return ghost_fn(); }\n', ghost).then(() => (f.needsFn = join(A, 'needs-fn'))),
    prog('needs-data', 'extern int ghost_data;\nint main(void) { return ghost_data; }\n', ghost).then(() => (f.needsData = join(A, 'needs-data'))),
    prog('version', 'int ver_fn(void);\nint main(void) { return ver_fn(); }\n', ['-L', V, '-l:libver.so.1', rpath(V)]).then(() => (f.version = join(A, 'version'))),
    lib((f.cycleA = join(CY, 'libca.so.1')), 'libca.so.1', 'ca.c', 'int cb_fn(void);\nint ca_fn(void) { return cb_fn(); }\n', ['-L', CY, '-l:libcb.so.1', rpath('$ORIGIN')]),
    // Ten functions called through the PLT, and one whose address is stored (bound at load).
    prog(
      'many',
      `${[...manyFns, 'many_ptr'].map((n) => `int ${n}(void);`).join('\n')}\nint (*volatile keep)(void) = many_ptr;\nint main(void) { return ${manyFns.map((n) => `${n}()`).join(' + ')}; }\n`,
      ['-L', M, '-l:libmany.so.1', rpath(M)],
    ).then(() => (f.many = join(A, 'many'))),
    prog('hidden', 'int hid_fn(void);\nint hid_new(void);\nint main(void) { return hid_new() + hid_fn(); }\n', ['-L', H, '-l:libhid.so.1', rpath(H)]).then(
      () => (f.hidden = join(A, 'hidden')),
    ),
    prog('unknown-data', '#include <stdio.h>\nint main(void) { puts("started"); return 0; }\n', ['-L', U, '-Wl,--no-as-needed', '-l:libuses.so.1', '-Wl,--allow-shlib-undefined', rpath(U)]).then(
      () => (f.unknownData = join(A, 'unknown-data')),
    ),
    prog('weak', 'extern int weak_fn(void) __attribute__((weak));\nextern int weak_data __attribute__((weak));\nint main(void) { return weak_fn ? weak_fn() + weak_data : 0; }\n').then(
      () => (f.weak = join(A, 'weak')),
    ),
    prog('stub', '#include <unistd.h>\nint main(void) { return fork(); }\n').then(() => (f.stub = join(A, 'stub'))),
    lib((f.kernelVersions = join(P, 'kvuser.so')), 'kvuser.so', 'kvuser.c', 'void kv_new(void);\nvoid kv_ok(void);\nvoid kv_hid(void);\nvoid kvuser(void) { kv_new(); kv_ok(); kv_hid(); }\n', ['-nostdlib', `-L${FL}`, '-l:libc.so.6']),
    // Plugins are loaded at run time: lib_fn comes from the program's libok, not from a DT_NEEDED of its own.
    lib((f.plugin = join(P, 'plugin.so')), 'plugin.so', 'plugin.c', 'int lib_fn(void);\nint plugin_fn(void) { return lib_fn(); }\n'),
    lib((f.pluginMissing = join(P, 'plugin-missing.so')), 'plugin-missing.so', 'plugin-missing.c', 'int nowhere_fn(void);\nint plugin2_fn(void) { return nowhere_fn(); }\n'),
    // A module in a copied tree whose library is not shipped.
    lib(join(T, 'needs-gone.so'), 'needs-gone.so', 'needs-gone.c', 'int gone_fn(void);\nint mod_fn(void) { return gone_fn(); }\n', ['-L', join(dir, 'gone'), '-l:libnotthere.so.1']),
  ]);
  f.tree = join(dir, 'tree');
  await gcc(['-fPIE', '-pie', src('ok.c', '#include <stdio.h>\nint lib_fn(void);\nint main(void) { puts("ok"); return lib_fn(); }\n'), '-o', (f.ok = join(A, 'ok')), `-L${L}`, '-l:libok.so.1', `-Wl,-rpath-link,${L}`, '-Wl,--allow-shlib-undefined', rpath(L)]);

  // Phase 3: the libraries change under the programs.
  await Promise.all([
    lib(join(G, 'libghost.so.1'), 'libghost.so.1', 'ghost2.c', 'int ghost_other = 0;\n'),
    lib(join(V, 'libver.so.1'), 'libver.so.1', 'ver1.c', 'int ver_old(void) { return 1; }\nint ver_fn(void) { return 2; }\n', [
      `-Wl,--version-script,${verScript('ver1.map', 'VER_1 { global: ver_old; ver_fn; local: *; };\n')}`,
    ]),
    lib((f.cycleB = join(CY, 'libcb.so.1')), 'libcb.so.1', 'cb2.c', 'int ca_fn(void);\nint cb_fn(void) { return ca_fn(); }\n', ['-L', CY, '-l:libca.so.1', rpath('$ORIGIN')]),
    lib(join(M, 'libmany.so.1'), 'libmany.so.1', 'many2.c', 'int many_other(void) { return 2; }\n'),
    // hid_fn stays only as a compatibility symbol of a later version (hid_fn@HID_2, not @@):
    // glibc binds an unversioned reference to it only when it is the first version (index 2).
    lib(join(H, 'libhid.so.1'), 'libhid.so.1', 'hid2.c', 'int hid_fn_compat(void) { return 5; }\n__asm__(".symver hid_fn_compat,hid_fn@HID_2");\nint hid_new(void) { return 6; }\nint hid_base(void) { return 7; }\n', [
      `-Wl,--version-script,${verScript('hid.map', 'HID_1 { global: hid_base; local: *; };\nHID_2 { global: hid_fn; } HID_1;\nHID_3 { global: hid_new; } HID_2;\n')}`,
    ]),
  ]);
  return { dir, kernelDir: K, kernelElf, kernelExports, versionedKernelElf, f, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
