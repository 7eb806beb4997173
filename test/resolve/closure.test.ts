// The resolver on gcc-built fixtures: one test per ld.so search rule, each checked against
// what the system's dynamic linker itself does with the same file.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveClosure, resolveSession } from '../../src/resolve/index.js';
import type { Closure, ResolveOptions, ResolveRoot } from '../../src/resolve/types.js';
import { nodeHostFs, type HostFs } from '../../src/hostfs.js';
import { buildFixtures, gccM32, gccStatic, hasGcc, ldList, type Fixtures } from './fixtures.js';
import { dirname } from 'node:path';
import { lacks } from '../helpers/skip.js';

const base: ResolveOptions = { arch: 'x86_64', sysroot: '/', libraryPath: [], hiddenSymbols: false };

function resolve(roots: ResolveRoot[], over: Partial<ResolveOptions> = {}): Closure {
  const r = resolveClosure(roots, { ...base, ...over }, nodeHostFs);
  if (!r.ok) throw new Error(`unexpected error ${r.error.code}: ${r.error.message}`);
  return r.value;
}
const lib = (c: Closure, soname: string) => c.objects.find((o) => o.soname === soname);

describe.skipIf(lacks('resolveClosure on compiled fixtures', [hasGcc, 'gcc is not installed, the resolver fixtures cannot be compiled']))('resolveClosure on compiled fixtures', () => {
  let fx: Fixtures;
  beforeAll(async () => {
    fx = await buildFixtures();
  });
  afterAll(() => fx?.cleanup());

  it('classifies PIE, non-PIE and shared library, and finds DT_RPATH libraries', () => {
    const pie = resolve([{ path: fx.f.pie! }]);
    expect(pie.objects[0]).toMatchObject({ kind: 'pie', root: true, rule: 'path', soname: 'pie', chain: [] });
    expect(lib(pie, 'liba.so.1')).toMatchObject({ kind: 'shared-library', rule: 'rpath', path: fx.f.liba, chain: ['pie'], tried: [] });
    const pde = resolve([{ path: fx.f.pde! }]);
    expect(pde.objects[0]!.kind).toBe('pde');
    const so = resolve([{ path: fx.f.liba! }]);
    expect(so.objects[0]).toMatchObject({ kind: 'shared-library', soname: 'liba.so.1' });
  });

  it('lists the kernel libraries without following them, and the interpreter last', () => {
    const c = resolve([{ path: fx.f.pie! }]);
    const libc = lib(c, 'libc.so.6')!;
    expect(libc.providedByKernel).toBe(true);
    expect(libc.rule).toBe('ld.so.cache');
    const interp = c.objects[c.objects.length - 1]!;
    expect(interp).toMatchObject({ soname: 'ld-linux-x86-64.so.2', providedByKernel: true, rule: 'path', chain: ['pie'] });
    // Without the OSv filter the interpreter is reached through libc.so.6, as ld.so lists it.
    const full = resolve([{ path: fx.f.pie! }], { osvFilter: false });
    expect(full.objects.every((o) => !o.providedByKernel)).toBe(true);
    expect(lib(full, 'ld-linux-x86-64.so.2')!.chain).toEqual(['pie', 'libc.so.6']);
  });

  it.skipIf(lacks('static executables', [gccStatic(), 'gcc -static cannot link here (no libc.a; Debian: libc6-dev)']))('refuses static and static-pie executables with a clear error', () => {
    for (const [file, what] of [
      [fx.f.static!, 'statically linked'],
      [fx.f.staticPie!, 'static-pie'],
    ] as const) {
      const r = resolveClosure([{ path: file }], base, nodeHostFs);
      expect(r.ok).toBe(false);
      if (!r.ok) {
        expect(r.error.code).toBe('resolve.static-executable');
        expect(r.error.message).toContain(what);
        expect(r.error.message).toContain(file);
      }
    }
  });

  it('finds a DT_RUNPATH library by the runpath rule', () => {
    const c = resolve([{ path: fx.f.runpath! }]);
    expect(lib(c, 'liba.so.1')).toMatchObject({ rule: 'runpath', path: fx.f.liba });
    expect(c.objects[0]!.runpath).toBe(dirname(fx.f.liba!));
  });

  it('expands $ORIGIN from the program directory', () => {
    const c = resolve([{ path: fx.f.origin! }]);
    expect(c.objects[0]!.rpath).toBe('$ORIGIN/../lib');
    const l = lib(c, 'liborigin.so.1')!;
    expect(l.rule).toBe('rpath');
    expect(l.hostPath).toBe(fx.f.liborigin);
    expect(ldList(fx.f.origin!).found.has('liborigin.so.1')).toBe(true);
  });

  it('inherits DT_RPATH through a chain of libraries', () => {
    const c = resolve([{ path: fx.f.chainRpath! }]);
    expect(lib(c, 'libchain2.so.1')).toMatchObject({ rule: 'rpath', hostPath: fx.f.libchain2, chain: ['chain-rpath', 'libchain1.so.1'] });
    expect(c.missing).toEqual([]);
    expect(ldList(fx.f.chainRpath!).found.get('libchain2.so.1')).toBe(fx.f.libchain2);
  });

  it("searches the DT_RPATH of every loader up the chain, not only the immediate loader's and the program's", () => {
    const c = resolve([{ path: fx.f.deep! }]);
    // libdeep2 has no search path and the program's DT_RPATH lacks libdeep3's directory: only
    // libdeep1's DT_RPATH, two loaders up, finds it.
    expect(lib(c, 'libdeep3.so.1')).toMatchObject({ rule: 'rpath', hostPath: fx.f.libdeep3, chain: ['deep-chain', 'libdeep1.so.1', 'libdeep2.so.1'] });
    expect(lib(c, 'libdeep3.so.1')!.tried).toEqual([`${dirname(fx.f.libdeep2!)}/libdeep3.so.1`]);
    expect(c.missing).toEqual([]);
    expect(ldList(fx.f.deep!)).toEqual({ found: expect.any(Map), missing: [] });
    expect(ldList(fx.f.deep!).found.get('libdeep3.so.1')).toBe(fx.f.libdeep3);
  });

  it('does not inherit DT_RUNPATH: the grandchild is missing, with every path tried', () => {
    const c = resolve([{ path: fx.f.chainRunpath! }]);
    expect(lib(c, 'libchain1.so.1')!.rule).toBe('runpath');
    expect(lib(c, 'libchain2.so.1')).toBeUndefined();
    expect(c.missing).toHaveLength(1);
    const m = c.missing[0]!;
    expect(m).toMatchObject({ soname: 'libchain2.so.1', chain: ['chain-runpath', 'libchain1.so.1'], optional: false });
    expect(m.tried).toContain('/lib/x86_64-linux-gnu/libchain2.so.1');
    expect(m.tried).not.toContain(fx.f.libchain2);
    expect(ldList(fx.f.chainRunpath!).missing).toEqual(['libchain2.so.1']);
  });

  it('reports a missing library with its chain and tried paths, or none when optional', () => {
    const c = resolve([{ path: fx.f.missing! }]);
    expect(c.missing).toHaveLength(1);
    const m = c.missing[0]!;
    expect(m.soname).toBe('libgone.so.1');
    expect(m.chain).toEqual(['missing']);
    // DT_RPATH first (both dirs), then the default directories.
    expect(m.tried[0]).toBe(`${dirname(fx.f.missing!)}/gone/libgone.so.1`);
    expect(m.tried[1]).toBe(`${dirname(fx.f.liba!)}/libgone.so.1`);
    expect(m.tried.slice(-4)).toEqual(['/lib/x86_64-linux-gnu/libgone.so.1', '/usr/lib/x86_64-linux-gnu/libgone.so.1', '/lib/libgone.so.1', '/usr/lib/libgone.so.1']);
    expect(lib(c, 'liba.so.1')).toBeDefined();
    expect(resolve([{ path: fx.f.missing! }], { optional: ['libgone.so.1'] }).missing[0]!.optional).toBe(true);
  });

  it('finds a library through libraryPath before the cache', () => {
    const c = resolve([{ soname: 'liba.so.1' }], { libraryPath: [dirname(fx.f.liba!)] });
    expect(c.objects[0]).toMatchObject({ soname: 'liba.so.1', root: true, rule: 'library-path', hostPath: fx.f.liba });
    const none = resolve([{ soname: 'liba.so.1', optional: true }]);
    expect(none.missing[0]).toMatchObject({ soname: 'liba.so.1', optional: true, chain: [] });
  });

  it('names both files of a soname collision', () => {
    const r = resolveClosure([{ path: fx.f.collision! }], base, nodeHostFs);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.code).toBe('resolve.soname-collision');
      expect(r.error.message).toContain('libdup.so.1');
      expect(r.error.details.join('\n')).toContain(fx.f.libdup1!);
      expect(r.error.details.join('\n')).toContain(fx.f.libdup2!);
    }
    // Two roots with one soname collide too.
    const two = resolveClosure([{ path: fx.f.libdup1! }, { path: fx.f.libdup2! }], base, nodeHostFs);
    expect(two.ok ? 'ok' : two.error.code).toBe('resolve.soname-collision');
  });

  it('a session resolves each root as alone, reading each file once for all of them', () => {
    const opened: string[] = [];
    const counting: HostFs = { ...nodeHostFs, open: (p) => (opened.push(p), nodeHostFs.open(p)) };
    const session = resolveSession();
    const roots = [fx.f.pie!, fx.f.pde!];
    const together = roots.map((path) => session([{ path }], base, counting));
    expect(together.map((r) => r.ok && r.value)).toEqual(roots.map((path) => resolve([{ path }])));
    // liba.so.1 and libc.so.6, needed by both programs, were read for the first only.
    expect(opened.filter((p) => p === fx.f.liba).length).toBe(1);
    expect(new Set(opened).size).toBe(opened.length);
  });

  it('resolves a dependency cycle once per library', () => {
    const c = resolve([{ path: fx.f.cycle! }]);
    const names = c.objects.map((o) => o.soname);
    expect(names.filter((n) => n === 'libcyc1.so.1')).toHaveLength(1);
    expect(names.filter((n) => n === 'libcyc2.so.1')).toHaveLength(1);
    expect(lib(c, 'libcyc1.so.1')!.requestedAs).toEqual(['libcyc1.so.1']);
    expect(lib(c, 'libcyc2.so.1')!.needed).toEqual(expect.arrayContaining(['libcyc1.so.1']));
  });

  it('finds the 64-bit library on a search path that also holds a 32-bit one', () => {
    const c = resolve([{ path: fx.f.width! }]);
    expect(lib(c, 'libwidth.so.1')!.hostPath).toBe(fx.f.libwidth64);
    expect(ldList(fx.f.width!).found.get('libwidth.so.1')).toBe(fx.f.libwidth64);
  });

  it.skipIf(lacks('32-bit candidates', [gccM32(), 'gcc -m32 cannot build a 32-bit library here (Debian: gcc-multilib)']))('skips a 32-bit library on the search path, as ld.so does, and refuses one as the program', () => {
    const c = resolve([{ path: fx.f.width! }]);
    const w = lib(c, 'libwidth.so.1')!;
    expect(w.hostPath).toBe(fx.f.libwidth64);
    expect(w.tried).toEqual([fx.f.libwidth32]);
    expect(w.skipped).toEqual([{ path: fx.f.libwidth32, reason: 'an ELF32 i386 file, not x86_64' }]);
    expect(ldList(fx.f.width!).found.get('libwidth.so.1')).toBe(fx.f.libwidth64);
    // A 32-bit file given as the program is the wrong architecture.
    const r = resolveClosure([{ path: fx.f.libwidth32! }], base, nodeHostFs);
    expect(r.ok ? 'ok' : r.error.code).toBe('resolve.wrong-arch');
  });

  it('turns a non-ELF candidate into an error naming the chain', () => {
    const r = resolveClosure([{ path: '/etc/hostname' }], base, nodeHostFs);
    expect(r.ok ? 'ok' : r.error.code).toBe('elf.bad-magic');
    const gone = resolveClosure([{ path: '/no/such/file' }], base, nodeHostFs);
    expect(gone.ok ? 'ok' : gone.error.code).toBe('resolve.not-found');
  });
});
