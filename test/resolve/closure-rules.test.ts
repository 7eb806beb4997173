// ld.so's rules the other resolver tests do not pin down, on hand-built ELF files in temporary
// sysroots: what a root and the interpreter become, the order of the search (DT_RPATH of every
// loader and of the program, DT_RUNPATH hiding DT_RPATH, DF_1_NODEFLIB of the loader), how
// search-path strings are spelled into paths, candidates passed over or fatal, one file reached
// by two names, and every error's text as `osv resolve` prints it.

import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OsvError } from '../../src/diagnostics/error.js';
import * as C from '../../src/elf/constants.js';
import { nodeHostFs, type HostFs } from '../../src/hostfs.js';
import { explainClosure } from '../../src/resolve/explain.js';
import { resolveClosure } from '../../src/resolve/index.js';
import type { Closure, ResolveOptions, ResolveRoot, ResolvedObject } from '../../src/resolve/types.js';
import { craftElf, type CraftSpec } from '../elf/craft.js';
import { lacks } from '../helpers/skip.js';
import { onPath } from '../helpers/tools.js';
import { INTERP, pie, put, trees } from './tree.js';

const hasMkfifo = onPath('mkfifo');

const t = trees('osv-closure-rules-');
beforeAll(t.open);
afterAll(t.close);
const sysroot = t.sysroot;
function text(root: string, path: string, body: string): string {
  const p = join(root, path);
  mkdirSync(dirname(p), { recursive: true });
  writeFileSync(p, body);
  return p;
}
/** An ELF file whose header is valid but whose dynamic section lies outside the file. */
function brokenDynamic(root: string, path: string, spec: Partial<CraftSpec> & { cls: 32 | 64 }): void {
  const b = craftElf({ le: true, needed: ['libc.so.6'], ...spec });
  const [eh, pe, phnumAt] = spec.cls === 64 ? [64, 56, 56] : [52, 32, 44];
  for (let i = 0; i < b.readUInt16LE(phnumAt); i++) {
    const p = eh + i * pe;
    if (b.readUInt32LE(p) !== C.PT_DYNAMIC) continue;
    if (spec.cls === 64) b.writeBigUInt64LE(0x7fffff00n, p + 8);
    else b.writeUInt32LE(0x7fffff00, p + 4);
  }
  const f = join(root, path);
  mkdirSync(dirname(f), { recursive: true });
  writeFileSync(f, b);
}

const opts = (root: string, over: Partial<ResolveOptions> = {}): ResolveOptions => ({ arch: 'x86_64', sysroot: root, libraryPath: [], hiddenSymbols: false, ...over });
function resolve(root: string, roots: ResolveRoot[], over: Partial<ResolveOptions> = {}, fs: HostFs = nodeHostFs): Closure {
  const r = resolveClosure(roots, opts(root, over), fs);
  if (!r.ok) throw new Error(`${r.error.code}: ${r.error.message}`);
  return r.value;
}
function failure(root: string, roots: ResolveRoot[], over: Partial<ResolveOptions> = {}, fs: HostFs = nodeHostFs): OsvError {
  const r = resolveClosure(roots, opts(root, over), fs);
  if (r.ok) throw new Error(`resolved, where an error was expected: ${r.value.objects.map((o) => o.path).join(', ')}`);
  return r.error;
}
const get = (c: Closure, soname: string): ResolvedObject | undefined => c.objects.find((o) => o.soname === soname);
/** The upstream (non-multiarch) default directories, as tried for `name`. */
const defaults = (name: string): string[] => [`/lib64/${name}`, `/usr/lib64/${name}`];
/** The absent interpreter, as listed when the kernel provides it. */
const absentInterp = (chain: string[], root = false): ResolvedObject => ({
  soname: 'ld-linux-x86-64.so.2',
  path: INTERP,
  hostPath: '',
  kind: 'shared-library',
  root,
  rule: 'kernel',
  chain,
  tried: [],
  needed: [],
  providedByKernel: true,
  requestedAs: [INTERP],
});

describe('roots', () => {
  it('a program given by a path relative to the sysroot is listed by its absolute path, then its absent interpreter', () => {
    const root = sysroot('relative');
    const host = put(root, 'app/prog', pie);
    const c = resolve(root, [{ path: 'app/prog' }]);
    expect(c.objects).toStrictEqual([
      { soname: 'prog', path: '/app/prog', hostPath: host, kind: 'pie', root: true, rule: 'path', chain: [], tried: [], needed: [], providedByKernel: false, requestedAs: ['prog'], interpreter: INTERP },
      absentInterp(['prog']),
    ]);
    expect(c.missing).toEqual([]);
  });

  it('says which host file does not exist, is not a file, or is of another architecture, in full', () => {
    const root = sysroot('errors');
    put(root, 'app/arm', { machine: C.EM_AARCH64, interp: '/lib/ld-linux-aarch64.so.1', flags1: C.DF_1_PIE });
    put(root, 'app/x32', { cls: 32, machine: C.EM_X86_64, interp: '/libx32/ld-linux-x32.so.2', flags1: C.DF_1_PIE });
    expect(failure(root, [{ path: '/app/none' }])).toMatchObject({ code: 'resolve.not-found', message: `${root}/app/none does not exist`, hint: `paths are inside the sysroot ${root}` });
    expect(failure('/', [{ path: join(root, 'app/none') }])).toMatchObject({ code: 'resolve.not-found', message: `${root}/app/none does not exist`, hint: 'check the path' });
    expect(failure(root, [{ path: '/app' }])).toMatchObject({ code: 'resolve.not-a-file', message: `${root}/app is a directory, not a program or a library` });
    expect(failure('/', [{ path: '/dev/null' }])).toMatchObject({ code: 'resolve.not-a-file', message: '/dev/null is a character device, not a program or a library' });
    expect(failure(root, [{ path: '/app/arm' }])).toMatchObject({
      code: 'resolve.wrong-arch',
      message: `${root}/app/arm is an ELF64 AArch64 file; the target architecture is x86_64`,
      hint: 'give a x86_64 binary, or set the target architecture (--arch / arch:) to match it',
    });
    expect(failure(root, [{ path: '/app/x32' }]).message).toBe(`${root}/app/x32 is an ELF32 x86-64 file; the target architecture is x86_64`);
    // A sysroot that does not exist, or is a file, holds nothing.
    expect(failure(join(root, 'nowhere'), [{ path: '/app/arm' }])).toMatchObject({ code: 'resolve.not-found', message: `${root}/nowhere/app/arm does not exist` });
    expect(failure(join(root, 'app/arm'), [{ path: '/x' }]).code).toBe('resolve.not-found');
  });

  it('refuses static and static-pie executables with the whole message', () => {
    const root = sysroot('static');
    put(root, 'app/static', { type: C.ET_EXEC });
    put(root, 'app/static-pie', { flags1: C.DF_1_PIE });
    const hint = 'rebuild it as a position-independent executable (gcc -fPIE -pie) linked against shared libraries';
    expect(failure(root, [{ path: '/app/static' }])).toMatchObject({
      code: 'resolve.static-executable',
      message: `${root}/app/static is a statically linked executable; OSv can only run dynamically linked programs and libraries`,
      hint,
    });
    expect(failure(root, [{ path: '/app/static-pie' }])).toMatchObject({
      code: 'resolve.static-executable',
      message: `${root}/app/static-pie is a static-pie executable; OSv can only run dynamically linked programs and libraries`,
      hint,
    });
  });

  it('two programs of one file name, and one library given by two paths, are not a soname collision', () => {
    const root = sysroot('same-name');
    put(root, 'a/python3', { ...pie });
    put(root, 'b/python3', { ...pie, needed: ['libz.so.1'] });
    const lib = put(root, 'opt/libz.so.1', { soname: 'libz.so.1' });
    symlinkSync('libz.so.1', join(root, 'opt/libz.so'));
    const c = resolve(root, [{ path: '/a/python3' }, { path: '/b/python3' }, { path: '/opt/libz.so.1' }, { path: '/opt/libz.so' }], { libraryPath: ['/opt'] });
    expect(c.objects.filter((o) => o.soname === 'python3').map((o) => o.hostPath)).toEqual([join(root, 'a/python3'), join(root, 'b/python3')]);
    expect(new Set(c.objects.filter((o) => o.soname === 'libz.so.1').map((o) => o.hostPath))).toEqual(new Set([lib]));
  });
});

