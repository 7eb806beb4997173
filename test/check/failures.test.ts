// The symbol check where something is wrong: a kernel of another architecture or with no
// dynamic symbols, a damaged kernel symbol cache, image files that vanished, belong to another
// architecture or use what an ordinary fixture does not (TLS, protected, weak and unique
// definitions, a library without a GNU hash table), and the refusal `osv build` prints. All in
// process, on gcc-compiled files (an AArch64 file is a compiled one with its e_machine changed).

import { execFile } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  checkError,
  checkPlan,
  defaultObjectCacheDir,
  defaultSymbolCacheDir,
  fileSymbolCache,
  noObjectCache,
  noReportCache,
  noSymbolCache,
  readKernelExports,
  renderCheck,
  type CheckReport,
  type KernelExports,
  type SymbolCache,
} from '../../src/check/index.js';
import { nodeHostFs, type HostFs } from '../../src/hostfs.js';
import { sha256File } from '../../src/kernel/hash.js';
import type { KernelBundle } from '../../src/kernel/types.js';
import { plan } from '../../src/plan/index.js';
import type { Plan } from '../../src/plan/types.js';
import { fixtureOnce } from '../helpers/fixture-cache.js';
import { lacks } from '../helpers/skip.js';
import { copy, lib, link, makeConfig, runConfig, type ConfigOver } from '../plan/helpers.js';
import { buildCheckFixtures, hasGcc, type CheckFixtures } from './fixtures.js';

const EM_AARCH64 = 183;

/** A copy of `elf` whose e_machine says AArch64 (the rest, an x86-64 build, is still readable). */
function asAarch64(elf: string, out: string): string {
  const b = readFileSync(elf);
  b.writeUInt16LE(EM_AARCH64, 18);
  writeFileSync(out, b);
  return out;
}

interface Extra {
  dir: string;
  /** A static ELF: no dynamic section at all. */
  staticKernel: string;
  /** A dynamic executable that exports nothing (its .dynsym holds only what it imports). */
  importsOnlyKernel: string;
  /** A program needing a thread-local variable its library no longer defines. */
  tls: string;
  /** A program whose library defines what it needs as protected, weak and unique symbols. */
  defs: string;
  /** A program whose library has only a SysV hash table, and lost one of two functions. */
  sysv: string;
  /** A program calling fork, vfork and system (OSv stubs them). */
  stubs: string;
  /** A program calling the fork of a library of its own. */
  ownFork: string;
  /** A tree holding a program that needs libpa.so.1 and libpb.so.1, and two libraries needing one each, none of those two shipped. */
  pairTree: string;
  /**
   * A tree to copy to its own path: bin/prog needs libx.so.1 (its RUNPATH $ORIGIN/../lib),
   * liby.so.1 (lib/liby.so.1 -> ../real/liby.so.1.0), libloop.so.1 (not there: the test adds
   * a link to itself), and ABS/sub/libnoname.so by absolute path (no soname); bin/rprog,
   * position-dependent and exporting nothing, needs libx.so.1 through a DT_RPATH.
   */
  layout: string;
  /** A program calling eight functions its library no longer defines. */
  eight: string;
  /** A C++ program: it needs libstdc++.so.6. */
  cxx: string | undefined;
  cleanup(): void;
}

const EIGHT = ['e_a', 'e_b', 'e_c', 'e_d', 'e_e', 'e_f', 'e_g', 'e_h'];

const run = promisify(execFile);
const gcc = async (...args: string[]): Promise<void> => {
  await run('gcc', args);
};

