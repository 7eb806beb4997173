// `osv resolve --explain` in full, on hand-built sysroots: every search rule's name, the paths
// tried and the candidates passed over, missing and optional libraries, references to a
// library shown elsewhere, and the kernel's libraries (which the OSv kernel provides on each
// architecture, and what it does not).

import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Arch } from '../../src/config/types.js';
import * as C from '../../src/elf/constants.js';
import { nodeHostFs } from '../../src/hostfs.js';
import { explainClosure } from '../../src/resolve/explain.js';
import { resolveClosure } from '../../src/resolve/index.js';
import type { Closure, ResolveOptions, ResolveRoot } from '../../src/resolve/types.js';
import { pie, put } from './tree.js';

let tmp = '';
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'osv-host-explain-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function resolve(sysroot: string, roots: ResolveRoot[], over: Partial<ResolveOptions> = {}): Closure {
  const r = resolveClosure(roots, { arch: 'x86_64', sysroot, libraryPath: [], hiddenSymbols: false, ...over }, nodeHostFs);
  if (!r.ok) throw new Error(`${r.error.code}: ${r.error.message}`);
  return r.value;
}

const i386 = { cls: 32 as const, machine: C.EM_386 };

describe('osv resolve --explain', () => {
  it('shows each library under the object that first needed it, with its rule, what was tried and passed over', () => {
    const root = join(tmp, 'tree');
    mkdirSync(join(root, 'lib/x86_64-linux-gnu'), { recursive: true });
    put(root, 'app/prog', {
      ...pie,
      needed: ['librp.so.1', 'liblp.so.1', 'libv.so', 'libc.so.6', 'libgone.so.1', 'libopt.so.1', 'libstdc++.so.6', 'libdef.so.1', 'libroot.so.1'],
      rpath: '/opt/none:/opt/rp',
    });
    put(root, 'app/prog2', { ...pie, needed: ['librun.so.1', 'librp.so.1'], runpath: '/opt/runp' });
    put(root, 'opt/none/librp.so.1', { ...i386, soname: 'librp.so.1' });
    put(root, 'opt/none/libopt.so.1', { ...i386, soname: 'libopt.so.1' });
    put(root, 'opt/rp/librp.so.1', { soname: 'librp.so.1', needed: ['libv.so.1', 'libc.so.6', 'libdeep.so.1'] });
    put(root, 'opt/rp/libv.so', { soname: 'libv.so.1' });
    put(root, 'opt/rp/libdeep.so.1', { soname: 'libdeep.so.1' });
    put(root, 'opt/rp/libstdc++.so.6', { soname: 'libstdc++.so.6', needed: ['libm.so.6', 'libgcc_s.so.1'] });
    put(root, 'opt/rp/libroot.so.1', { soname: 'libroot.so.1' });
    put(root, 'opt/lp/liblp.so.1', { soname: 'liblp.so.1' });
    put(root, 'opt/runp/librun.so.1', { soname: 'librun.so.1' });
    put(root, 'lib/x86_64-linux-gnu/libdef.so.1.0.0', { soname: 'libdef.so.1' });
    symlinkSync('libdef.so.1.0.0', join(root, 'lib/x86_64-linux-gnu/libdef.so.1'));
    const c = resolve(
      root,
      [{ path: '/app/prog' }, { path: '/app/prog2' }, { path: '/opt/rp/libroot.so.1' }, { soname: 'libdlopen.so.1', optional: true }, { soname: 'libplugin.so.3' }],
      { libraryPath: ['/opt/lp'], optional: ['libopt.so.1'] },
    );
    const R = root;
    const dflt = (n: string): string => `/lib/x86_64-linux-gnu/${n}, /usr/lib/x86_64-linux-gnu/${n}, /lib/${n}, /usr/lib/${n}`;
    expect(explainClosure(c)).toBe(
      [
        `prog => /app/prog -> ${R}/app/prog [PIE, by path] interpreter /lib64/ld-linux-x86-64.so.2`,
        '   DT_RPATH /opt/none:/opt/rp',
        `├─ librp.so.1 => /opt/rp/librp.so.1 -> ${R}/opt/rp/librp.so.1 [DT_RPATH]`,
        '│     tried first: /opt/none/librp.so.1',
        '│     skipped /opt/none/librp.so.1: an ELF32 i386 file, not x86_64',
        '│  ├─ libv.so.1 (shown under prog)',
        '│  ├─ libc.so.6 (shown under prog, kernel)',
        `│  └─ libdeep.so.1 => /opt/rp/libdeep.so.1 -> ${R}/opt/rp/libdeep.so.1 [DT_RPATH]`,
        '│        tried first: /opt/none/libdeep.so.1',
        `├─ liblp.so.1 => /opt/lp/liblp.so.1 -> ${R}/opt/lp/liblp.so.1 [library path]`,
        '│     tried first: /opt/none/liblp.so.1, /opt/rp/liblp.so.1',
        `├─ libv.so => /opt/rp/libv.so -> ${R}/opt/rp/libv.so [DT_RPATH]`,
        '│     tried first: /opt/none/libv.so',
        '├─ libc.so.6 => libc.so.6 [not on the host, provided by the OSv kernel, not shipped]',
        `│     tried first: /opt/none/libc.so.6, /opt/rp/libc.so.6, /opt/lp/libc.so.6, ${dflt('libc.so.6')}`,
        '├─ libgone.so.1: NOT FOUND',
        `│     tried: /opt/none/libgone.so.1, /opt/rp/libgone.so.1, /opt/lp/libgone.so.1, ${dflt('libgone.so.1')}`,
        '├─ libopt.so.1: NOT FOUND (optional)',
        `│     tried: /opt/none/libopt.so.1, /opt/rp/libopt.so.1, /opt/lp/libopt.so.1, ${dflt('libopt.so.1')}`,
        '│     skipped /opt/none/libopt.so.1: an ELF32 i386 file, not x86_64',
        `├─ libstdc++.so.6 => /opt/rp/libstdc++.so.6 -> ${R}/opt/rp/libstdc++.so.6 [DT_RPATH, provided by the OSv kernel, not shipped]`,
        '│     tried first: /opt/none/libstdc++.so.6',
        `├─ libdef.so.1 => /lib/x86_64-linux-gnu/libdef.so.1 -> ${R}/lib/x86_64-linux-gnu/libdef.so.1.0.0 [default directory]`,
        '│     tried first: /opt/none/libdef.so.1, /opt/rp/libdef.so.1, /opt/lp/libdef.so.1',
        '└─ libroot.so.1 (a root)',
        `prog2 => /app/prog2 -> ${R}/app/prog2 [PIE, by path] interpreter /lib64/ld-linux-x86-64.so.2`,
        '   DT_RUNPATH /opt/runp',
        `├─ librun.so.1 => /opt/runp/librun.so.1 -> ${R}/opt/runp/librun.so.1 [DT_RUNPATH]`,
        '│     tried first: /opt/lp/librun.so.1',
        '└─ librp.so.1 (shown under prog)',
        `libroot.so.1 => /opt/rp/libroot.so.1 -> ${R}/opt/rp/libroot.so.1 [by path]`,
        'also loaded (the interpreter, PT_INTERP):',
        '   ld-linux-x86-64.so.2 => /lib64/ld-linux-x86-64.so.2 [not on the host, provided by the OSv kernel, not shipped]',
        `libdlopen.so.1: NOT FOUND (optional); tried: /opt/none/libdlopen.so.1, /opt/rp/libdlopen.so.1, /opt/lp/libdlopen.so.1, ${dflt('libdlopen.so.1')}`,
        `libplugin.so.3: NOT FOUND; tried: /opt/none/libplugin.so.3, /opt/rp/libplugin.so.3, /opt/lp/libplugin.so.3, ${dflt('libplugin.so.3')}`,
        '',
        '6 libraries to ship, 3 provided by the OSv kernel, 4 missing',
        '',
      ].join('\n'),
    );
  });

  it('on the host itself: a path that is its own file, a symlinked library, one library to ship', () => {
    const dir = join(tmp, 'host');
    put(dir, 'bin/tool', { ...pie, interp: join(dir, 'no-ld.so'), needed: ['liblink.so.1'], runpath: join(dir, 'lib') });
    put(dir, 'lib/liblink.so.1.2', { soname: 'liblink.so.1' });
    symlinkSync('liblink.so.1.2', join(dir, 'lib/liblink.so.1'));
    const c = resolve('/', [{ path: join(dir, 'bin/tool') }]);
    expect(explainClosure(c)).toBe(
      [
        `tool => ${dir}/bin/tool [PIE, by path] interpreter ${dir}/no-ld.so`,
        `   DT_RUNPATH ${dir}/lib`,
        `└─ liblink.so.1 => ${dir}/lib/liblink.so.1 -> ${dir}/lib/liblink.so.1.2 [DT_RUNPATH]`,
        'also loaded (the interpreter, PT_INTERP):',
        `   no-ld.so => ${dir}/no-ld.so [not on the host, provided by the OSv kernel, not shipped]`,
        '',
        '1 library to ship, 1 provided by the OSv kernel, 0 missing',
        '',
      ].join('\n'),
    );
  });

  it('a library alone, and a program that searches no default directory: nothing else loaded, a missing library with nothing tried', () => {
    const root = join(tmp, 'alone');
    put(root, 'opt/libalone.so.1', { soname: 'libalone.so.1' });
    put(root, 'app/strict', { ...pie, interp: '/app/ld.so', flags1: C.DF_1_PIE | C.DF_1_NODEFLIB, needed: ['libnf.so.1', 'ld.so'] });
    put(root, 'app/ld.so', { soname: 'ld.so' });
    expect(explainClosure(resolve(root, [{ path: '/opt/libalone.so.1' }]))).toBe(`libalone.so.1 => /opt/libalone.so.1 -> ${root}/opt/libalone.so.1 [by path]\n\n0 libraries to ship, 0 provided by the OSv kernel, 0 missing\n`);
    // The interpreter is needed by name here, so it is shown in the tree, not "also loaded".
    expect(explainClosure(resolve(root, [{ path: '/app/strict' }], { osvFilter: false }))).toBe(
      [
        `strict => /app/strict -> ${root}/app/strict [PIE, by path] interpreter /app/ld.so`,
        '├─ libnf.so.1: NOT FOUND',
        `└─ ld.so => /app/ld.so -> ${root}/app/ld.so [by path]`,
        '',
        '1 library to ship, 0 provided by the OSv kernel, 1 missing',
        '',
      ].join('\n'),
    );
  });
});

