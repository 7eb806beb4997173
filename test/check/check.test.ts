// checkPlan on plans of gcc-compiled fixtures against a stand-in kernel: each program lacks
// one kind of thing, and the report must say exactly that, at the right severity.

import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkError, checkPlan, fileObjectCache, fileReportCache, fileSymbolCache, noObjectCache, noSymbolCache, renderCheck, type CheckReport, type ObjectCache, type SymbolCache } from '../../src/check/index.js';
import type { KernelBundle } from '../../src/kernel/types.js';
import { sha256File } from '../../src/kernel/hash.js';
import { plan } from '../../src/plan/index.js';
import type { Plan } from '../../src/plan/types.js';
import { copy, lib, makeConfig, runConfig, type ConfigOver } from '../plan/helpers.js';
import { craftElf } from '../elf/craft.js';
import { buildCheckFixtures, hasGcc, type CheckFixtures } from './fixtures.js';

if (!hasGcc) console.warn('skipped: test/check/check.test.ts needs gcc to compile its fixtures');

describe.skipIf(!hasGcc)('checkPlan', () => {
  let fx: CheckFixtures;
  let kernel: KernelBundle;
  beforeAll(async () => {
    fx = await buildCheckFixtures();
    kernel = { elf: fx.kernelElf, sha256: sha256File(fx.kernelElf), origin: 'path', hiddenSymbols: false };
  });
  afterAll(() => fx?.cleanup());

  const planOf = (program: string, over: ConfigOver = {}, run?: string): Plan => {
    const r = plan(makeConfig({ dir: fx.dir, cmd: [program], ...over }), { env: {}, ...(run !== undefined ? { run } : {}) });
    if (!r.ok) throw new Error(r.error.errors.map((e) => e.message).join('\n'));
    return r.value;
  };
  /**
   * The check of `p` (null: without a kernel), read from the files. Every check is made twice
   * more through an object cache (object-cache.ts), which first keeps what the files say and
   * then answers alone, and twice through a report cache (report-cache.ts), which first keeps
   * the findings and then answers with them: all must report the same.
   */
  const check = (p: Plan, k: KernelBundle | null = kernel, cache: SymbolCache = noSymbolCache): CheckReport => {
    const run = (objects: ObjectCache): CheckReport => {
      const r = checkPlan(p, k ?? undefined, undefined, { cache, objects });
      if (!r.ok) throw new Error(r.error.message);
      return r.value;
    };
    const fromFiles = run(noObjectCache);
    // Whether the kernel's symbols came from their cache differs between the runs, nothing else
    // (symbolOwner is a function: each run has its own).
    const data = ({ symbolOwner: _owner, ...r }: CheckReport): unknown => ({ ...r, kernel: { ...r.kernel, cached: fromFiles.kernel.cached } });
    const objectsDir = mkdtempSync(join(tmpdir(), 'osv-objects-'));
    try {
      expect(data(run(fileObjectCache(objectsDir)))).toEqual(data(fromFiles));
      // One entry per object of the image (a shipped copy of a kernel library too, though not checked).
      expect(readdirSync(objectsDir).length).toBeGreaterThanOrEqual(fromFiles.totals.objects);
      expect(data(run(fileObjectCache(objectsDir)))).toEqual(data(fromFiles));
      const reports = fileReportCache(join(objectsDir, 'checks'), 'test-source');
      for (let i = 0; i < 2; i++) {
        const r = checkPlan(p, k ?? undefined, undefined, { cache, objects: noObjectCache, reports });
        if (!r.ok) throw new Error(r.error.message);
        expect(data(r.value)).toEqual(data(fromFiles));
      }
      expect(readdirSync(join(objectsDir, 'checks'))).toHaveLength(1);
    } finally {
      rmSync(objectsDir, { recursive: true, force: true });
    }
    return fromFiles;
  };
  const objectOf = (r: CheckReport, guest: string) => {
    const o = r.perObject.find((x) => x.guest === guest);
    if (!o) throw new Error(`${guest} not checked; checked: ${r.perObject.map((x) => x.guest).join(', ')}`);
    return o;
  };

  it('passes a program whose library needs another library, and the kernel the rest', () => {
    const r = check(planOf(fx.f.ok));
    expect(r.errors).toEqual([]);
    expect(r.warnings).toEqual([]);
    expect(r.ok).toBe(true);
    expect(objectOf(r, '/ok')).toMatchObject({ role: 'program', missing: [], missingLibraries: [] });
    // helper_fn: libok needs it and libhelper (its own DT_NEEDED) defines it; kfunc: the kernel.
    expect(objectOf(r, '/usr/lib/libok.so.1')).toMatchObject({ role: 'needed', chain: ['ok', 'libok.so.1'], missing: [] });
    expect(objectOf(r, '/usr/lib/libhelper.so.1').chain).toEqual(['ok', 'libok.so.1', 'libhelper.so.1']);
    expect(r.symbolOwner('helper_fn')).toMatchObject({ object: '/usr/lib/libok.so.1', chain: ['ok', 'libok.so.1'] });
    expect(r.symbolOwner('helper_fn')?.missing).toBeUndefined();
    expect(r.kernel).toMatchObject({ checked: true, sha256: kernel.sha256 });
    expect(r.kernel.symbols).toBeGreaterThanOrEqual(fx.kernelExports.length);
    expect(r.summary).toMatch(/^symbols: no errors, all found \[\d+ objects, \d+ needed symbols; kernel \d+ exports\]$/);
  });

  it('warns about a function nobody defines, reached through the PLT, naming it', () => {
    const r = check(planOf(fx.f.needsFn));
    expect(r.ok).toBe(true);
    expect(r.errors).toEqual([]);
    const w = r.warnings.find((x) => x.code === 'check.missing-function');
    expect(w).toMatchObject({ object: '/needs-fn', symbols: ['ghost_fn'] });
    expect(w?.message).toBe('needs-fn: 1 function OSv lacks, all via PLT (fails only if called): ghost_fn');
    expect(objectOf(r, '/needs-fn').missing).toEqual([{ name: 'ghost_fn', kind: 'function', bind: 'plt', severity: 'warning', reason: 'undefined' }]);
    expect(r.symbolOwner('ghost_fn', '/needs-fn')).toMatchObject({ object: '/needs-fn', soname: 'needs-fn', missing: { name: 'ghost_fn' } });
    // As the console prints it: "/needs-fn: failed looking up symbol ghost_fn".
    expect(r.symbolOwner('ghost_fn (ghost_fn())')?.object).toBe('/needs-fn');
    expect(r.symbolOwner('no_such_symbol')).toBeUndefined();
    expect(r.summary).toContain('1 function OSv lacks');
  });

  it('reports a missing data object as an error', () => {
    const r = check(planOf(fx.f.needsData));
    expect(r.ok).toBe(false);
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0]).toMatchObject({ code: 'check.missing-data', object: '/needs-data', symbols: ['ghost_data'] });
    const m = objectOf(r, '/needs-data').missing;
    expect(m).toHaveLength(1);
    expect(m[0]).toMatchObject({ name: 'ghost_data', kind: 'data', severity: 'error', reason: 'undefined' });
    // A PIE reading another object's variable: a COPY relocation (or a GOT entry bound at load).
    expect(['copy', 'load']).toContain(m[0]!.bind);
    expect(r.summary).toMatch(/^symbols: 1 error; 1 missing data object \(errors\)/);
    const refusal = checkError(r);
    expect(refusal).toMatchObject({ code: 'check.failed', exitCode: 1 });
    expect(refusal?.details[0]).toContain('ghost_data');
    expect(checkError(check(planOf(fx.f.ok)))).toBeUndefined();
  });

  it('reports a version the library does not define (linker version script)', () => {
    const r = check(planOf(fx.f.version));
    const m = objectOf(r, '/version').missing;
    expect(m).toEqual([
      { name: 'ver_fn', version: 'VER_2', from: 'libver.so.1', kind: 'function', bind: 'plt', severity: 'warning', reason: 'version', offered: ['libver.so.1: VER_1'] },
    ]);
    const w = r.warnings.find((x) => x.code === 'check.missing-version');
    expect(w?.message).toContain('ver_fn@VER_2');
    expect(w?.message).toContain('defined only as libver.so.1: VER_1');
    // ver_old@VER_1 of the same library is fine.
    expect(objectOf(r, '/usr/lib/libver.so.1').missing).toEqual([]);
  });

  it('does not let a hidden version (name@V) satisfy an unversioned reference; the default version (name@@V) does', () => {
    // The host's dynamic linker, on the same files, is the oracle: it refuses hid_fn.
    const host = spawnSync(fx.f.hidden, [], { encoding: 'utf8', env: { LD_BIND_NOW: '1' } });
    expect(host.status).toBe(127);
    expect(host.stderr).toContain('undefined symbol: hid_fn');
    const r = check(planOf(fx.f.hidden));
    expect(objectOf(r, '/hidden').missing).toEqual([
      { name: 'hid_fn', kind: 'function', bind: 'plt', severity: 'warning', reason: 'version', offered: ['libhid.so.1: HID_2 (non-default)'] },
    ]);
    // hid_new is defined only as hid_new@@HID_3: found, nothing to report.
    expect(r.symbolOwner('hid_new')).toMatchObject({ object: '/hidden' });
    expect(r.symbolOwner('hid_new')?.missing).toBeUndefined();
    const w = r.warnings.find((x) => x.code === 'check.missing-version');
    expect(w).toMatchObject({ object: '/hidden', symbols: ['hid_fn'] });
    expect(w?.message).toContain('(hid_fn, unversioned, is defined only as libhid.so.1: HID_2 (non-default))');
  });

  it('reports a load-time reference of unknown type that nothing defines as an error: the loader stops before main', () => {
    // On the host, ld.so binds the GOT entry at load, fails, and main never runs.
    const host = spawnSync(fx.f.unknownData, [], { encoding: 'utf8' });
    expect(host.status).toBe(127);
    expect(host.stdout).toBe('');
    expect(host.stderr).toContain('undefined symbol: ext_var');
    const r = check(planOf(fx.f.unknownData));
    expect(objectOf(r, '/usr/lib/libuses.so.1').missing).toEqual([{ name: 'ext_var', kind: 'unknown', bind: 'load', severity: 'error', reason: 'undefined' }]);
    expect(r.ok).toBe(false);
    expect(r.errors).toEqual([expect.objectContaining({ code: 'check.missing-data', object: '/usr/lib/libuses.so.1', symbols: ['ext_var'] })]);
    expect(checkError(r)?.exitCode).toBe(1);
  });

  it("checks versions against the kernel's own: an older version is a mismatch, a non-default one is not exported, from the file and from the cache alike", () => {
    const vk: KernelBundle = { elf: fx.versionedKernelElf, sha256: sha256File(fx.versionedKernelElf), origin: 'path', hiddenSymbols: false };
    const p = planOf(fx.f.ok, { libraries: [lib(fx.f.kernelVersions)] });
    const want = [
      { name: 'kv_hid', version: 'GLIBC_9.9', from: 'libc.so.6', kind: 'function', bind: 'plt', severity: 'warning', reason: 'undefined' },
      { name: 'kv_new', version: 'GLIBC_9.9', from: 'libc.so.6', kind: 'function', bind: 'plt', severity: 'warning', reason: 'version', offered: ['kernel: GLIBC_9.8'] },
    ];
    const byName = (r: CheckReport) => [...objectOf(r, '/usr/lib/kvuser.so').missing].sort((a, b) => a.name.localeCompare(b.name));
    expect(byName(check(p, vk))).toEqual(want);
    const dir = mkdtempSync(join(tmpdir(), 'osv-symcache-v-'));
    try {
      const first = check(p, vk, fileSymbolCache(dir));
      expect(first.kernel.cached).toBe(false);
      const again = check(p, vk, fileSymbolCache(dir));
      expect(again.kernel.cached).toBe(true);
      expect(byName(again)).toEqual(want);
      expect(again.warnings.find((w) => w.code === 'check.missing-version')?.message).toBe(
        "/usr/lib/kvuser.so needs 1 symbol in a version nothing defines: kv_new@GLIBC_9.9 (kv_new@GLIBC_9.9 is defined only as kernel: GLIBC_9.8); OSv's loader ignores versions and binds the version there is, which may behave differently (Linux's ld.so refuses to load it)",
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('ignores weak undefined symbols', () => {
    const r = check(planOf(fx.f.weak));
    expect(objectOf(r, '/weak').missing).toEqual([]);
    expect(r.symbolOwner('weak_fn')).toBeUndefined();
    expect(r.symbolOwner('weak_data')).toBeUndefined();
    expect(r.warnings).toEqual([]);
  });

  it('warns when a call OSv only stubs is used, saying what happens', () => {
    const r = check(planOf(fx.f.stub));
    const w = r.warnings.find((x) => x.code === 'check.stub');
    expect(w).toMatchObject({ object: '/stub', symbols: ['fork'] });
    expect(w?.message).toBe('stub uses 1 call OSv only stubs: fork: returns -1 (no child process is created)');
    expect(objectOf(r, '/stub').stubs).toEqual([{ name: 'fork', effect: 'returns -1 (no child process is created)' }]);
  });

  it("checks a run-time library in the program's scope plus its own", () => {
    const r = check(planOf(fx.f.ok, { libraries: [lib(fx.f.plugin), lib(fx.f.pluginMissing)] }));
    // lib_fn: the plugin does not list libok, but the program loaded it.
    expect(objectOf(r, '/usr/lib/plugin.so')).toMatchObject({ role: 'dlopen', missing: [] });
    expect(objectOf(r, '/usr/lib/plugin-missing.so')).toMatchObject({
      role: 'dlopen',
      missing: [{ name: 'nowhere_fn', kind: 'unknown', bind: 'plt', severity: 'warning', reason: 'undefined' }],
    });
    expect(r.warnings.map((w) => w.message)).toContain('/usr/lib/plugin-missing.so: 1 function OSv lacks, all via PLT (fails only if called): nowhere_fn');
  });

  it("reports another run's program as warnings that say how to check it", () => {
    const over: ConfigOver = { runs: { data: runConfig([fx.f.needsData]) } };
    const r = check(planOf(fx.f.ok, over));
    expect(r.ok).toBe(true);
    expect(objectOf(r, '/needs-data')).toMatchObject({ role: 'other-program', run: 'data' });
    const w = r.warnings.find((x) => x.object === '/needs-data');
    expect(w?.code).toBe('check.missing-data');
    expect(w?.message).toMatch(/ghost_data.*\[not the selected run's program: `osv check --run data` checks it\]$/);
    expect(r.summary).toContain("problems in 1 object of other runs' programs (check them with --run)");
    expect(r.totals.missingData).toBe(0);
    const selected = check(planOf(fx.f.ok, over, 'data'));
    expect(selected.ok).toBe(false);
    expect(objectOf(selected, '/needs-data').role).toBe('program');
  });

  it('checks run-time libraries that need each other once each, a program in a tree as another program, and never a shipped copy of a kernel library', () => {
    const tree = join(fx.dir, 'progs-tree');
    mkdirSync(tree, { recursive: true });
    writeFileSync(join(tree, 'tool'), readFileSync(fx.f.needsFn));
    chmodSync(join(tree, 'tool'), 0o755);
    writeFileSync(join(tree, 'libc.so.6'), readFileSync(join(fx.dir, 'fakelibc', 'libc.so.6'))); // soname libc.so.6: a copy of the kernel's library
    // resolve: false: the tree's program comes without its libraries (by default they would be shipped).
    const r = check(planOf(fx.f.ok, { libraries: [lib(fx.f.cycleA), lib(fx.f.cycleB)], files: [copy(tree, '/progs', { resolve: false })] }));
    const roles = Object.fromEntries(r.perObject.map((o) => [o.guest, o.role]));
    expect(roles).toEqual({
      '/ok': 'program',
      '/progs/tool': 'other-program',
      '/usr/lib/libca.so.1': 'dlopen',
      '/usr/lib/libcb.so.1': 'dlopen',
      '/usr/lib/libgcc_s.so.1': 'dlopen',
      '/usr/lib/libhelper.so.1': 'needed',
      '/usr/lib/libok.so.1': 'needed',
    });
    expect(r.perObject.map((o) => o.guest)).not.toContain('/progs/libc.so.6');
    // Each finds the other's function: both are loaded together.
    expect(objectOf(r, '/usr/lib/libca.so.1').missing).toEqual([]);
    expect(objectOf(r, '/usr/lib/libcb.so.1').missing).toEqual([]);
    // The tree's program was copied without its libraries: reported, as another program's problem.
    expect(r.warnings.map((w) => w.message)).toEqual([
      "tool needs libghost.so.1, which is not in the image: OSv loads the program without it, and every symbol from it fails (not checked) [not the selected run's program: a run whose program it is checks it]",
    ]);
    expect(r.ok).toBe(true);
  });

  it('groups run-time libraries whose own libraries are not in the image', () => {
    const r = check(planOf(fx.f.ok, { files: [copy(fx.f.tree, '/tree')] }));
    expect(objectOf(r, '/tree/modules/needs-gone.so')).toMatchObject({ role: 'dlopen', missingLibraries: ['libnotthere.so.1'], missing: [], unchecked: 1 });
    const w = r.warnings.find((x) => x.code === 'check.missing-library');
    expect(w?.message).toMatch(/^1 library loaded at run time needs libraries that are not in the image, so using it will fail: needs-gone\.so \(libnotthere\.so\.1\)/);
    expect(r.ok).toBe(true);
  });

  it('reports an ELF file it cannot read as a warning, and checks the rest', () => {
    const tree = join(fx.dir, 'broken-tree');
    mkdirSync(tree, { recursive: true });
    const whole = readFileSync(fx.f.libhelper);
    writeFileSync(join(tree, 'truncated.so'), whole.subarray(0, 2000)); // headers point past the end
    writeFileSync(join(tree, 'not-elf.so'), 'just text\n');
    const r = check(planOf(fx.f.ok, { files: [copy(tree, '/broken')] }));
    const w = r.warnings.filter((x) => x.code === 'check.unreadable');
    expect(w).toHaveLength(1);
    expect(w[0]?.message).toMatch(/^\/broken\/truncated\.so \(.*truncated\.so\) was not checked: .*truncated\.so: .*\(at byte offset \d+\)$/);
    expect(r.ok).toBe(true);
    expect(objectOf(r, '/ok').missing).toEqual([]);
  });

  it('opens only what OSv could load from a tree: a 32-bit object is reported, scripts, objects, static and tiny files are passed over', () => {
    const tree = join(fx.dir, 'odd-tree');
    mkdirSync(tree, { recursive: true });
    const put = (name: string, bytes: Buffer | string, mode = 0o644): void => {
      writeFileSync(join(tree, name), bytes);
      chmodSync(join(tree, name), mode);
    };
    put('ok.so', readFileSync(fx.f.libhelper));
    put('w32.so', craftElf({ cls: 32, le: true, machine: 3, soname: 'w32.so' }));
    put('tool', craftElf({ cls: 64, le: true, type: 2 }), 0o755); // ET_EXEC without PT_DYNAMIC: static
    put('obj.so', craftElf({ cls: 64, le: true, type: 1 })); // ET_REL: a .o named like a library
    put('tiny.so', Buffer.from('\x7fELF\x02\x01', 'latin1'));
    put('run.sh', '#!/bin/sh\nexit 0\n', 0o755);
    put('data.bin', readFileSync(fx.f.libhelper)); // an ELF by content, but nothing says it is loaded
    const r = check(planOf(fx.f.ok, { files: [copy(tree, '/odd')] }));
    expect(r.perObject.map((o) => o.guest).filter((g) => g.startsWith('/odd/'))).toEqual(['/odd/ok.so']);
    expect(r.warnings.filter((w) => w.code === 'check.unreadable').map((w) => w.message)).toEqual([
      `/odd/w32.so (${join(tree, 'w32.so')}) was not checked: a 32-bit i386 object, which an x86_64 OSv cannot load`,
    ]);
    expect(r.ok).toBe(true);
  });

  it('without a kernel, says what it cannot check and still checks between libraries', () => {
    const r = check(planOf(fx.f.version), null);
    expect(r.kernel).toEqual({ checked: false, reason: 'no kernel ELF was given' });
    expect(r.warnings.find((w) => w.code === 'check.no-kernel')?.message).toMatch(/^the kernel's symbols were not checked: no kernel ELF was given\. \d+ needed symbols? that no object/);
    expect(r.summary).toMatch(/kernel NOT checked, \d+ symbols unchecked\]$/);
    // libver.so.1 is in the image, so its version is checkable without the kernel.
    expect(objectOf(r, '/version').missing.map((m) => `${m.name}@${m.version}`)).toEqual(['ver_fn@VER_2']);
    // An unversioned symbol nothing in the image defines might be the kernel's: unchecked, not missing.
    const d = check(planOf(fx.f.needsData), null);
    expect(d.ok).toBe(true);
    expect(objectOf(d, '/needs-data')).toMatchObject({ missing: [] });
    expect(objectOf(d, '/needs-data').unchecked).toBeGreaterThan(0);
  });

  it('writes its cache files through exclusive temp files, never through a planted symlink (issue #20)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'osv-symcache-'));
    try {
      const victim = join(dir, 'victim');
      writeFileSync(victim, 'precious\n');
      for (const ext of ['json', 'names']) symlinkSync(victim, join(dir, `${kernel.sha256}.${ext}.${process.pid}.tmp`));
      check(planOf(fx.f.ok), kernel, fileSymbolCache(dir));
      expect(readFileSync(victim, 'utf8')).toBe('precious\n');
      expect(existsSync(join(dir, `${kernel.sha256}.json`))).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('caches the kernel symbols by sha256 and survives a corrupt cache file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'osv-symcache-'));
    try {
      const cache = fileSymbolCache(dir);
      const p = planOf(fx.f.ok);
      expect(check(p, kernel, cache).kernel.cached).toBe(false);
      const file = join(dir, `${kernel.sha256}.json`);
      expect(existsSync(file)).toBe(true);
      const meta = JSON.parse(readFileSync(file, 'utf8')) as { sha256: string; count: number; machine: number };
      expect(meta).toMatchObject({ sha256: kernel.sha256, machine: 62 });
      expect(meta.count).toBeGreaterThanOrEqual(fx.kernelExports.length);
      const names = readFileSync(join(dir, `${kernel.sha256}.names`)).toString('latin1');
      for (const n of fx.kernelExports) expect(names).toContain(`${n}\n`);
      // A new process (a new cache object) reads the files.
      const again = check(p, kernel, fileSymbolCache(dir));
      expect(again.kernel.cached).toBe(true);
      expect(again.summary).toBe(check(p, kernel, noSymbolCache).summary);
      // Damaged entries are misses, and are written again.
      writeFileSync(file, '{"format": 3, "sha256": "trunc');
      expect(check(p, kernel, fileSymbolCache(dir)).kernel.cached).toBe(false);
      expect(check(p, kernel, fileSymbolCache(dir)).kernel.cached).toBe(true);
      writeFileSync(join(dir, `${kernel.sha256}.names`), 'OSVSYMS1 short');
      expect(check(p, kernel, fileSymbolCache(dir)).kernel.cached).toBe(false);
      expect(check(p, kernel, fileSymbolCache(dir))).toMatchObject({ ok: true, kernel: { cached: true } });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a kernel file that is not an ELF, naming it', () => {
    const bogus = join(fx.dir, 'not-a-kernel');
    writeFileSync(bogus, 'hello\n');
    const r = checkPlan(planOf(fx.f.ok), { elf: bogus, sha256: 'b'.repeat(64), origin: 'path', hiddenSymbols: false }, undefined, { cache: noSymbolCache });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.code).toBe('check.kernel-unreadable');
    expect(r.error.message).toContain(bogus);
    expect(r.error.message).not.toMatch(/RangeError|Buffer/);
  });

  it('renders an image with every kind of warning as the user reads it, and each symbol by name with --verbose', () => {
    const p = planOf(fx.f.many, { libraries: [lib(fx.f.pluginMissing)], files: [copy(fx.f.tree, '/tree')], runs: { data: runConfig([fx.f.needsData]) } });
    const r = check(p);
    expect(r.ok).toBe(true);
    expect(r.totals).toEqual({ objects: 7, needs: 25, unchecked: 1, errors: 0, warnings: 4, missingFunctions: 12, missingData: 0, missingVersions: 0, missingLibraries: 1, stubCalls: 0, otherRunObjects: 1 });
    const summary =
      "symbols: no errors; 1 needed library not in the image, 12 functions OSv lacks (warnings: fail only if called), problems in 1 object of other runs' programs (check them with --run) [7 objects, 25 needed symbols; kernel 18 exports]";
    const warnings = [
      'many: 11 functions OSv lacks, 10 via PLT, 1 bound at load (a call through them faults) (fails only if called): many_0, many_1, many_2, many_3, many_4, many_5, many_6, many_7 (+3 more)',
      "needs-data needs 1 data object that nothing in the image or the kernel defines: ghost_data; the loader aborts before the program starts [not the selected run's program: `osv check --run data` checks it]",
      '/usr/lib/plugin-missing.so: 1 function OSv lacks, all via PLT (fails only if called): nowhere_fn',
      '1 library loaded at run time needs libraries that are not in the image, so using it will fail: needs-gone.so (libnotthere.so.1); add the libraries under `libraries` to ship them',
    ];
    expect(renderCheck(r)).toBe([summary, ...warnings.map((w) => `warning: ${w}`), '(--verbose lists every symbol; --json gives all of it)'].join('\n'));
    const many = [...Array.from({ length: 10 }, (_, i) => `many_${i}`), 'many_ptr'];
    expect(r.warnings.find((w) => w.object === '/many')?.symbols).toEqual(many);
    const verbose = renderCheck(r, { verbose: true, yellow: (s) => `<y>${s}</y>`, dim: (s) => `<d>${s}</d>` });
    expect(verbose.split('\n')).toEqual([
      summary,
      ...warnings.map((w) => `<y>warning</y>: ${w}`),
      '',
      `many  <d>/many <- ${fx.f.many}; program, cmd[0] (/project/osv.yaml:2:1)</d>`,
      ...many.map((n) => (n === 'many_ptr' ? '  W many_ptr  function, bound at load (GLOB_DAT/64)' : `  W ${n}  function, PLT (JUMP_SLOT)`)),
      '',
      `needs-data  <d>/needs-data <- ${fx.f.needsData}; other-program, runs.data.cmd[0] (/project/osv.yaml:2:1)</d>`,
      `  E ghost_data  data, ${objectOf(r, '/needs-data').missing[0]!.bind === 'copy' ? 'COPY relocation (the loader aborts)' : 'bound at load (GLOB_DAT/64)'}`,
      '',
      `/tree/modules/needs-gone.so  <d>/tree/modules/needs-gone.so <- ${fx.dir}/tree/modules/needs-gone.so; dlopen, files[0], in tree ${fx.dir}/tree (/project/osv.yaml:9:3)</d>`,
      '  library libnotthere.so.1: not in the image',
      '',
      `/usr/lib/plugin-missing.so  <d>/usr/lib/plugin-missing.so <- ${fx.f.pluginMissing}; dlopen, libraries[0] (/project/osv.yaml:7:3)</d>`,
      '  W nowhere_fn  unknown, PLT (JUMP_SLOT)',
    ]);
  });

  it('renders a summary, one line per finding, and every symbol with --verbose', () => {
    const r = check(planOf(fx.f.needsData));
    const text = renderCheck(r);
    const lines = text.split('\n');
    expect(lines[0]).toBe(r.summary);
    expect(lines[1]).toBe("error: needs-data needs 1 data object that nothing in the image or the kernel defines: ghost_data; " + (objectOf(r, '/needs-data').missing[0]!.bind === 'copy' ? 'the loader aborts before the program starts' : 'the program faults when it first reads them'));
    const verbose = renderCheck(r, { verbose: true });
    expect(verbose).toMatch(/^ {2}E ghost_data {2}data, (COPY relocation|bound at load)/m);
  });
});