describe('soname roots (dlopen from the program)', () => {
  it('a missing soname root is not optional unless asked', () => {
    const root = sysroot('dlopen-missing');
    const c = resolve(root, [{ soname: 'libnone.so.1' }, { soname: 'libmaybe.so.1', optional: true }], { optional: ['libcfg.so.1'] });
    expect(c.missing).toStrictEqual([
      { soname: 'libnone.so.1', chain: [], tried: defaults('libnone.so.1'), optional: false },
      { soname: 'libmaybe.so.1', chain: [], tried: defaults('libmaybe.so.1'), optional: true },
    ]);
    expect(resolve(root, [{ soname: 'libcfg.so.1' }], { optional: ['libcfg.so.1'] }).missing[0]!.optional).toBe(true);
  });

  it("is searched with the program's DT_RPATH; one already loaded, or already missing, is listed once", () => {
    const root = sysroot('dlopen');
    put(root, 'app/prog', { ...pie, rpath: '/opt/r' });
    put(root, 'opt/r/libplug.so.1', { soname: 'libplug.so.1' });
    const lib = put(root, 'opt/l/liblib.so.1', { soname: 'liblib.so.1' });
    const c = resolve(root, [{ path: '/app/prog' }, { path: '/opt/l/liblib.so.1' }, { soname: 'libplug.so.1' }, { soname: 'libplug.so.1' }, { soname: 'liblib.so.1' }, { soname: 'libgone.so.1' }, { soname: 'libgone.so.1', optional: true }]);
    expect(c.objects.filter((o) => o.soname === 'libplug.so.1')).toMatchObject([{ rule: 'rpath', root: true, chain: [], path: '/opt/r/libplug.so.1' }]);
    expect(c.objects.filter((o) => o.soname === 'liblib.so.1')).toMatchObject([{ rule: 'path', root: true, hostPath: lib, requestedAs: ['liblib.so.1'] }]);
    // Asked for again, a missing library is reported once, as its first request saw it.
    expect(c.missing).toStrictEqual([{ soname: 'libgone.so.1', chain: [], tried: ['/opt/r/libgone.so.1', ...defaults('libgone.so.1')], optional: false }]);
  });

  it("one the program needs too is listed as its dependency, with the program's chain; a dlopen-only one keeps the empty chain", () => {
    const root = sysroot('dlopen-needed');
    put(root, 'app/prog', { ...pie, needed: ['libdep.so.1', 'libgone.so.1'], runpath: '/opt' });
    put(root, 'opt/libdep.so.1', { soname: 'libdep.so.1', needed: ['libboth.so.1'], runpath: '/opt' });
    const both = put(root, 'opt/libboth.so.1', { soname: 'libboth.so.1' });
    put(root, 'opt/r/libplug.so.1', { soname: 'libplug.so.1', needed: ['libboth.so.1', 'libpdep.so.1'], runpath: '/opt/r' });
    put(root, 'opt/r/libpdep.so.1', { soname: 'libpdep.so.1' });
    // Roots as a caller gives them: the dlopen'd names first.
    const c = resolve(root, [{ soname: 'libplug.so.1' }, { soname: 'libboth.so.1' }, { soname: 'libgone.so.1', optional: true }, { path: '/app/prog' }], { libraryPath: ['/opt/r'] });
    // What loads at start-up (the program, its libraries, the interpreter), then what it dlopen()s.
    expect(c.objects.map((o) => o.soname)).toEqual(['prog', 'libdep.so.1', 'libboth.so.1', 'ld-linux-x86-64.so.2', 'libplug.so.1', 'libpdep.so.1']);
    expect(get(c, 'libboth.so.1')).toStrictEqual({
      soname: 'libboth.so.1',
      path: '/opt/libboth.so.1',
      hostPath: both,
      kind: 'shared-library',
      root: true,
      rule: 'runpath',
      chain: ['prog', 'libdep.so.1'],
      tried: ['/opt/r/libboth.so.1'],
      needed: [],
      providedByKernel: false,
      requestedAs: ['libboth.so.1'],
    });
    expect(get(c, 'libplug.so.1')).toMatchObject({ root: true, chain: [], rule: 'library-path' });
    expect(get(c, 'libpdep.so.1')).toMatchObject({ root: false, chain: ['libplug.so.1'], rule: 'library-path' });
    // Missing at start-up, it is the program's missing library, whatever the dlopen root said.
    expect(c.missing).toStrictEqual([{ soname: 'libgone.so.1', chain: ['prog'], tried: ['/opt/r/libgone.so.1', '/opt/libgone.so.1', ...defaults('libgone.so.1')], optional: false }]);
    expect(explainClosure(c)).toBe(
      [
        `prog => /app/prog -> ${root}/app/prog [PIE, by path] interpreter ${INTERP}`,
        '   DT_RUNPATH /opt',
        `├─ libdep.so.1 => /opt/libdep.so.1 -> ${root}/opt/libdep.so.1 [DT_RUNPATH]`,
        '│     tried first: /opt/r/libdep.so.1',
        `│  └─ libboth.so.1 => /opt/libboth.so.1 -> ${both} [DT_RUNPATH]`,
        '│        tried first: /opt/r/libboth.so.1',
        '└─ libgone.so.1: NOT FOUND',
        `      tried: /opt/r/libgone.so.1, /opt/libgone.so.1, ${defaults('libgone.so.1').join(', ')}`,
        'libboth.so.1 (a root too; shown under libdep.so.1)',
        `libplug.so.1 => /opt/r/libplug.so.1 -> ${root}/opt/r/libplug.so.1 [library path]`,
        '   DT_RUNPATH /opt/r',
        '├─ libboth.so.1 (shown under libdep.so.1)',
        `└─ libpdep.so.1 => /opt/r/libpdep.so.1 -> ${root}/opt/r/libpdep.so.1 [library path]`,
        'also loaded (the interpreter, PT_INTERP):',
        `   ld-linux-x86-64.so.2 => ${INTERP} [not on the host, provided by the OSv kernel, not shipped]`,
        '',
        '2 libraries to ship, 1 provided by the OSv kernel, 1 missing',
        '',
      ].join('\n'),
    );
  });

  it('the interpreter named as a soname root stays where the program put it, last', () => {
    const root = sysroot('dlopen-interp');
    put(root, 'app/prog', { ...pie, needed: ['liba.so.1'], runpath: '/opt' });
    put(root, 'opt/liba.so.1', { soname: 'liba.so.1' });
    const c = resolve(root, [{ path: '/app/prog' }, { soname: 'ld-linux-x86-64.so.2' }]);
    expect(c.objects.map((o) => o.soname)).toEqual(['prog', 'liba.so.1', 'ld-linux-x86-64.so.2']);
    expect(c.objects[2]).toStrictEqual(absentInterp(['prog'], true));
  });

  it('a soname root with a slash is a path, even without a program; a bad candidate names the root in its error, with its hint', () => {
    const root = sysroot('dlopen-path');
    put(root, 'opt/lib/libp.so', { soname: 'libp.so.2' });
    text(root, 'opt/bad/libbad.so.1', '#!/bin/sh\n');
    expect(resolve(root, [{ soname: '/opt/lib/libp.so' }]).objects).toMatchObject([{ soname: 'libp.so.2', rule: 'path', path: '/opt/lib/libp.so', root: true, requestedAs: ['/opt/lib/libp.so'] }]);
    const e = failure(root, [{ soname: 'libbad.so.1' }], { libraryPath: ['/opt/bad'] });
    expect(e.code).toBe('elf.bad-magic');
    expect(e.details[0]).toBe('while looking for libbad.so.1, needed by (root)');
    expect(e.hint).toBe('this file is not an ELF binary; give a compiled program or shared library');
  });
});