describe('the libraries the OSv kernel provides', () => {
  const all = [
    'ld-linux-x86-64.so.2',
    'ld-linux-aarch64.so.1',
    'libresolv.so.2',
    'libc.so.6',
    'libm.so.6',
    'libc.musl-x86_64.so.1',
    'ld-musl-x86_64.so.1',
    'libpthread.so.0',
    'libdl.so.2',
    'librt.so.1',
    'libstdc++.so.6',
    'libaio.so.1',
    'libxenstore.so.3.0',
    'libcrypt.so.1',
    'libutil.so',
    'libboost_system.so.1.55.0',
    'libgcc_s.so.1',
  ];
  /** A program needing every name above, in an otherwise empty sysroot of its architecture. */
  const provided = (arch: Arch, hiddenSymbols: boolean): { kernel: string[]; missing: string[] } => {
    const root = join(tmp, `kernel-${arch}-${hiddenSymbols}`);
    const machine = arch === 'x86_64' ? C.EM_X86_64 : C.EM_AARCH64;
    put(root, 'app/prog', { machine, interp: '/nowhere/ld.so', flags1: C.DF_1_PIE, needed: all });
    const c = resolve(root, [{ path: '/app/prog' }], { arch, hiddenSymbols });
    return { kernel: c.objects.filter((o) => o.providedByKernel && o.soname !== 'ld.so').map((o) => o.soname), missing: c.missing.map((m) => m.soname) };
  };

  /** What is provided is every name but those missing, in the order needed. */
  const only = (arch: Arch, hiddenSymbols: boolean, missing: string[]): void => {
    expect(provided(arch, hiddenSymbols)).toEqual({ kernel: all.filter((n) => !missing.includes(n)), missing });
  };
  const notProvided = ['libboost_system.so.1.55.0', 'libgcc_s.so.1'];

  it('on x86_64: every glibc and musl library of the kernel, libstdc++ unless it hides its symbols', () => {
    only('x86_64', false, ['ld-linux-aarch64.so.1', ...notProvided]);
    only('x86_64', true, ['ld-linux-aarch64.so.1', 'libstdc++.so.6', ...notProvided]);
  });

  it('on aarch64: its own dynamic linker, and no musl', () => {
    only('aarch64', false, ['ld-linux-x86-64.so.2', 'libc.musl-x86_64.so.1', 'ld-musl-x86_64.so.1', ...notProvided]);
  });
});
