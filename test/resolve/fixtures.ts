// ELF fixtures compiled by gcc into a temporary directory: one program or library per
// search rule the resolver must follow. Nothing here is committed; beforeAll builds it.

import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { fixtureOnce } from '../helpers/fixture-cache.js';
import { gccM32, gccStatic } from '../helpers/tools.js';

export { gccM32, gccStatic, hasGcc } from '../helpers/tools.js';

export interface Fixtures {
  dir: string;
  /** Absolute paths of the compiled files, by role (libwidth32 only with gccM32(), static and staticPie only with gccStatic()). */
  f: Record<string, string>;
  cleanup(): void;
}

const run = promisify(execFile);
const gcc = async (args: string[], cwd: string): Promise<void> => {
  await run('gcc', args, { cwd });
};

/**
 * A shared library exporting `int <fn>(void)` that calls `calls` (Debian's gcc links with
 * --as-needed: a library not called is not recorded in DT_NEEDED).
 */
async function lib(cwd: string, out: string, soname: string, fn: string, calls: string[], extra: string[] = []): Promise<string> {
  const c = join(cwd, `${fn}-${soname}.c`);
  const decls = calls.map((x) => `int ${x}(void);\n`).join('');
  writeFileSync(c, `${decls}int ${fn}(void) { return ${[String(fn.length + soname.length), ...calls.map((x) => `${x}()`)].join(' + ')}; }\n`);
  await gcc(['-shared', '-fPIC', `-Wl,-soname,${soname}`, c, '-o', out, ...extra], cwd);
  return out;
}

/** A program calling the given functions. */
async function prog(cwd: string, out: string, calls: string[], extra: string[]): Promise<string> {
  const c = `${out}.c`;
  const decls = calls.map((f) => `int ${f}(void);`).join('\n');
  writeFileSync(c, `${decls}\nint main(void) { return ${calls.map((f) => `${f}()`).join(' + ') || '0'}; }\n`);
  await gcc([c, '-o', out, ...extra], cwd);
  return out;
}

/**
 * Build every fixture, in dependency phases; within a phase gcc runs in parallel (the
 * machine is shared and gcc spends most of its wall time waiting, not computing).
 */
export const buildFixtures = (): Promise<Fixtures> => fixtureOnce('resolve-fixtures', compileFixtures);

