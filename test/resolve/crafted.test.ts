// Search rules gcc on this machine cannot easily exercise, on hand-built ELF files in a
// temporary sysroot: an AArch64 tree resolved from this x86 host, DF_1_NODEFLIB, $LIB and
// $PLATFORM, DT_NEEDED paths, a wrong-machine candidate, and a data-encoding mismatch.

import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as C from '../../src/elf/constants.js';
import { nodeHostFs } from '../../src/hostfs.js';
import { resolveClosure } from '../../src/resolve/index.js';
import type { Closure, ResolveOptions, ResolveRoot } from '../../src/resolve/types.js';
import { craftElf, type CraftSpec } from '../elf/craft.js';

let tmp = '';
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'osv-crafted-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function put(root: string, path: string, spec: Partial<CraftSpec>): void {
  const p = join(root, path);
  mkdirSync(dirname(p), { recursive: true });
  writeFileSync(p, craftElf({ cls: 64, le: true, ...spec }));
}

function resolve(root: string, roots: ResolveRoot[], over: Partial<ResolveOptions> = {}): Closure {
  const r = resolveClosure(roots, { arch: 'x86_64', sysroot: root, libraryPath: [], hiddenSymbols: false, ...over }, nodeHostFs);
  if (!r.ok) throw new Error(`${r.error.code}: ${r.error.message}`);
  return r.value;
}
const get = (c: Closure, soname: string) => c.objects.find((o) => o.soname === soname);
const pie = { interp: '/lib64/ld-linux-x86-64.so.2', flags1: C.DF_1_PIE };