describe('the interpreter', () => {
  it('is listed once for two programs, present or absent; present, it is the file, provided by the kernel', () => {
    const root = sysroot('interp');
    put(root, 'a/one', pie);
    put(root, 'a/two', pie);
    expect(resolve(root, [{ path: '/a/one' }, { path: '/a/two' }]).objects.slice(1)).toStrictEqual([
      { soname: 'two', path: '/a/two', hostPath: join(root, 'a/two'), kind: 'pie', root: true, rule: 'path', chain: [], tried: [], needed: [], providedByKernel: false, requestedAs: ['two'], interpreter: INTERP },
      absentInterp(['one']),
    ]);
    const ld = put(root, 'usr/lib64/ld-linux-x86-64.so.2', { soname: 'ld-linux-x86-64.so.2' });
    symlinkSync('../usr/lib64/ld-linux-x86-64.so.2', join(mkdirp(root, 'lib64'), 'ld-linux-x86-64.so.2'));
    const c = resolve(root, [{ path: '/a/one' }, { path: '/a/two' }]);
    expect(c.objects.slice(2)).toStrictEqual([
      { soname: 'ld-linux-x86-64.so.2', path: INTERP, hostPath: ld, kind: 'shared-library', root: false, rule: 'path', chain: ['one'], tried: [], needed: [], providedByKernel: true, requestedAs: [INTERP] },
    ]);
  });

  it('absent, or damaged past its header, it is the kernel\'s; without the filter a damaged one is an error, an absent one is missing', () => {
    const root = sysroot('interp-damaged');
    put(root, 'app/prog', pie);
    // An ELF file of the right class and machine whose dynamic section lies outside the file:
    // the kernel reads only the header of the interpreter.
    brokenDynamic(root, 'lib64/ld-linux-x86-64.so.2', { cls: 64, machine: C.EM_X86_64 });
    expect(resolve(root, [{ path: '/app/prog' }]).objects[1]).toStrictEqual(absentInterp(['prog']));
    expect(failure(root, [{ path: '/app/prog' }], { osvFilter: false }).code).toBe('elf.truncated');
    const gone = sysroot('interp-absent');
    put(gone, 'app/prog', pie);
    expect(resolve(gone, [{ path: '/app/prog' }], { osvFilter: false }).missing).toStrictEqual([{ soname: INTERP, chain: ['prog'], tried: [INTERP], optional: false }]);
    // A directory in its place is as absent.
    const dir = sysroot('interp-dir');
    put(dir, 'app/prog', pie);
    mkdirSync(join(dir, INTERP), { recursive: true });
    expect(resolve(dir, [{ path: '/app/prog' }], { osvFilter: false }).missing).toStrictEqual([{ soname: INTERP, chain: ['prog'], tried: [INTERP], optional: false }]);
  });

  const badInterp = (prog: string, interp: string, file: string, what: string, program = 'an ELF64 x86-64 file', arch = 'x86_64', ld = INTERP): Partial<OsvError> => ({
    code: 'resolve.bad-interpreter',
    message: `${prog} names the interpreter ${interp} (PT_INTERP), and ${file} is ${what}; the program is ${program}`,
    hint: `the kernel refuses to start it (execve fails: ELIBBAD, "Accessing a corrupted shared library"): put the ${arch} dynamic linker at ${interp}, or relink the program (or patchelf --set-interpreter ${ld})`,
  });

  it('of another class or machine, or not an ELF file, is fatal without the filter (Linux would not start the program); with it, it stands for the kernel\'s own', () => {
    const root = sysroot('interp-wrong');
    // An i386 ld.so, as a program linked with -m32 names, and an AArch64 one in the x86-64 place.
    put(root, 'lib/ld-linux.so.2', { cls: 32, machine: C.EM_386, soname: 'ld-linux.so.2' });
    put(root, 'app/i386-interp', { ...pie, interp: '/lib/ld-linux.so.2', needed: ['libc.so.6'] });
    expect(failure(root, [{ path: '/app/i386-interp' }], { osvFilter: false })).toMatchObject(badInterp(`${root}/app/i386-interp`, '/lib/ld-linux.so.2', `${root}/lib/ld-linux.so.2`, 'an ELF32 i386 file'));
    // OSv is the program's dynamic linker whatever the file says: the kernel's, never the file.
    const i386 = resolve(root, [{ path: '/app/i386-interp' }]);
    expect(i386.objects.map((o) => [o.soname, o.hostPath, o.providedByKernel])).toEqual([
      ['i386-interp', `${root}/app/i386-interp`, false],
      ['libc.so.6', '', true],
      ['ld-linux.so.2', '', true],
    ]);
    const arm = sysroot('interp-arm');
    put(arm, 'app/prog', pie);
    put(arm, 'usr/lib64/ld-linux-x86-64.so.2', { machine: C.EM_AARCH64, soname: 'ld-linux-aarch64.so.1' });
    symlinkSync('../usr/lib64/ld-linux-x86-64.so.2', join(mkdirp(arm, 'lib64'), 'ld-linux-x86-64.so.2'));
    expect(failure(arm, [{ path: '/app/prog' }], { osvFilter: false })).toMatchObject(badInterp(`${arm}/app/prog`, INTERP, `${arm}/usr/lib64/ld-linux-x86-64.so.2`, 'an ELF64 AArch64 file'));
    expect(resolve(arm, [{ path: '/app/prog' }]).objects[1]).toStrictEqual(absentInterp(['prog']));
    // An x32 one: the machine is right, the class is not.
    const x32 = sysroot('interp-x32');
    put(x32, 'app/prog', pie);
    put(x32, 'lib64/ld-linux-x86-64.so.2', { cls: 32, machine: C.EM_X86_64 });
    expect(resolve(x32, [{ path: '/app/prog' }]).objects[1]).toStrictEqual(absentInterp(['prog']));
    expect(failure(x32, [{ path: '/app/prog' }], { osvFilter: false }).message).toBe(`${x32}/app/prog names the interpreter ${INTERP} (PT_INTERP), and ${x32}/lib64/ld-linux-x86-64.so.2 is an ELF32 x86-64 file; the program is an ELF64 x86-64 file`);
    // Not an ELF file at all.
    const text1 = sysroot('interp-text');
    put(text1, 'app/prog', pie);
    text(text1, 'lib64/ld-linux-x86-64.so.2', 'not an ELF file\n');
    expect(failure(text1, [{ path: '/app/prog' }], { osvFilter: false })).toMatchObject(badInterp(`${text1}/app/prog`, INTERP, `${text1}/lib64/ld-linux-x86-64.so.2`, 'not an ELF file'));
    expect(resolve(text1, [{ path: '/app/prog' }]).objects[1]).toStrictEqual(absentInterp(['prog']));
    // For an AArch64 program, the AArch64 linker is the one to give it.
    const a64 = sysroot('interp-a64');
    put(a64, 'app/prog', { machine: C.EM_AARCH64, interp: '/lib/ld-linux-aarch64.so.1', flags1: C.DF_1_PIE });
    put(a64, 'lib/ld-linux-aarch64.so.1', { soname: 'ld-linux-x86-64.so.2' });
    expect(failure(a64, [{ path: '/app/prog' }], { arch: 'aarch64', osvFilter: false })).toMatchObject(
      badInterp(`${a64}/app/prog`, '/lib/ld-linux-aarch64.so.1', `${a64}/lib/ld-linux-aarch64.so.1`, 'an ELF64 x86-64 file', 'an ELF64 AArch64 file', 'aarch64', '/lib/ld-linux-aarch64.so.1'),
    );
  });

  it('on the host itself, an interpreter of another machine is refused the same way', () => {
    const dir = sysroot('interp-host');
    put(dir, 'ld-arm.so.1', { machine: C.EM_AARCH64 });
    put(dir, 'bin/tool', { ...pie, interp: join(dir, 'ld-arm.so.1') });
    expect(failure('/', [{ path: join(dir, 'bin/tool') }], { osvFilter: false })).toMatchObject(badInterp(`${dir}/bin/tool`, `${dir}/ld-arm.so.1`, `${dir}/ld-arm.so.1`, 'an ELF64 AArch64 file'));
  });

  it('reached by another name (musl: libc.musl-x86_64.so.1 is its symlink), it is listed where that name was needed', () => {
    const root = sysroot('musl');
    const ld = put(root, 'lib/ld-musl-x86_64.so.1', {});
    symlinkSync('ld-musl-x86_64.so.1', join(root, 'lib/libc.musl-x86_64.so.1'));
    put(root, 'app/prog', { interp: '/lib/ld-musl-x86_64.so.1', flags1: C.DF_1_PIE, needed: ['libmid.so.1', 'libz.so.1'] });
    put(root, 'lib/libmid.so.1', { soname: 'libmid.so.1', needed: ['libc.musl-x86_64.so.1'] });
    put(root, 'lib/libz.so.1', { soname: 'libz.so.1' });
    const c = resolve(root, [{ path: '/app/prog' }], { osvFilter: false, libraryPath: ['/lib'] });
    expect(c.objects.map((o) => o.soname)).toEqual(['prog', 'libmid.so.1', 'libz.so.1', 'ld-musl-x86_64.so.1']);
    expect(c.objects[3]).toMatchObject({ hostPath: ld, chain: ['prog', 'libmid.so.1'], requestedAs: ['/lib/ld-musl-x86_64.so.1', 'libc.musl-x86_64.so.1'] });
    expect(c.missing).toEqual([]);
  });
});