async function compileFixtures(): Promise<Fixtures> {
  const dir = mkdtempSync(join(tmpdir(), 'osv-resolve-'));
  const d = (...p: string[]): string => {
    const x = join(dir, ...p);
    mkdirSync(x, { recursive: true });
    return x;
  };
  const f: Record<string, string> = {};
  const rpath = (p: string): string => `-Wl,--disable-new-dtags,-rpath,${p}`;
  const runpath = (p: string): string => `-Wl,--enable-new-dtags,-rpath,${p}`;
  const L = d('lib'); // a plain library
  const AL = d('app', 'lib'); // $ORIGIN: app/bin/origin finds app/lib/liborigin.so.1
  const AB = d('app', 'bin');
  const C1 = d('chain', 'c1'); // program -> libchain1 (in c1, no search path) -> libchain2 (only in c2)
  const C2 = d('chain', 'c2');
  const G = d('gone'); // a stub that is removed after linking
  const D1 = d('dup', 'one'); // soname collision: "libdup.so.1" here, "libdup.so" (soname libdup.so.1) in two
  const D2 = d('dup', 'two');
  const Y = d('cyc'); // libcyc1 <-> libcyc2
  const W32 = d('widthlibs', 'm32'); // a 32-bit libwidth.so.1 first on the path, the 64-bit one second
  const W64 = d('widthlibs', 'm64');
  // deep -> libdeep1 (DT_RPATH: DB and DX) -> libdeep2 (no search path) -> libdeep3 (only in DX):
  // only libdeep1's DT_RPATH, two loaders up from libdeep3's, finds it.
  const DA = d('deep', 'a');
  const DB = d('deep', 'b');
  const DX = d('deep', 'x');
  const m32 = gccM32();
  const canStatic = gccStatic();
  const useA = ['-L', L, '-l:liba.so.1'];
  const chainLink = ['-L', C1, '-l:libchain1.so.1', `-Wl,-rpath-link,${C2}`];
  f.libdup1 = join(D1, 'libdup.so.1');
  f.libdup2 = join(D2, 'libdup.so');

  await Promise.all([
    lib(L, join(L, 'liba.so.1'), 'liba.so.1', 'a_fn', []).then((x) => (f.liba = x)),
    lib(AL, join(AL, 'liborigin.so.1'), 'liborigin.so.1', 'origin_fn', []).then((x) => (f.liborigin = x)),
    lib(C2, join(C2, 'libchain2.so.1'), 'libchain2.so.1', 'chain2_fn', []).then((x) => (f.libchain2 = x)),
    lib(G, join(G, 'libgone.so.1'), 'libgone.so.1', 'gone_fn', []),
    lib(D1, f.libdup1, 'libdup.so.1', 'dup_fn', []),
    lib(D2, f.libdup2, 'libdup.so', 'dup2_fn', []),
    lib(Y, join(Y, 'libcyc2.so.1'), 'libcyc2.so.1', 'cyc2_fn', []),
    lib(W64, join(W64, 'libwidth.so.1'), 'libwidth.so.1', 'width_fn', []).then((x) => (f.libwidth64 = x)),
    lib(DX, join(DX, 'libdeep3.so.1'), 'libdeep3.so.1', 'deep3_fn', []).then((x) => (f.libdeep3 = x)),
    m32 ? gcc(['-m32', '-shared', '-nostdlib', '-fPIC', '-Wl,-soname,libwidth.so.1', write(join(W32, 'w.c'), 'int width_fn(void) { return 32; }\n'), '-o', (f.libwidth32 = join(W32, 'libwidth.so.1'))], W32) : undefined,
    canStatic ? prog(dir, (f.static = join(dir, 'static')), [], ['-static']) : undefined,
    canStatic ? prog(dir, (f.staticPie = join(dir, 'static-pie')), [], ['-static-pie']) : undefined,
  ]);
  await Promise.all([
    lib(C1, join(C1, 'libchain1.so.1'), 'libchain1.so.1', 'chain1_fn', ['chain2_fn'], ['-L', C2, '-l:libchain2.so.1']).then((x) => (f.libchain1 = x)),
    lib(Y, join(Y, 'libcyc1.so.1'), 'libcyc1.so.1', 'cyc1_fn', ['cyc2_fn'], ['-L', Y, '-l:libcyc2.so.1']).then((x) => (f.libcyc1 = x)),
    prog(dir, (f.pie = join(dir, 'pie')), ['a_fn'], ['-fPIE', '-pie', ...useA, rpath(L)]),
    prog(dir, (f.pde = join(dir, 'pde')), ['a_fn'], ['-no-pie', ...useA, rpath(L)]),
    prog(dir, (f.runpath = join(dir, 'runpath')), ['a_fn'], [...useA, runpath(L)]),
    prog(AB, (f.origin = join(AB, 'origin')), ['origin_fn'], ['-L', AL, '-l:liborigin.so.1', rpath('$ORIGIN/../lib')]),
    prog(dir, (f.missing = join(dir, 'missing')), ['gone_fn', 'a_fn'], ['-L', G, '-l:libgone.so.1', ...useA, rpath(`${G}:${L}`)]),
    prog(dir, (f.collision = join(dir, 'collision')), ['dup_fn', 'dup2_fn'], ['-L', D1, '-l:libdup.so.1', '-L', D2, '-l:libdup.so', rpath(`${D1}:${D2}`)]),
    prog(dir, (f.width = join(dir, 'width')), ['width_fn'], ['-L', W64, '-l:libwidth.so.1', rpath(`${W32}:${W64}`)]),
    lib(DB, join(DB, 'libdeep2.so.1'), 'libdeep2.so.1', 'deep2_fn', ['deep3_fn'], ['-L', DX, '-l:libdeep3.so.1']).then((x) => (f.libdeep2 = x)),
  ]);
  rmSync(join(G, 'libgone.so.1'));
  await Promise.all([
    lib(Y, join(Y, 'libcyc2.so.1'), 'libcyc2.so.1', 'cyc2_fn', ['cyc1_fn'], ['-L', Y, '-l:libcyc1.so.1']).then((x) => (f.libcyc2 = x)),
    lib(D2, f.libdup2, 'libdup.so.1', 'dup2_fn', []),
    prog(dir, (f.chainRpath = join(dir, 'chain-rpath')), ['chain1_fn'], [...chainLink, rpath(`${C1}:${C2}`)]),
    prog(dir, (f.chainRunpath = join(dir, 'chain-runpath')), ['chain1_fn'], [...chainLink, runpath(`${C1}:${C2}`)]),
    lib(DA, join(DA, 'libdeep1.so.1'), 'libdeep1.so.1', 'deep1_fn', ['deep2_fn'], ['-L', DB, '-l:libdeep2.so.1', `-Wl,-rpath-link,${DX}`, rpath(`${DB}:${DX}`)]).then((x) => (f.libdeep1 = x)),
  ]);
  await Promise.all([
    prog(dir, (f.cycle = join(dir, 'cycle')), ['cyc1_fn'], ['-L', Y, '-l:libcyc1.so.1', rpath(Y)]),
    prog(dir, (f.deep = join(dir, 'deep-chain')), ['deep1_fn'], ['-L', DA, '-l:libdeep1.so.1', `-Wl,-rpath-link,${DB}:${DX}`, rpath(DA)]),
  ]);
  return { dir, f, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

function write(path: string, text: string): string {
  writeFileSync(path, text);
  return path;
}

/**
 * What the system's dynamic linker lists for a file (`ldd` runs exactly this). When a
 * library deeper than the program's own DT_NEEDED is missing, ld.so stops with "error while
 * loading shared libraries: <name>" on stderr instead of listing it as "not found".
 */
export function ldList(file: string): { found: Map<string, string>; missing: string[] } {
  const r = spawnSync('/lib64/ld-linux-x86-64.so.2', ['--list', file], { encoding: 'utf8' });
  const found = new Map<string, string>();
  const missing: string[] = [];
  for (const line of r.stdout.split('\n')) {
    const m = /^\s+(\S+) => (\S+) \(0x/.exec(line);
    if (m) found.set(m[1]!, m[2]!);
    const nf = /^\s+(\S+) => not found/.exec(line);
    if (nf) missing.push(nf[1]!);
  }
  const fatal = /error while loading shared libraries: ([^:]+): cannot open/.exec(r.stderr);
  if (fatal && !missing.includes(fatal[1]!)) missing.push(fatal[1]!);
  return { found, missing };
}