describe('resolver rules on hand-built ELF files', () => {
  it('resolves an AArch64 tree from this host, skipping an x86-64 candidate', () => {
    const root = join(tmp, 'arm');
    const A = { machine: C.EM_AARCH64 };
    put(root, 'app/prog', { ...A, interp: '/lib/ld-linux-aarch64.so.1', flags1: C.DF_1_PIE, needed: ['libarm.so.1', 'libc.so.6'], runpath: '/opt/x86:/opt/arm' });
    put(root, 'opt/x86/libarm.so.1', { soname: 'libarm.so.1' }); // x86-64: passed over
    put(root, 'opt/arm/libarm.so.1', { ...A, soname: 'libarm.so.1', needed: ['libdep.so.2'] });
    put(root, 'usr/lib/aarch64-linux-gnu/libdep.so.2', { ...A, soname: 'libdep.so.2' });
    symlinkSync('usr/lib', join(root, 'lib'));
    const c = resolve(root, [{ path: '/app/prog' }], { arch: 'aarch64' });
    expect(c.objects[0]).toMatchObject({ kind: 'pie', interpreter: '/lib/ld-linux-aarch64.so.1' });
    expect(get(c, 'libarm.so.1')).toMatchObject({ rule: 'runpath', path: '/opt/arm/libarm.so.1', skipped: [{ path: '/opt/x86/libarm.so.1', reason: 'an ELF64 x86-64 file, not aarch64' }] });
    expect(get(c, 'libdep.so.2')).toMatchObject({ rule: 'default', path: '/lib/aarch64-linux-gnu/libdep.so.2', hostPath: join(root, 'usr/lib/aarch64-linux-gnu/libdep.so.2') });
    // Kernel libraries of that architecture: libc and ld-linux-aarch64.so.1, absent here.
    expect(get(c, 'libc.so.6')).toMatchObject({ providedByKernel: true, hostPath: '' });
    expect(get(c, 'ld-linux-aarch64.so.1')).toMatchObject({ providedByKernel: true, path: '/lib/ld-linux-aarch64.so.1' });
    expect(c.missing).toEqual([]);
    // The same program is the wrong architecture for an x86_64 target.
    const r = resolveClosure([{ path: '/app/prog' }], { arch: 'x86_64', sysroot: root, libraryPath: [], hiddenSymbols: false }, nodeHostFs);
    expect(r.ok ? 'ok' : r.error.code).toBe('resolve.wrong-arch');
  });

  it('honours DF_1_NODEFLIB: no cache, no default directories', () => {
    const root = join(tmp, 'nodeflib');
    put(root, 'app/strict', { ...pie, needed: ['libdef.so.1'], flags1: C.DF_1_PIE | C.DF_1_NODEFLIB });
    put(root, 'app/plain', { ...pie, needed: ['libdef.so.1'] });
    put(root, 'lib/x86_64-linux-gnu/libdef.so.1', { soname: 'libdef.so.1' });
    expect(resolve(root, [{ path: '/app/plain' }]).missing).toEqual([]);
    const strict = resolve(root, [{ path: '/app/strict' }]);
    expect(strict.missing).toMatchObject([{ soname: 'libdef.so.1', tried: [] }]);
    expect(resolve(root, [{ path: '/app/strict' }], { libraryPath: ['/lib/x86_64-linux-gnu'] }).missing).toEqual([]);
  });

  it('expands $LIB, ${PLATFORM} and $ORIGIN, and opens DT_NEEDED paths', () => {
    const root = join(tmp, 'dst');
    mkdirSync(join(root, 'lib/x86_64-linux-gnu'), { recursive: true }); // a multiarch (Debian) layout
    put(root, 'app/bin/prog', { ...pie, needed: ['liblib.so.1', 'libplat.so.1', '$ORIGIN/../private/libown.so', '/opt/abs/libabs.so'], rpath: '/opt/$LIB:/opt/${PLATFORM}/x' });
    put(root, 'opt/lib/x86_64-linux-gnu/liblib.so.1', { soname: 'liblib.so.1' });
    put(root, 'opt/x86_64/x/libplat.so.1', { soname: 'libplat.so.1' });
    put(root, 'app/private/libown.so', {});
    put(root, 'opt/abs/libabs.so', { soname: 'libabs.so.9' });
    const c = resolve(root, [{ path: '/app/bin/prog' }]);
    expect(get(c, 'liblib.so.1')).toMatchObject({ rule: 'rpath', path: '/opt/lib/x86_64-linux-gnu/liblib.so.1' });
    expect(get(c, 'libplat.so.1')).toMatchObject({ rule: 'rpath', path: '/opt/x86_64/x/libplat.so.1', tried: ['/opt/lib/x86_64-linux-gnu/libplat.so.1'] });
    expect(get(c, 'libown.so')).toMatchObject({ rule: 'path', path: '/app/private/libown.so', requestedAs: ['$ORIGIN/../private/libown.so'] });
    expect(get(c, 'libabs.so.9')).toMatchObject({ rule: 'path', path: '/opt/abs/libabs.so' });
    expect(c.missing).toEqual([]);
  });

  it('matches a needed name against sonames already loaded, as ld.so does', () => {
    const root = join(tmp, 'alias');
    // prog needs libv.so (a file whose soname is libv.so.1) and libw.so.1, which needs libv.so.1:
    // the second request is satisfied by the soname of the first, not searched again.
    put(root, 'app/prog', { ...pie, needed: ['libv.so', 'libw.so.1'], runpath: '/opt' });
    put(root, 'opt/libv.so', { soname: 'libv.so.1' });
    put(root, 'opt/libw.so.1', { soname: 'libw.so.1', needed: ['libv.so.1'] });
    const c = resolve(root, [{ path: '/app/prog' }]);
    expect(get(c, 'libv.so.1')).toMatchObject({ path: '/opt/libv.so', requestedAs: ['libv.so', 'libv.so.1'] });
    expect(c.missing).toEqual([]);
  });

  it('treats a candidate of the wrong byte order as fatal, like ld.so', () => {
    const root = join(tmp, 'endian');
    put(root, 'app/prog', { ...pie, needed: ['libbe.so.1'], runpath: '/opt' });
    put(root, 'opt/libbe.so.1', { le: false, soname: 'libbe.so.1' });
    const r = resolveClosure([{ path: '/app/prog' }], { arch: 'x86_64', sysroot: root, libraryPath: [], hiddenSymbols: false }, nodeHostFs);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.code).toBe('elf.bad-ident');
      expect(r.error.details[0]).toBe('while looking for libbe.so.1, needed by prog');
    }
  });

  it('ships libstdc++ only when the kernel hides its symbols; never libgcc_s', () => {
    const root = join(tmp, 'cxx');
    put(root, 'app/prog', { ...pie, needed: ['libstdc++.so.6', 'libgcc_s.so.1'], runpath: '/opt' });
    put(root, 'opt/libstdc++.so.6', { soname: 'libstdc++.so.6', needed: ['libm.so.6'] });
    put(root, 'opt/libgcc_s.so.1', { soname: 'libgcc_s.so.1' });
    const visible = resolve(root, [{ path: '/app/prog' }]);
    expect(get(visible, 'libstdc++.so.6')!.providedByKernel).toBe(true);
    expect(get(visible, 'libm.so.6')).toBeUndefined(); // a kernel library's needs are not followed
    expect(get(visible, 'libgcc_s.so.1')!.providedByKernel).toBe(false);
    const hidden = resolve(root, [{ path: '/app/prog' }], { hiddenSymbols: true });
    expect(get(hidden, 'libstdc++.so.6')!.providedByKernel).toBe(false);
    expect(get(hidden, 'libm.so.6')!.providedByKernel).toBe(true);
  });
});