function mkdirp(root: string, p: string): string {
  const d = join(root, p);
  mkdirSync(d, { recursive: true });
  return d;
}

describe('the order of the search', () => {
  it('DT_RPATH of the program, then the default directories, each tried once', () => {
    const root = sysroot('order');
    put(root, 'app/prog', { ...pie, needed: ['libnone.so.1'], rpath: '/opt/r' });
    expect(resolve(root, [{ path: '/app/prog' }]).missing).toStrictEqual([
      { soname: 'libnone.so.1', chain: ['prog'], tried: ['/opt/r/libnone.so.1', ...defaults('libnone.so.1')], optional: false },
    ]);
  });

  it("a second root's libraries search the program's DT_RPATH last, as ld.so searches the main map's", () => {
    const root = sysroot('second-root');
    put(root, 'app/prog', { ...pie, rpath: '/opt/r' });
    put(root, 'plugins/libplug.so', { soname: 'libplug.so', needed: ['libdep.so.1'], rpath: '/opt/p' });
    put(root, 'opt/r/libdep.so.1', { soname: 'libdep.so.1' });
    const c = resolve(root, [{ path: '/app/prog' }, { path: '/plugins/libplug.so' }]);
    expect(get(c, 'libdep.so.1')).toMatchObject({ rule: 'rpath', path: '/opt/r/libdep.so.1', chain: ['libplug.so'], tried: ['/opt/p/libdep.so.1'] });
  });

  it('DT_RUNPATH hides the DT_RPATH of the same object, and of its loaders from the objects it loads', () => {
    const root = sysroot('runpath-hides');
    // The program has both: its DT_RPATH is never searched.
    put(root, 'app/both', { ...pie, needed: ['liba.so.1'], rpath: '/opt/r', runpath: '/opt/u' });
    put(root, 'opt/u/liba.so.1', { soname: 'liba.so.1', needed: ['libb.so.1'] });
    put(root, 'opt/r/libb.so.1', { soname: 'libb.so.1' });
    const both = resolve(root, [{ path: '/app/both' }]);
    expect(get(both, 'liba.so.1')!.rule).toBe('runpath');
    expect(both.missing.map((m) => [m.soname, m.tried])).toEqual([['libb.so.1', defaults('libb.so.1')]]);
    // A library with DT_RUNPATH: the program's DT_RPATH is not searched for its needs.
    put(root, 'app/prog', { ...pie, needed: ['libm1.so.1'], rpath: '/opt/r' });
    put(root, 'opt/r/libm1.so.1', { soname: 'libm1.so.1', needed: ['libleaf.so.1'], runpath: '/opt/u' });
    put(root, 'opt/r/libleaf.so.1', { soname: 'libleaf.so.1' });
    put(root, 'opt/u/libleaf.so.1', { soname: 'libleaf.so.1' });
    expect(get(resolve(root, [{ path: '/app/prog' }]), 'libleaf.so.1')).toMatchObject({ rule: 'runpath', path: '/opt/u/libleaf.so.1', tried: [] });
  });

  it("libraryPath expands $ORIGIN to the program's directory; a library's $ORIGIN is its own", () => {
    const root = sysroot('origin');
    put(root, 'app/bin/prog', { ...pie, needed: ['liba.so.1', 'libx.so.1'], runpath: '/opt/sub' });
    put(root, 'app/lib/liba.so.1', { soname: 'liba.so.1' });
    put(root, 'opt/sub/libx.so.1', { soname: 'libx.so.1', needed: ['$ORIGIN/libdep.so', 'rel/librel.so'] });
    put(root, 'opt/sub/libdep.so', { soname: 'libdep.so' });
    put(root, 'rel/librel.so', { soname: 'librel.so' });
    const c = resolve(root, [{ path: '/app/bin/prog' }], { libraryPath: ['$ORIGIN/../lib'] });
    expect(get(c, 'liba.so.1')).toMatchObject({ rule: 'library-path', path: '/app/bin/../lib/liba.so.1', hostPath: join(root, 'app/lib/liba.so.1') });
    expect(get(c, 'libdep.so')).toMatchObject({ rule: 'path', path: '/opt/sub/libdep.so', requestedAs: ['$ORIGIN/libdep.so'] });
    // A relative DT_NEEDED path is opened from "/", where OSv starts programs.
    expect(get(c, 'librel.so')).toMatchObject({ rule: 'path', path: '/rel/librel.so' });
    expect(c.missing).toEqual([]);
  });

  it('spells search-path entries as ld.so does: "." and "" are "/", relative ones from "/", trailing slashes dropped', () => {
    const root = sysroot('spelling');
    put(root, 'app/prog', { ...pie, needed: ['libnone.so.1'], rpath: '.::sub:/opt/t/:/opt/tt//:$ORIGIN/' });
    put(root, 'prog-at-top', { ...pie, needed: ['libtop.so.1'], rpath: '$ORIGIN/' });
    put(root, 'libtop.so.1', { soname: 'libtop.so.1' });
    const n = 'libnone.so.1';
    expect(resolve(root, [{ path: '/app/prog' }]).missing[0]!.tried).toEqual([`/${n}`, `/${n}`, `/sub/${n}`, `/opt/t/${n}`, `/opt/tt/${n}`, `/app/${n}`, ...defaults(n)]);
    expect(get(resolve(root, [{ path: '/prog-at-top' }]), 'libtop.so.1')).toMatchObject({ rule: 'rpath', path: '/libtop.so.1', tried: [] });
  });

  it('DF_1_NODEFLIB of the loader: neither ld.so.conf (the cache) nor the default directories', () => {
    const root = sysroot('nodeflib');
    text(root, 'etc/ld.so.conf', '/opt/conf\n');
    put(root, 'opt/conf/libdef.so.1', { soname: 'libdef.so.1' });
    put(root, 'app/plain', { ...pie, needed: ['libdef.so.1'] });
    put(root, 'app/strict', { ...pie, needed: ['libdef.so.1'], flags1: C.DF_1_PIE | C.DF_1_NODEFLIB });
    put(root, 'app/uses-strict', { ...pie, needed: ['libstrict.so.1'], runpath: '/opt/s' });
    put(root, 'opt/s/libstrict.so.1', { soname: 'libstrict.so.1', needed: ['libdef.so.1'], flags1: C.DF_1_NODEFLIB });
    expect(get(resolve(root, [{ path: '/app/plain' }]), 'libdef.so.1')).toMatchObject({ rule: 'ld.so.cache', path: '/opt/conf/libdef.so.1' });
    expect(resolve(root, [{ path: '/app/strict' }]).missing).toMatchObject([{ soname: 'libdef.so.1', tried: [] }]);
    expect(resolve(root, [{ path: '/app/uses-strict' }]).missing).toMatchObject([{ soname: 'libdef.so.1', chain: ['uses-strict', 'libstrict.so.1'], tried: [] }]);
  });

  it('$LIB is lib64 in an upstream layout; $PLATFORM is aarch64 for an AArch64 tree', () => {
    const root = sysroot('lib-platform');
    put(root, 'app/prog', { ...pie, needed: ['liblib.so.1'], rpath: '/opt/$LIB' });
    put(root, 'opt/lib64/liblib.so.1', { soname: 'liblib.so.1' });
    expect(get(resolve(root, [{ path: '/app/prog' }]), 'liblib.so.1')).toMatchObject({ rule: 'rpath', path: '/opt/lib64/liblib.so.1' });
    const A = { machine: C.EM_AARCH64 };
    put(root, 'app/arm', { ...A, interp: '/lib/ld-linux-aarch64.so.1', flags1: C.DF_1_PIE, needed: ['libplat.so.1'], rpath: '/opt/${PLATFORM}' });
    put(root, 'opt/aarch64/libplat.so.1', { ...A, soname: 'libplat.so.1' });
    expect(get(resolve(root, [{ path: '/app/arm' }], { arch: 'aarch64' }), 'libplat.so.1')).toMatchObject({ rule: 'rpath', path: '/opt/aarch64/libplat.so.1' });
  });
});