async function compileExtra(): Promise<Extra> {
  const dir = mkdtempSync(join(tmpdir(), 'osv-check-failures-'));
  const src = (name: string, text: string): string => {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  };
  const lib = (name: string, file: string, text: string, ...extra: string[]): Promise<void> => gcc('-shared', '-fPIC', `-Wl,-soname,${name}`, src(file, text), '-o', join(dir, name), ...extra);
  const prog = (name: string, text: string, libName: string): Promise<void> =>
    gcc('-fPIE', '-pie', src(`${name}.c`, text), '-o', join(dir, name), '-L', dir, `-l:${libName}`, `-Wl,-rpath,${dir}`);
  await gcc('-static', '-nostdlib', '-no-pie', src('static.c', 'void kfunc(void) {}\nvoid _start(void) {}\n'), '-o', join(dir, 'static.elf'));
  await lib('libimp.so', 'imp.c', 'void imp(void) {}\n');
  // GNU ld's hash table of an executable that exports nothing: symoffset 1, no chain words.
  await gcc('-no-pie', '-nostdlib', src('imports.c', 'void imp(void);\nvoid _start(void) { imp(); }\n'), '-o', join(dir, 'imports.elf'), '-L', dir, '-l:libimp.so');
  // Phase 1: the libraries as the programs are linked against them.
  await Promise.all([
    lib('libtls.so.1', 'tls1.c', '__thread int tls_var = 1;\n'),
    lib(
      'libdefs.so.1',
      'defs.c',
      [
        '__attribute__((visibility("protected"))) int prot_fn(void) { return 1; }',
        '__attribute__((weak)) int weak_def(void) { return 2; }',
        // What g++ makes of a static member of a template: STB_GNU_UNIQUE.
        '__asm__(".globl uniq_var\\n.type uniq_var, @gnu_unique_object\\n.data\\n.align 4\\nuniq_var: .long 7\\n.size uniq_var, 4\\n.text");',
        '',
      ].join('\n'),
    ),
    lib('libeight.so.1', 'eight1.c', EIGHT.map((n) => `int ${n}(void) { return 1; }\n`).join('')),
    lib('libsysv.so.1', 'sysv1.c', 'int sysv_fn(void) { return 1; }\nint sysv_gone(void) { return 2; }\n', '-Wl,--hash-style=sysv'),
  ]);
  await Promise.all([
    prog('tls', 'extern __thread int tls_var;\nint main(void) { return tls_var; }\n', 'libtls.so.1'),
    prog('defs', 'int prot_fn(void);\nint weak_def(void);\nextern int uniq_var;\nint main(void) { return prot_fn() + weak_def() + uniq_var; }\n', 'libdefs.so.1'),
    prog('eight', `${EIGHT.map((n) => `int ${n}(void);\n`).join('')}int main(void) { return ${EIGHT.map((n) => `${n}()`).join(' + ')}; }\n`, 'libeight.so.1'),
    prog('sysv', 'int sysv_fn(void);\nint sysv_gone(void);\nint main(void) { return sysv_fn() + sysv_gone(); }\n', 'libsysv.so.1'),
  ]);
  const pair = join(dir, 'pair');
  mkdirSync(pair);
  await Promise.all([
    lib('libpa.so.1', 'pa.c', 'int pa_fn(void) { return 1; }\n'),
    lib('libpb.so.1', 'pb.c', 'int pb_fn(void) { return 2; }\n'),
    lib('libmyfork.so.1', 'myfork.c', 'int fork(void) { return 0; }\n'),
    gcc('-fPIE', '-pie', src('stubs.c', '#include <stdlib.h>\n#include <unistd.h>\nint main(void) { if (fork() == 0) return 0; if (vfork() == 0) _exit(0); return system("true"); }\n'), '-o', join(dir, 'stubs')),
  ]);
  await Promise.all([
    prog('own-fork', 'int fork(void);\nint main(void) { return fork(); }\n', 'libmyfork.so.1'),
    gcc('-fPIE', '-pie', src('pair.c', 'int pa_fn(void);\nint pb_fn(void);\nint main(void) { return pa_fn() + pb_fn(); }\n'), '-o', join(pair, 'pair'), '-L', dir, '-l:libpa.so.1', '-l:libpb.so.1'),
    gcc('-shared', '-fPIC', src('ua.c', 'int pa_fn(void);\nint ua(void) { return pa_fn(); }\n'), '-o', join(pair, 'uses-a.so'), '-L', dir, '-l:libpa.so.1'),
    gcc('-shared', '-fPIC', src('ub.c', 'int pb_fn(void);\nint ub(void) { return pb_fn(); }\n'), '-o', join(pair, 'uses-b.so'), '-L', dir, '-l:libpb.so.1'),
  ]);
  for (const f of ['uses-a.so', 'uses-b.so']) chmodSync(join(pair, f), 0o644);
  const layout = join(dir, 'layout');
  for (const d of ['bin', 'lib', 'real', 'sub']) mkdirSync(join(layout, d), { recursive: true });
  await Promise.all([
    gcc('-shared', '-fPIC', '-Wl,-soname,libx.so.1', src('x.c', 'int x_fn(void) { return 1; }\n'), '-o', join(layout, 'lib', 'libx.so.1')),
    gcc('-shared', '-fPIC', '-Wl,-soname,liby.so.1', src('y.c', 'int y_fn(void) { return 2; }\n'), '-o', join(layout, 'real', 'liby.so.1.0')),
    gcc('-shared', '-fPIC', '-Wl,-soname,libloop.so.1', src('loop.c', 'int loop_fn(void) { return 3; }\n'), '-o', join(dir, 'libloop.so.1')),
    gcc('-shared', '-fPIC', src('noname.c', 'int noname_fn(void) { return 4; }\n'), '-o', join(layout, 'sub', 'libnoname.so')),
  ]);
  symlinkSync('../real/liby.so.1.0', join(layout, 'lib', 'liby.so.1'));
  const progSrc = src('layout.c', 'int x_fn(void);\nint y_fn(void);\nint loop_fn(void);\nint noname_fn(void);\nint main(void) { return x_fn() + y_fn() + loop_fn() + noname_fn(); }\n');
  const progLibs = ['-L', join(layout, 'lib'), '-l:libx.so.1', '-l:liby.so.1', '-L', dir, '-l:libloop.so.1', join(layout, 'sub', 'libnoname.so')];
  await Promise.all([
    gcc('-fPIE', '-pie', progSrc, '-o', join(layout, 'bin', 'prog'), ...progLibs, '-Wl,--enable-new-dtags,-rpath,$ORIGIN/../lib'),
    gcc('-no-pie', src('rprog.c', 'int x_fn(void);\nint main(void) { return x_fn(); }\n'), '-o', join(layout, 'bin', 'rprog'), '-L', join(layout, 'lib'), '-l:libx.so.1', '-Wl,--disable-new-dtags,-rpath,$ORIGIN/../lib'),
  ]);
  let cxx: string | undefined = join(dir, 'cxx');
  try {
    await run('g++', ['-fPIE', '-pie', src('cxx.cc', '#include <string>\nint main(int argc, char **argv) { std::string s(argv[0]); return s.size(); }\n'), '-o', cxx]);
  } catch {
    cxx = undefined;
  }
  // Phase 2: the libraries change under the programs.
  await Promise.all([lib('libeight.so.1', 'eight2.c', 'int eight_other(void) { return 0; }\n'), lib('libtls.so.1', 'tls2.c', 'int tls_other = 1;\n'), lib('libsysv.so.1', 'sysv2.c', 'int sysv_fn(void) { return 1; }\n', '-Wl,--hash-style=sysv')]);
  return {
    dir,
    staticKernel: join(dir, 'static.elf'),
    importsOnlyKernel: join(dir, 'imports.elf'),
    tls: join(dir, 'tls'),
    defs: join(dir, 'defs'),
    sysv: join(dir, 'sysv'),
    eight: join(dir, 'eight'),
    stubs: join(dir, 'stubs'),
    ownFork: join(dir, 'own-fork'),
    pairTree: pair,
    layout,
    cxx,
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

describe.skipIf(lacks('test/check/failures.test.ts', [hasGcc, 'gcc is not installed (it compiles the fixtures)']))('the symbol check where something is wrong', () => {
  let fx: CheckFixtures;
  let ex: Extra;
  let kernel: KernelBundle;
  let scratch: string;
  beforeAll(async () => {
    fx = await buildCheckFixtures();
    ex = await fixtureOnce('check-failure-fixtures', compileExtra);
    kernel = { elf: fx.kernelElf, sha256: sha256File(fx.kernelElf), origin: 'path', hiddenSymbols: false };
    scratch = mkdtempSync(join(tmpdir(), 'osv-check-failures-run-'));
  });
  afterAll(() => {
    fx?.cleanup();
    ex?.cleanup();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  let n = 0;
  const fresh = (): string => {
    const d = join(scratch, `d${n++}`);
    mkdirSync(d);
    return d;
  };
  /** The plan of a program of the check fixtures, or of these (in their own project directory). */
  const planOf = (program: string, over: ConfigOver = {}): Plan => {
    const r = plan(makeConfig({ dir: program.startsWith(ex.dir) ? ex.dir : fx.dir, cmd: [program], ...over }), { env: {} });
    if (!r.ok) throw new Error(r.error.errors.map((e) => e.message).join('\n'));
    return r.value;
  };
  /** The check of `p` against `k` (null: without a kernel). */
  const check = (p: Plan, k: KernelBundle | null = kernel, cache: SymbolCache = noSymbolCache, fs: HostFs = nodeHostFs): CheckReport => {
    const r = checkPlan(p, k ?? undefined, fs, { cache, objects: noObjectCache, reports: noReportCache });
    if (!r.ok) throw new Error(r.error.message);
    return r.value;
  };
  const bundle = (elf: string): KernelBundle => ({ elf, sha256: sha256File(elf), origin: 'path', hiddenSymbols: false });
  const objectOf = (r: CheckReport, guest: string) => {
    const o = r.perObject.find((x) => x.guest === guest);
    if (!o) throw new Error(`${guest} not checked; checked: ${r.perObject.map((x) => x.guest).join(', ')}`);
    return o;
  };

  describe('the kernel', () => {
    it('refuses a kernel built for another architecture, from the ELF and from the cache alike', () => {
      const elf = asAarch64(fx.kernelElf, join(fresh(), 'loader-stripped.elf'));
      const cacheDir = fresh();
      for (const cached of [false, true]) {
        const r = checkPlan(planOf(fx.f.ok), bundle(elf), undefined, { cache: fileSymbolCache(cacheDir), objects: noObjectCache, reports: noReportCache });
        expect(r.ok).toBe(false);
        if (r.ok) return;
        expect(r.error).toMatchObject({
          code: 'check.kernel-arch',
          message: `the kernel ${elf} is for AArch64, but the image is for x86_64`,
          hint: 'use an OSv kernel built for x86_64, or set arch to match the kernel',
        });
        // The exports were kept (they say what the kernel is): the second round reads them.
        expect(existsSync(join(cacheDir, `${sha256File(elf)}.json`)), `cached: ${cached}`).toBe(true);
      }
    });

    it('refuses a kernel that exports no dynamic symbols (a static ELF, or one that only imports), saying which file to give', () => {
      for (const elf of [ex.staticKernel, ex.importsOnlyKernel]) {
        const r = checkPlan(planOf(fx.f.ok), bundle(elf), undefined, { cache: noSymbolCache, objects: noObjectCache, reports: noReportCache });
        expect(r.ok).toBe(false);
        if (r.ok) return;
        expect(r.error).toMatchObject({
          code: 'check.kernel-no-symbols',
          message: `${elf} exports no dynamic symbols, so it cannot be checked against`,
          hint: "give OSv's loader-stripped.elf or loader.elf (not loader.img or vmlinuz.bin)",
        });
      }
    });

    it('refuses a file that is not an ELF, with the reader\'s reason and what to give instead', () => {
      const bogus = join(fresh(), 'loader.img');
      writeFileSync(bogus, Buffer.alloc(512, 0x90));
      const r = readKernelExports(nodeHostFs, bogus, 'd'.repeat(64));
      expect(r.ok).toBe(false);
      if (r.ok) return;
      expect(r.error.code).toBe('check.kernel-unreadable');
      expect(r.error.message).toMatch(new RegExp(`^cannot read the kernel's symbols: ${bogus.replace(/[.]/g, '\\.')}: .*not an ELF file`));
      expect(r.error.hint).toBeTruthy();
      expect(r.error.cause).toMatchObject({ code: 'elf.bad-magic' });
    });

    it('keys the check on the ELF\'s own sha256 when the bundle\'s primary file is the boot image', () => {
      const elfSha = sha256File(fx.kernelElf);
      const dir = fresh();
      const k: KernelBundle = { elf: fx.kernelElf, img: '/nowhere/loader.img', sha256: 'e'.repeat(64), sha256s: { elf: elfSha, img: 'e'.repeat(64) }, origin: 'release', hiddenSymbols: false };
      const r = check(planOf(fx.f.ok), k, fileSymbolCache(dir));
      expect(r.kernel).toEqual({ checked: true, sha256: elfSha, symbols: r.kernel.symbols, cached: false });
      expect(existsSync(join(dir, `${elfSha}.json`))).toBe(true);
      expect(existsSync(join(dir, `${'e'.repeat(64)}.json`))).toBe(false);
    });

    it('says why the kernel was not checked: a bundle with only a boot image, or the reason it is given', () => {
      const p = planOf(fx.f.needsFn);
      const imgOnly: KernelBundle = { img: '/nowhere/loader.img', sha256: 'f'.repeat(64), origin: 'release', hiddenSymbols: false };
      expect(check(p, imgOnly).kernel).toEqual({ checked: false, reason: 'the kernel bundle has no loader-stripped.elf (only a boot image)' });
      const r = checkPlan(p, undefined, undefined, { noKernelReason: 'kernel v0.57.0 is not downloaded yet', objects: noObjectCache, reports: noReportCache });
      if (!r.ok) throw new Error(r.error.message);
      expect(r.value.kernel).toEqual({ checked: false, reason: 'kernel v0.57.0 is not downloaded yet' });
      expect(r.value.warnings.find((w) => w.code === 'check.no-kernel')?.message).toBe(
        `the kernel's symbols were not checked: kernel v0.57.0 is not downloaded yet. ${r.value.totals.unchecked} needed symbols that no object of the image defines may or may not be provided by OSv`,
      );
      expect(r.value.summary).toBe(`symbols: no errors, all found [${r.value.totals.objects} objects, ${r.value.totals.needs} needed symbols; kernel NOT checked, ${r.value.totals.unchecked} symbols unchecked]`);
    });
  });

  describe('the kernel symbol cache', () => {
    let exports: KernelExports;
    let sha: string;
    beforeAll(() => {
      sha = sha256File(fx.versionedKernelElf);
      const r = readKernelExports(nodeHostFs, fx.versionedKernelElf, sha);
      if (!r.ok) throw new Error(r.error.message);
      exports = r.value;
    });
    const written = (): string => {
      const dir = fresh();
      fileSymbolCache(dir).write(sha, exports);
      return dir;
    };
    const plain = (e: KernelExports | undefined): unknown => e && { ...e, index: { names: e.index.names.toString('latin1'), table: [...e.index.table] } };

    it('gives back in a new process what it wrote, and in the same process what it read, without reading again', () => {
      const dir = written();
      const cache = fileSymbolCache(dir);
      const first = cache.read(sha);
      expect(plain(first)).toEqual(plain(exports));
      // The version-definition symbols (GLIBC_9.8) are exported too, each in its own version.
      expect(first?.versioned).toEqual({ 'GLIBC_9.8': ['GLIBC_9.8'], 'GLIBC_9.9': ['GLIBC_9.9'], kv_new: ['GLIBC_9.8'], kv_ok: ['GLIBC_9.9'] });
      rmSync(join(dir, `${sha}.json`));
      rmSync(join(dir, `${sha}.names`));
      expect(cache.read(sha)).toBe(first);
      expect(fileSymbolCache(dir).read(sha)).toBeUndefined();
    });

    it('keeps what it could not write for the process that wrote it, and fails nothing', () => {
      const dir = join(fresh(), 'a-file');
      writeFileSync(dir, 'where the directory should be');
      const cache = fileSymbolCache(dir);
      expect(() => cache.write(sha, exports)).not.toThrow();
      expect(cache.read(sha)).toBe(exports);
      expect(fileSymbolCache(dir).read(sha)).toBeUndefined();
    });

    it('never writes the description without its index', () => {
      const dir = fresh();
      mkdirSync(join(dir, `${sha}.names`)); // the index cannot be written over a directory
      fileSymbolCache(dir).write(sha, exports);
      expect(existsSync(join(dir, `${sha}.json`))).toBe(false);
      expect(fileSymbolCache(dir).read(sha)).toBeUndefined();
    });

    it('takes only a sha256 for a key: nothing is written or read under any other name', () => {
      const dir = join(fresh(), 'cache');
      for (const key of ['../escape', sha.toUpperCase(), sha.slice(1), `${sha}0`, '']) {
        const cache = fileSymbolCache(dir);
        cache.write(key, exports);
        expect(cache.read(key), key).toBeUndefined();
      }
      expect(existsSync(dir)).toBe(false);
      expect(existsSync(join(dir, '..', 'escape.json'))).toBe(false);
      // A file under such a name is not read either.
      mkdirSync(dir);
      const meta = readFileSync(join(written(), `${sha}.json`));
      writeFileSync(join(dir, 'x.json'), meta);
      expect(fileSymbolCache(dir).read('x')).toBeUndefined();
    });

    it('takes a damaged or foreign description for a miss', () => {
      const dir = written();
      const file = join(dir, `${sha}.json`);
      const good = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
      const bad: Array<string | Record<string, unknown> | null> = [
        'not json',
        null,
        '"a string"',
        { ...good, format: 2 }, // an older osv-up's entry
        { ...good, sha256: 'a'.repeat(64) }, // another kernel's, under this name
        { ...good, machine: '62' },
        { ...good, count: undefined },
        { ...good, versioned: null },
        { ...good, versioned: undefined },
      ];
      for (const b of bad) {
        writeFileSync(file, typeof b === 'string' ? b : JSON.stringify(b));
        expect(fileSymbolCache(dir).read(sha), JSON.stringify(b)).toBeUndefined();
      }
      writeFileSync(file, JSON.stringify(good));
      expect(plain(fileSymbolCache(dir).read(sha))).toEqual(plain(exports));
    });

    it('takes a damaged or missing index for a miss', () => {
      const dir = written();
      const file = join(dir, `${sha}.names`);
      const good = readFileSync(file);
      const entries = good.readUInt32LE(8);
      const withHeader = (magic: string, tableEntries: number, nameBytes: number, body: Buffer): Buffer => {
        const h = Buffer.alloc(16);
        h.write(magic, 0, 'latin1');
        h.writeUInt32LE(tableEntries, 8);
        h.writeUInt32LE(nameBytes, 12);
        return Buffer.concat([h, body]);
      };
      const body = good.subarray(16);
      const nameBytes = good.readUInt32LE(12);
      expect(16 + entries * 4 + nameBytes).toBe(good.length);
      const bad: Buffer[] = [
        Buffer.alloc(0),
        good.subarray(0, 15), // shorter than its header
        withHeader('OSVSYMS2', entries, nameBytes, body), // another format
        withHeader('OSVSYMS1', entries + 1, nameBytes, body), // a table longer than the file says
        withHeader('OSVSYMS1', entries, nameBytes - 1, body),
        good.subarray(0, good.length - 1), // cut short
        Buffer.concat([good, Buffer.from('\n')]), // trailing bytes
      ];
      for (const b of bad) {
        writeFileSync(file, b);
        expect(fileSymbolCache(dir).read(sha), b.subarray(0, 16).toString('latin1')).toBeUndefined();
      }
      rmSync(file);
      expect(fileSymbolCache(dir).read(sha)).toBeUndefined();
      writeFileSync(file, good);
      expect(plain(fileSymbolCache(dir).read(sha))).toEqual(plain(exports));
    });

    it('reads the kernel again when a cached index is well-formed but unusable, and writes it again', () => {
      const dir = fresh();
      const p = planOf(fx.f.ok);
      expect(check(p, kernel, fileSymbolCache(dir)).kernel.cached).toBe(false);
      const file = join(dir, `${kernel.sha256}.names`);
      const good = readFileSync(file);
      // Three table entries: consistent lengths, but a table that is not a power of two.
      const names = good.subarray(16 + good.readUInt32LE(8) * 4);
      const h = Buffer.alloc(16 + 12);
      h.write('OSVSYMS1', 0, 'latin1');
      h.writeUInt32LE(3, 8);
      h.writeUInt32LE(names.length, 12);
      writeFileSync(file, Buffer.concat([h, names]));
      const again = check(p, kernel, fileSymbolCache(dir));
      expect(again).toMatchObject({ ok: true, kernel: { cached: false, symbols: again.kernel.symbols } });
      expect(readFileSync(file)).toEqual(good);
      expect(check(p, kernel, fileSymbolCache(dir)).kernel.cached).toBe(true);
    });

    it('lives under $XDG_CACHE_HOME when it is an absolute path, else under ~/.cache', () => {
      expect(defaultSymbolCacheDir({ XDG_CACHE_HOME: '/var/cache/me', HOME: '/home/me' })).toBe('/var/cache/me/osv-up/symbols');
      expect(defaultObjectCacheDir({ XDG_CACHE_HOME: '/var/cache/me', HOME: '/home/me' })).toBe('/var/cache/me/osv-up/objects');
      // The XDG specification: a relative path is invalid and ignored.
      expect(defaultSymbolCacheDir({ XDG_CACHE_HOME: 'cache', HOME: '/home/me' })).toBe('/home/me/.cache/osv-up/symbols');
      expect(defaultSymbolCacheDir({ XDG_CACHE_HOME: '', HOME: '/home/me' })).toBe('/home/me/.cache/osv-up/symbols');
      expect(defaultSymbolCacheDir({ HOME: '' })).toBe(join(homedir(), '.cache', 'osv-up', 'symbols'));
      expect(defaultSymbolCacheDir({})).toBe(join(homedir(), '.cache', 'osv-up', 'symbols'));
    });
  });

  describe('the image', () => {
    it('reports an object built for another architecture, and a file that vanished after planning, and checks the rest', () => {
      const tree = join(fresh(), 'tree');
      mkdirSync(tree);
      asAarch64(fx.f.libhelper, join(tree, 'libarm.so.1'));
      copyFileSync(fx.f.libhelper, join(tree, 'libgone.so.1'));
      const p = planOf(fx.f.ok, { files: [copy(tree, '/t')] });
      rmSync(join(tree, 'libgone.so.1'));
      const r = check(p);
      expect(r.warnings.filter((w) => w.code === 'check.unreadable')).toEqual([
        { severity: 'warning', code: 'check.unreadable', object: '/t/libarm.so.1', message: `/t/libarm.so.1 (${join(tree, 'libarm.so.1')}) was not checked: a 64-bit AArch64 object, which an x86_64 OSv cannot load` },
        { severity: 'warning', code: 'check.unreadable', object: '/t/libgone.so.1', message: `/t/libgone.so.1 (${join(tree, 'libgone.so.1')}) was not checked: cannot open: ENOENT` },
      ]);
      expect(r.ok).toBe(true);
      expect(objectOf(r, '/ok').missing).toEqual([]);
    });

    it('opens files named like shared libraries, and passes over other files without an executable bit', () => {
      const tree = join(fresh(), 'names');
      mkdirSync(tree);
      for (const name of ['libz.so', 'libz.so.1', 'libz.so.1.2.13', 'libz.so.10', 'libz.so.bak', 'libz.sox', 'libz.so.1a', 'libz.so.', 'so.1', 'libzso.1']) {
        copyFileSync(fx.f.libhelper, join(tree, name));
        chmodSync(join(tree, name), 0o644); // gcc makes libraries executable
      }
      const r = check(planOf(fx.f.ok, { files: [copy(tree, '/n', { resolve: false })] }));
      expect(r.perObject.map((o) => o.guest).filter((g) => g.startsWith('/n/'))).toEqual(['/n/libz.so', '/n/libz.so.1', '/n/libz.so.1.2.13', '/n/libz.so.10']);
    });

    it('finds what a program needs the way OSv does: its RUNPATH or RPATH with $ORIGIN, symlinks, an absolute path; a symlink loop finds nothing', () => {
      const L = ex.layout;
      const r = check(planOf(fx.f.ok, { files: [copy(L, L, { resolve: false }), link(`${L}/lib/libloop.so.1`, 'libloop.so.1')] }));
      expect(objectOf(r, `${L}/bin/prog`)).toMatchObject({ role: 'other-program', missingLibraries: ['libloop.so.1'], missing: [], unchecked: 1 });
      // Each library was found where OSv looks, and so checked with the program.
      expect(r.perObject.filter((o) => o.guest.startsWith(L)).map((o) => [o.guest.slice(L.length), o.role, o.chain.join(' -> ')])).toEqual([
        ['/bin/prog', 'other-program', 'prog'],
        ['/bin/rprog', 'other-program', 'rprog'],
        ['/lib/libx.so.1', 'other-program', 'libx.so.1'],
        ['/real/liby.so.1.0', 'other-program', 'liby.so.1'],
        ['/sub/libnoname.so', 'other-program', 'libnoname.so'],
      ]);
      expect(objectOf(r, `${L}/bin/rprog`)).toMatchObject({ missingLibraries: [], missing: [] });
      expect(r.warnings.map((w) => w.message)).toEqual([
        "prog needs libloop.so.1, which is not in the image: OSv loads the program without it, and every symbol from it fails (not checked) [not the selected run's program: a run whose program it is checks it]",
      ]);
    });

    it.skipIf(lacks('the C++ program of test/check/failures.test.ts', [ex?.cxx ?? existsSync('/usr/bin/g++'), 'g++ is not installed']))(
      "takes libstdc++.so.6 for the kernel's unless the kernel hides its C++ symbols",
      () => {
        const p = planOf(ex.cxx!);
        expect(p.entries.map((e) => e.guest)).not.toContain('/usr/lib/libstdc++.so.6');
        expect(objectOf(check(p), '/cxx').missingLibraries).toEqual([]);
        const hidden = check(p, { ...kernel, hiddenSymbols: true });
        expect(objectOf(hidden, '/cxx').missingLibraries).toEqual(['libstdc++.so.6']);
        expect(hidden.errors.map((e) => e.message)).toEqual([
          'cxx needs libstdc++.so.6, which is not in the image: OSv loads the program without it, and every symbol from it fails (not checked)',
        ]);
      },
    );

    it('reports a thread-local variable nothing defines as an error: the loader aborts', () => {
      const r = check(planOf(ex.tls));
      expect(objectOf(r, '/tls').missing).toEqual([{ name: 'tls_var', kind: 'tls', bind: 'tls', severity: 'error', reason: 'undefined' }]);
      expect(r.errors.map((e) => e.message)).toEqual(['tls needs 1 data object that nothing in the image or the kernel defines: tls_var; the loader aborts before the program starts']);
    });

    it('finds protected, weak and unique definitions', () => {
      const r = check(planOf(ex.defs));
      expect(objectOf(r, '/defs').missing).toEqual([]);
      expect(r.errors).toEqual([]);
      expect(r.warnings).toEqual([]);
      for (const s of ['prot_fn', 'weak_def', 'uniq_var']) expect(r.symbolOwner(s)).toMatchObject({ object: '/defs', symbol: s });
    });

    it('looks symbols up in a library without a GNU hash table', () => {
      const r = check(planOf(ex.sysv));
      expect(objectOf(r, '/sysv').missing).toEqual([{ name: 'sysv_gone', kind: 'function', bind: 'plt', severity: 'warning', reason: 'undefined' }]);
      expect(r.warnings.map((w) => w.message)).toEqual(['sysv: 1 function OSv lacks, all via PLT (fails only if called): sysv_gone']);
    });
  });

  describe('what the findings say', () => {
    it('names the stubbed calls grouped by what they do, and only where the kernel is what answers them', () => {
      // Without a kernel each is unchecked, but the stub is known by name.
      // By name, as the other findings name symbols (the symbol table's order means nothing to a reader).
      const r = check(planOf(ex.stubs), null);
      expect(r.warnings.filter((w) => w.code === 'check.stub')).toEqual([
        {
          severity: 'warning',
          code: 'check.stub',
          object: '/stubs',
          message: 'stubs uses 3 calls OSv only stubs: fork, vfork: returns -1 (no child process is created); system: returns -1 (the command is not run)',
          symbols: ['fork', 'system', 'vfork'],
        },
      ]);
      expect(r.totals.stubCalls).toBe(3);
      expect(renderCheck(r, { verbose: true }).split('\n').slice(-5)).toEqual([
        '',
        `stubs  /stubs <- ${ex.stubs}; program, cmd[0] (/project/osv.yaml:2:1)`,
        '  stub fork: returns -1 (no child process is created)',
        '  stub system: returns -1 (the command is not run)',
        '  stub vfork: returns -1 (no child process is created)',
      ]);
      expect(r.summary).toMatch(/^symbols: no errors; 3 stubbed calls \[/);
      // fork from a library of the image is that library's, not OSv's stub.
      const own = check(planOf(ex.ownFork));
      expect(objectOf(own, '/own-fork')).toMatchObject({ missing: [], stubs: [] });
      expect(own.warnings).toEqual([]);
    });

    it('names up to eight symbols in a finding, all of them when there are eight', () => {
      const r = check(planOf(ex.eight));
      expect(r.warnings.map((w) => w.message)).toEqual(['eight: 8 functions OSv lacks, all via PLT (fails only if called): e_a, e_b, e_c, e_d, e_e, e_f, e_g, e_h']);
    });

    it('prints only the summary line when there is nothing to report, and no hint about --verbose', () => {
      const r = check(planOf(fx.f.ok));
      expect(renderCheck(r)).toBe(r.summary);
      expect(renderCheck(r, { verbose: true })).toBe(r.summary);
    });

    it('passes over a file the configuration writes, whatever its name or mode', () => {
      const r = check(planOf(fx.f.ok, { files: [{ kind: 'content', dest: '/usr/lib/libnotes.so.1', content: '\x7fELF, not really\n', mode: 0o755, source: { file: '/project/osv.yaml', line: 9, column: 3 } }] }));
      expect(r.perObject.map((o) => o.guest)).not.toContain('/usr/lib/libnotes.so.1');
      expect(r.warnings).toEqual([]);
    });

    it('checks a program two runs share once, under the first of them, and not the selected run\'s program again', () => {
      const runs = { again: runConfig([fx.f.ok]), data: runConfig([fx.f.needsData]), data2: runConfig([fx.f.needsData]) };
      const r = check(planOf(fx.f.ok, { runs }));
      expect(r.perObject.filter((o) => o.role !== 'needed').map((o) => [o.guest, o.role, o.run])).toEqual([
        ['/needs-data', 'other-program', 'data'],
        ['/ok', 'program', undefined],
        ['/usr/lib/libgcc_s.so.1', 'dlopen', undefined],
        ['/usr/lib/libghost.so.1', 'other-program', 'data'], // loaded with that program
      ]);
      expect(r.warnings.map((w) => w.message)).toEqual([
        'needs-data needs 1 data object that nothing in the image or the kernel defines: ghost_data; ' +
          `${objectOf(r, '/needs-data').missing[0]!.bind === 'copy' ? 'the loader aborts before the program starts' : 'the program faults when it first reads them'}` +
          " [not the selected run's program: `osv check --run data` checks it]",
      ]);
    });

    it('lists each missing symbol with its version, the file it is needed from, its binding and what is defined instead', () => {
      const r = check(planOf(fx.f.version, { libraries: [lib(join(fx.dir, 'uses', 'libuses.so.1'))], files: [copy(ex.tls, '/bin/tls')] }), kernel);
      const text = renderCheck(r, { verbose: true, red: (s) => `<r>${s}</r>`, dim: (s) => `[${s}]` });
      expect(text.split('\n').filter((l) => l.startsWith('  ') || l.startsWith('<r>'))).toEqual([
        '<r>error</r>: /usr/lib/libuses.so.1 needs 1 data object that nothing in the image or the kernel defines: ext_var; the program faults when it first reads them',
        // Objects in guest path order: /bin/tls (another program), /usr/lib/libuses.so.1, /version.
        '  E tls_var  tls, TLS relocation (the loader aborts)',
        '  E ext_var  unknown, bound at load (GLOB_DAT/64)',
        '  W ver_fn@VER_2 (libver.so.1)  function, PLT (JUMP_SLOT); defined only as libver.so.1: VER_1',
      ]);
    });

    it('says "which are" and "them" for several missing libraries, of a program and of libraries loaded at run time', () => {
      const r = check(planOf(fx.f.ok, { files: [copy(ex.pairTree, '/pair', { resolve: false })] }));
      expect(r.warnings.map((w) => w.message)).toEqual([
        "pair needs libpa.so.1, libpb.so.1, which are not in the image: OSv loads the program without them, and every symbol from them fails (not checked) [not the selected run's program: a run whose program it is checks it]",
        '2 libraries loaded at run time need libraries that are not in the image, so using them will fail: uses-a.so (libpa.so.1), uses-b.so (libpb.so.1); add the libraries under `libraries` to ship them',
      ]);
      expect(r.warnings[1]?.symbols).toEqual(['libpa.so.1', 'libpb.so.1']);
      // Another program's missing libraries are not this run's: two needed libraries, counted once each.
      expect(r.totals).toMatchObject({ missingLibraries: 2, otherRunObjects: 1, errors: 0 });
      expect(r.summary).toMatch(/^symbols: no errors; 2 needed libraries not in the image, problems in 1 object of other runs' programs \(check them with --run\) \[/);
      expect(objectOf(r, '/pair/pair')).toMatchObject({ role: 'other-program', missingLibraries: ['libpa.so.1', 'libpb.so.1'], unchecked: 2, missing: [] });
    });
  });

  describe('the refusal `osv build` prints', () => {
    it('says how many errors there are, lists each, and tells the fix', () => {
      const one = check(planOf(fx.f.needsData));
      const refusal = checkError(one);
      expect(refusal).toMatchObject({
        code: 'check.failed',
        exitCode: 1,
        message: 'the symbol check found an error: the program would fail to start on OSv',
        details: one.errors.map((e) => e.message),
        hint: 'ship the library that defines them (libraries:, files:), or pass --no-check to build anyway; `osv check --verbose` lists every symbol',
      });
      expect(refusal?.details).toHaveLength(1);
      // libuses.so.1, loaded at run time, reads a variable nothing defines.
      const two = check(planOf(fx.f.needsData, { libraries: [lib(join(fx.dir, 'uses', 'libuses.so.1'))] }));
      expect(two.errors).toHaveLength(2);
      expect(checkError(two)).toMatchObject({
        message: 'the symbol check found 2 errors: the program would fail to start on OSv',
        details: two.errors.map((e) => e.message),
      });
      expect(checkError(check(planOf(fx.f.needsFn)))).toBeUndefined();
    });
  });
});