describe('candidates', () => {
  it('passes over files of another class or machine by their header alone, and says so when nothing else is found', () => {
    const root = sysroot('skip');
    // An x32 (ELF32, x86-64 machine) and an AArch64 file, each with a broken dynamic section,
    // and a big-endian ELF32 file: ld.so reads only their header.
    brokenDynamic(root, 'opt/x32/libw.so.1', { cls: 32, machine: C.EM_X86_64 });
    brokenDynamic(root, 'opt/arm/libw.so.1', { cls: 64, machine: C.EM_AARCH64 });
    put(root, 'opt/be/libw.so.1', { cls: 32, le: false, machine: C.EM_PPC, soname: 'libw.so.1' });
    put(root, 'opt/ok/libw.so.1', { soname: 'libw.so.1' });
    put(root, 'app/prog', { ...pie, needed: ['libw.so.1'], rpath: '/opt/x32:/opt/arm:/opt/be:/opt/ok' });
    const skipped = [
      { path: '/opt/x32/libw.so.1', reason: 'an ELF32 x86-64 file, not x86_64' },
      { path: '/opt/arm/libw.so.1', reason: 'an ELF64 AArch64 file, not x86_64' },
      { path: '/opt/be/libw.so.1', reason: 'an ELF32 PowerPC file, not x86_64' },
    ];
    expect(get(resolve(root, [{ path: '/app/prog' }]), 'libw.so.1')).toMatchObject({ path: '/opt/ok/libw.so.1', tried: skipped.map((s) => s.path), skipped });
    put(root, 'app/nothing', { ...pie, needed: ['libw.so.1'], rpath: '/opt/x32:/opt/arm' });
    expect(resolve(root, [{ path: '/app/nothing' }]).missing).toStrictEqual([
      { soname: 'libw.so.1', chain: ['nothing'], tried: ['/opt/x32/libw.so.1', '/opt/arm/libw.so.1', ...defaults('libw.so.1')], optional: false, skipped: skipped.slice(0, 2) },
    ]);
  });

  it('a big-endian x86-64 file is fatal, as ld.so says: the data encoding is wrong', () => {
    const root = sysroot('endian');
    put(root, 'app/prog', { ...pie, needed: ['libbe.so.1'], runpath: '/opt' });
    put(root, 'opt/libbe.so.1', { le: false, soname: 'libbe.so.1' });
    const e = failure(root, [{ path: '/app/prog' }]);
    expect(e).toMatchObject({ code: 'elf.bad-ident', message: `${root}/opt/libbe.so.1: big-endian ELF where x86_64 needs little-endian (at byte offset 5)` });
    expect(e.details).toEqual(['while looking for libbe.so.1, needed by prog']);
    // Deeper, the whole chain is named.
    put(root, 'app/deep', { ...pie, needed: ['libmid.so.1'], runpath: '/opt' });
    put(root, 'opt/libmid.so.1', { soname: 'libmid.so.1', needed: ['libbe.so.1'], runpath: '/opt' });
    expect(failure(root, [{ path: '/app/deep' }]).details).toEqual(['while looking for libbe.so.1, needed by deep -> libmid.so.1']);
  });

  it('a directory of the library name on the search path is fatal, as for ld.so ("cannot read file data: Is a directory")', () => {
    const root = sysroot('dir-candidate');
    put(root, 'app/prog', { ...pie, needed: ['libz.so.1'], rpath: '/opt/d:/opt/f' });
    mkdirSync(join(root, 'opt/d/libz.so.1'), { recursive: true });
    put(root, 'opt/f/libz.so.1', { soname: 'libz.so.1' });
    const e = failure(root, [{ path: '/app/prog' }]);
    expect(e).toMatchObject({
      code: 'resolve.not-a-file',
      message: `${root}/opt/d/libz.so.1 is a directory, where ld.so opens a library`,
      hint: 'ld.so stops there ("cannot read file data: Is a directory"): rename it, or take its directory off the search path',
    });
    expect(e.details).toEqual(['while looking for libz.so.1, needed by prog']);
  });

  const notHere = (why: string): string => `${why}: rename it, or take its directory off the search path`;

  it.skipIf(lacks('a FIFO named like a library', [hasMkfifo, 'mkfifo is not installed (Debian: coreutils)']))(
    'a FIFO of the library name is fatal, and never opened (ld.so would wait for a writer: the program hangs)',
    () => {
      const root = sysroot('fifo-candidate');
      put(root, 'app/prog', { ...pie, needed: ['libz.so.1'], rpath: '/opt/p:/opt/f' });
      put(root, 'opt/f/libz.so.1', { soname: 'libz.so.1' });
      mkdirp(root, 'opt/p');
      const fifo = join(root, 'opt/p/libz.so.1');
      expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
      // A writer, so that opening it would not hang the test: what it writes must not be read.
      const writer = spawn('sh', ['-c', `exec printf 'not an ELF file' > '${fifo}'`], { stdio: 'ignore' });
      try {
        const e = failure(root, [{ path: '/app/prog' }]);
        expect(e).toMatchObject({
          code: 'resolve.not-a-file',
          message: `${fifo} is a FIFO (named pipe), where ld.so opens a library`,
          hint: notHere('ld.so would wait there for a writer, and the program hang at start-up'),
        });
        expect(e.details).toEqual(['while looking for libz.so.1, needed by prog']);
      } finally {
        writer.kill();
      }
    },
  );

  it('a character device of the library name is fatal, and never read (ld.so reads no ELF header from it)', () => {
    // In a sysroot a link to /dev/null leads to <sysroot>/dev/null; on the host itself, to the device.
    const dir = sysroot('chardev-candidate');
    put(dir, 'app/prog', { ...pie, needed: ['libz.so.1'], rpath: `${dir}/opt/d:${dir}/opt/f` });
    put(dir, 'opt/f/libz.so.1', { soname: 'libz.so.1' });
    symlinkSync('/dev/null', join(mkdirp(dir, 'opt/d'), 'libz.so.1'));
    const e = failure('/', [{ path: join(dir, 'app/prog') }]);
    expect(e).toMatchObject({
      code: 'resolve.not-a-file',
      message: `${dir}/opt/d/libz.so.1 (/dev/null) is a character device, where ld.so opens a library`,
      hint: notHere('ld.so stops there: what it reads is no ELF header ("file too short" or "invalid ELF header")'),
    });
    expect(e.details).toEqual(['while looking for libz.so.1, needed by prog']);
    // Named by its own path (a DT_NEEDED with a slash), the same.
    put(dir, 'app/by-path', { ...pie, needed: ['/dev/zero'] });
    expect(failure('/', [{ path: join(dir, 'app/by-path') }])).toMatchObject({ code: 'resolve.not-a-file', message: '/dev/zero is a character device, where ld.so opens a library' });
    // Inside a sysroot, the link's target is the sysroot's /dev/null: absent there, passed over.
    const root = sysroot('chardev-sysroot');
    put(root, 'app/prog', { ...pie, needed: ['libz.so.1'], rpath: '/opt/d:/opt/f' });
    put(root, 'opt/f/libz.so.1', { soname: 'libz.so.1' });
    symlinkSync('/dev/null', join(mkdirp(root, 'opt/d'), 'libz.so.1'));
    expect(get(resolve(root, [{ path: '/app/prog' }]), 'libz.so.1')).toMatchObject({ path: '/opt/f/libz.so.1', tried: ['/opt/d/libz.so.1'] });
  });

  // A block device in the sysroot (made with mknod, which needs CAP_MKNOD: root outside a
  // restricted container). Loop device 7:200 is unlikely to exist, and is never opened here.
  const blockDevice = (path: string): boolean => spawnSync('mknod', [path, 'b', '7', '200']).status === 0;
  const canMknod = ((): boolean => {
    const dir = mkdtempSync(join(tmpdir(), 'osv-mknod-probe-'));
    try {
      return blockDevice(join(dir, 'dev'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  })();
  it.skipIf(lacks('a block device named like a library', [canMknod, 'mknod of a block device is not permitted here (it needs root, with CAP_MKNOD)']))(
    'a block device of the library name is fatal, and never read (what ld.so reads from it is no ELF header)',
    () => {
      const root = sysroot('blockdev-candidate');
      put(root, 'app/prog', { ...pie, needed: ['libz.so.1'], rpath: '/opt/b:/opt/f' });
      put(root, 'opt/f/libz.so.1', { soname: 'libz.so.1' });
      const dev = join(mkdirp(root, 'opt/b'), 'libz.so.1');
      expect(blockDevice(dev)).toBe(true);
      const e = failure(root, [{ path: '/app/prog' }]);
      expect(e).toMatchObject({
        code: 'resolve.not-a-file',
        message: `${dev} is a block device, where ld.so opens a library`,
        hint: notHere('ld.so stops there: what it reads is no ELF header ("file too short" or "invalid ELF header")'),
      });
      expect(e.details).toEqual(['while looking for libz.so.1, needed by prog']);
    },
  );

  it('a socket of the library name is fatal (ld.so cannot open it and gives up that search path)', async () => {
    const root = sysroot('socket-candidate');
    put(root, 'app/prog', { ...pie, needed: ['libz.so.1'], runpath: '/opt/s:/opt/f' });
    put(root, 'opt/f/libz.so.1', { soname: 'libz.so.1' });
    const sock = join(mkdirp(root, 'opt/s'), 'libz.so.1');
    const server = createServer();
    await new Promise<void>((ok, ko) => server.once('error', ko).listen(sock, ok));
    try {
      const e = failure(root, [{ path: '/app/prog' }]);
      expect(e).toMatchObject({
        code: 'resolve.not-a-file',
        message: `${sock} is a socket, where ld.so opens a library`,
        hint: notHere('ld.so cannot open it ("No such device or address") and searches no further along that path'),
      });
      expect(e.details).toEqual(['while looking for libz.so.1, needed by prog']);
    } finally {
      await new Promise<void>((ok) => server.close(() => ok()));
    }
  });

  it('a special file a file system cannot tell apart is fatal too; one in the place of a kernel library is the kernel\'s', () => {
    const root = sysroot('other-candidate');
    put(root, 'app/prog', { ...pie, needed: ['libz.so.1'], rpath: '/opt/o' });
    put(root, 'app/libc-user', { ...pie, needed: ['libc.so.6'], rpath: '/opt/o' });
    text(root, 'opt/o/libz.so.1', 'x');
    text(root, 'opt/o/libc.so.6', 'x');
    // A file system (an image's, a test's) that knows only that they are not regular files.
    const other = (p: string) => (p.startsWith(join(root, 'opt/o/')) ? { ...nodeHostFs.lstat(p)!, kind: 'other' as const } : nodeHostFs.lstat(p));
    const fs: HostFs = { ...nodeHostFs, lstat: other };
    expect(failure(root, [{ path: '/app/prog' }], {}, fs)).toMatchObject({
      code: 'resolve.not-a-file',
      message: `${root}/opt/o/libz.so.1 is not a regular file, where ld.so opens a library`,
      hint: notHere('ld.so does not load it'),
    });
    expect(get(resolve(root, [{ path: '/app/libc-user' }], {}, fs), 'libc.so.6')).toMatchObject({ rule: 'kernel', hostPath: '', chain: ['libc-user'] });
  });

  it('one file reached by two names is one object, asked for by both', () => {
    const root = sysroot('two-names');
    put(root, 'app/prog', { ...pie, needed: ['libs.so.1', 'libq.so.1'], runpath: '/opt' });
    put(root, 'opt/libs.so.1', { soname: 'libs.so.1' });
    symlinkSync('libs.so.1', join(root, 'opt/libs-compat.so'));
    put(root, 'opt/libq.so.1', { soname: 'libq.so.1', needed: ['libs-compat.so'], rpath: '/opt' });
    const c = resolve(root, [{ path: '/app/prog' }]);
    expect(c.objects.map((o) => o.soname)).toEqual(['prog', 'libs.so.1', 'libq.so.1', 'ld-linux-x86-64.so.2']);
    expect(get(c, 'libs.so.1')!.requestedAs).toEqual(['libs.so.1', 'libs-compat.so']);
  });

  it('a name asked for again is the object loaded under it, even where the asker could not find it', () => {
    const root = sysroot('by-name');
    // prog finds libv.so (soname libv.so.1) through its DT_RUNPATH; libw, which has no search
    // path, asks for libv.so too: ld.so matches the name it was loaded by.
    put(root, 'app/prog', { ...pie, needed: ['libv.so', 'libw.so.1'], runpath: '/opt' });
    put(root, 'opt/libv.so', { soname: 'libv.so.1' });
    put(root, 'opt/libw.so.1', { soname: 'libw.so.1', needed: ['libv.so'] });
    const c = resolve(root, [{ path: '/app/prog' }]);
    expect(c.missing).toEqual([]);
    expect(c.objects.filter((o) => o.soname === 'libv.so.1')).toHaveLength(1);
  });
});

describe('kernel libraries', () => {
  it('one requested by a path is provided too; two different files of one kernel soname do not collide', () => {
    const root = sysroot('kernel-path');
    put(root, 'app/prog', { ...pie, needed: ['/opt/libc.so.6', '/lib64/libc.so.6'] });
    put(root, 'opt/libc.so.6', { soname: 'libc.so.6', needed: ['libextra.so.1'] });
    put(root, 'lib64/libc.so.6', { soname: 'libc.so.6' });
    const c = resolve(root, [{ path: '/app/prog' }]);
    expect(c.objects.filter((o) => o.soname === 'libc.so.6').map((o) => [o.path, o.providedByKernel])).toEqual([
      ['/opt/libc.so.6', true],
      ['/lib64/libc.so.6', true],
    ]);
    expect(c.missing).toEqual([]);
  });

  it('a broken file in the place of one is passed over: the kernel provides it', () => {
    const root = sysroot('kernel-broken');
    put(root, 'app/prog', { ...pie, needed: ['libc.so.6'] });
    text(root, 'lib64/libc.so.6', 'GNU ld script\n');
    const c = resolve(root, [{ path: '/app/prog' }]);
    expect(get(c, 'libc.so.6')).toStrictEqual({ soname: 'libc.so.6', path: 'libc.so.6', hostPath: '', kind: 'shared-library', root: false, rule: 'kernel', chain: ['prog'], tried: [], needed: [], providedByKernel: true, requestedAs: ['libc.so.6'] });
  });
});

describe('soname collisions', () => {
  it('names both files, how each was found and who needed it', () => {
    const root = sysroot('collision');
    put(root, 'app/prog', { ...pie, needed: ['libdup.so.1', 'liba.so.1'], runpath: '/opt/a' });
    put(root, 'opt/a/libdup.so.1', { soname: 'libdup.so.1' });
    put(root, 'opt/a/liba.so.1', { soname: 'liba.so.1', needed: ['libdup.so'], rpath: '/opt/b' });
    put(root, 'opt/b/libdup.so', { soname: 'libdup.so.1' });
    const e = failure(root, [{ path: '/app/prog' }]);
    expect(e).toMatchObject({
      code: 'resolve.soname-collision',
      message: 'two different files claim the soname libdup.so.1',
      hint: 'both would be installed as /usr/lib/libdup.so.1; remove one from the search path, or fix RPATH/RUNPATH/libraryPath so that one is found',
    });
    expect(e.details).toEqual([`${root}/opt/a/libdup.so.1 (needed by prog, found by runpath)`, `${root}/opt/b/libdup.so (needed by prog -> liba.so.1, found by rpath)`]);
    expect(failure(root, [{ path: '/opt/a/libdup.so.1' }, { path: '/opt/b/libdup.so' }]).details).toEqual([
      `${root}/opt/a/libdup.so.1 (a root, found by path)`,
      `${root}/opt/b/libdup.so (a root, found by path)`,
    ]);
  });
});
