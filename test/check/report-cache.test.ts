// The report cache (src/check/report-cache.ts): a check of the same plan, the same files (by
// identity), the same kernel and the same osv answers with the findings kept, without reading
// any object; anything else is a miss, and so is a damaged or tampered entry.

import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkPlan, fileReportCache, noSymbolCache, type CheckReport, type ObjectCache, type ReportCache } from '../../src/check/index.js';
import { nodeHostFs, type HostFs } from '../../src/hostfs.js';
import { sha256File } from '../../src/kernel/hash.js';
import type { KernelBundle } from '../../src/kernel/types.js';
import { plan } from '../../src/plan/index.js';
import type { Plan } from '../../src/plan/types.js';
import { makeConfig } from '../plan/helpers.js';
import { buildCheckFixtures, hasGcc, type CheckFixtures } from './fixtures.js';

const root = mkdtempSync(join(tmpdir(), 'osv-report-cache-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const freshDir = (): string => join(root, `c${n++}`);

/** An object cache that keeps nothing and counts the objects asked for: a check that read none answered from its report cache. */
function counting(): ObjectCache & { reads: number } {
  const c = { reads: 0, read: () => void c.reads++, record: () => undefined, flush: () => undefined };
  return c;
}

describe.skipIf(!hasGcc)('the report cache', () => {
  let fx: CheckFixtures;
  let kernel: KernelBundle;
  let p: Plan;
  beforeAll(async () => {
    fx = await buildCheckFixtures();
    kernel = { elf: fx.kernelElf, sha256: sha256File(fx.kernelElf), origin: 'path', hiddenSymbols: false };
    const r = plan(makeConfig({ dir: fx.dir, cmd: [fx.f.needsFn!] }), { env: {} });
    if (!r.ok) throw new Error(r.error.errors.map((e) => e.message).join('\n'));
    p = r.value;
  });
  afterAll(() => fx?.cleanup());

  const check = (reports: ReportCache, over: { kernel?: KernelBundle | undefined; fs?: HostFs } = {}): { report: CheckReport; reads: number; objects: ReturnType<typeof counting> } => {
    const objects = counting();
    const r = checkPlan(p, 'kernel' in over ? over.kernel : kernel, over.fs ?? nodeHostFs, { cache: noSymbolCache, objects, reports });
    if (!r.ok) throw new Error(r.error.message);
    return { report: r.value, reads: objects.reads, objects };
  };
  const data = ({ symbolOwner: _owner, ...r }: CheckReport): unknown => ({ ...r, kernel: { ...r.kernel, cached: undefined } });

  it('answers a second check of the same plan with the findings of the first, reading no object', () => {
    const reports = fileReportCache(freshDir(), 'source-1');
    const first = check(reports);
    expect(first.reads).toBeGreaterThan(0);
    const second = check(reports);
    expect(second.reads).toBe(0);
    expect(data(second.report)).toEqual(data(first.report));
    expect(second.report.kernel.cached).toBe(true);
    // symbolOwner needs the objects' symbols: read when asked, and only then.
    expect(second.report.symbolOwner('ghost_fn')).toMatchObject({ object: '/needs-fn', missing: { name: 'ghost_fn' } });
    expect(second.objects.reads).toBeGreaterThan(0);
  });

  it('does not answer for another osv, another kernel, or an object whose file changed', () => {
    const dir = freshDir();
    check(fileReportCache(dir, 'source-1'));
    expect(check(fileReportCache(dir, 'source-2')).reads).toBeGreaterThan(0);
    check(fileReportCache(dir, 'source-1'));
    expect(check(fileReportCache(dir, 'source-1'), { kernel: undefined }).reads).toBeGreaterThan(0);
    check(fileReportCache(dir, 'source-1'));
    // The program rebuilt (here: its mtime moved), the plan otherwise the same.
    const touched: HostFs = { ...nodeHostFs, stat: (path) => { const st = nodeHostFs.stat(path); return st && path === fx.f.needsFn ? { ...st, mtimeMs: st.mtimeMs + 1 } : st; } };
    expect(check(fileReportCache(dir, 'source-1'), { fs: touched }).reads).toBeGreaterThan(0);
    expect(check(fileReportCache(dir, 'source-1'), { fs: touched }).reads).toBe(0);
  });

  it('keeps nothing for an osv run from its source (no source id)', () => {
    const dir = freshDir();
    check(fileReportCache(dir, undefined));
    expect(check(fileReportCache(dir, undefined)).reads).toBeGreaterThan(0);
    expect(() => readdirSync(dir)).toThrow();
  });

  /** A cache holding the entry of one check: its file, its content, and its first object's report. */
  const keptEntry = (): { reports: ReportCache; file: string; good: Record<string, unknown>; obj: Record<string, unknown> } => {
    const dir = freshDir();
    const reports = fileReportCache(dir, 'source-1');
    check(reports);
    const file = join(dir, readdirSync(dir)[0]!);
    const good = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    return { reports, file, good, obj: (good['perObject'] as Array<Record<string, unknown>>)[0]! };
  };

  it('takes a damaged or tampered entry for a miss', () => {
    const { reports, file, good, obj } = keptEntry();
    const withObject = (o: Record<string, unknown>) => ({ ...good, perObject: [o] });
    const bad: Array<Record<string, unknown> | string> = [
      'not json',
      { ...good, format: 0 },
      { ...good, inputs: `${good['inputs'] as string} ` },
      { ...good, kernel: { checked: 'yes' } },
      { ...good, unreadable: [{ guest: '/x' }] },
      withObject({ ...obj, role: 'boss' }),
      withObject({ ...obj, needs: '3' }),
      withObject({ ...obj, chain: [1] }),
      withObject({ ...obj, missing: [{ name: 'x', kind: 'function', bind: 'plt', severity: 'fatal', reason: 'undefined' }] }),
      withObject({ ...obj, stubs: [{ name: 'x' }] }),
    ];
    for (const b of bad) {
      writeFileSync(file, typeof b === 'string' ? b : JSON.stringify(b));
      expect(check(reports).reads, typeof b === 'string' ? b : JSON.stringify(b).slice(0, 80)).toBeGreaterThan(0);
    }
    writeFileSync(file, JSON.stringify(good));
    expect(check(reports).reads).toBe(0);
  });

  // Every field of an entry, each wrong in each way a tampered or foreign file could have it: a
  // miss; each optional field absent, and each enumerated value: still a hit. (The entry's
  // findings are rendered as kept, so a field let through unchecked would reach the report.)
  it('checks every field of every record it keeps, and accepts each valid form', () => {
    const { reports, file, good, obj } = keptEntry();
    const missing = { name: 'f', version: 'V_1', from: 'libx.so.1', kind: 'function', bind: 'plt', severity: 'warning', reason: 'version', offered: ['V_2'] };
    const stub = { name: 'fork', effect: 'fails with ENOSYS' };
    const unreadable = { guest: '/lib/x.so', host: '/usr/lib/x.so', reason: 'truncated' };
    const kernel = { checked: true, sha256: 'ab', symbols: 3, cached: false, reason: 'r' };
    const rich = { ...obj, run: 'other', missing: [missing], stubs: [stub] };
    const entry = (over: { kernel?: unknown; object?: unknown; unreadable?: unknown; top?: Record<string, unknown> }): Record<string, unknown> => ({
      ...good,
      kernel: 'kernel' in over ? over.kernel : kernel,
      perObject: ['object' in over ? over.object : rich],
      unreadable: ['unreadable' in over ? over.unreadable : unreadable],
      ...over.top,
    });
    const hit = (e: Record<string, unknown>): boolean => {
      writeFileSync(file, JSON.stringify(e));
      return check(reports).reads === 0;
    };
    expect(hit(entry({}))).toBe(true);

    const without = (o: Record<string, unknown>, k: string): Record<string, unknown> => Object.fromEntries(Object.entries(o).filter(([key]) => key !== k));
    const str = [1, null, true, ['a'], { a: 1 }];
    const num = ['1', null, true, [1], {}];
    const strs = ['a', [1], ['a', 2], [null], { 0: 'a' }];
    const notObj = [null, 'x', 1, [], [{}]];
    // [field, wrong values, optional?, valid alternatives]
    type Spec = [string, unknown[], boolean, unknown[]];
    const records: Array<{ name: string; base: Record<string, unknown>; put: (v: unknown) => Record<string, unknown>; fields: Spec[] }> = [
      {
        name: 'missing symbol',
        base: missing,
        put: (m) => entry({ object: { ...rich, missing: [m] } }),
        fields: [
          ['name', str, false, []],
          ['version', str, true, []],
          ['from', str, true, []],
          ['kind', ['func', 1, null], false, ['data', 'tls', 'unknown']],
          ['bind', ['got', 1, null], false, ['copy', 'tls', 'load', 'none']],
          ['severity', ['fatal', 1, null], false, ['error']],
          ['reason', ['absent', 1, null], false, ['undefined']],
          ['offered', strs, true, [[]]],
        ],
      },
      { name: 'stub', base: stub, put: (x) => entry({ object: { ...rich, stubs: [x] } }), fields: [['name', str, false, []], ['effect', str, false, []]] },
      {
        name: 'object',
        base: rich,
        put: (o) => entry({ object: o }),
        fields: [
          ['guest', str, false, []],
          ['host', str, false, []],
          ['soname', str, false, []],
          ['role', ['root', 1, null], false, ['program', 'needed', 'dlopen', 'other-program']],
          ['chain', strs, false, [[]]],
          ['run', str, true, []],
          ['declared', str, false, []],
          ['missingLibraries', strs, false, [[], ['libq.so.1']]],
          ['missing', [null, 'x', 1, {}, [null], [{ ...missing, kind: 'x' }]], false, [[]]],
          ['stubs', [null, 'x', 1, {}, [null], [{ name: 'x' }]], false, [[]]],
          ['needs', [...num, Infinity], false, [0]],
          ['unchecked', [...num, NaN], false, [0]],
        ],
      },
      { name: 'unreadable', base: unreadable, put: (u) => entry({ unreadable: u }), fields: [['guest', str, false, []], ['host', str, false, []], ['reason', str, false, []]] },
      {
        name: 'kernel',
        base: kernel,
        put: (k) => entry({ kernel: k }),
        fields: [
          ['checked', ['true', 1, null], false, [false]],
          ['sha256', str, true, []],
          ['symbols', num, true, []],
          ['cached', ['true', 1, null], true, [true]],
          ['reason', str, true, []],
        ],
      },
    ];
    const wrongs: string[] = [];
    const rights: string[] = [];
    for (const r of records) {
      for (const bad of notObj) if (hit(r.put(bad))) wrongs.push(`${r.name} = ${JSON.stringify(bad)}`);
      for (const [field, badValues, optionalField, valid] of r.fields) {
        if (!optionalField && hit(r.put(without(r.base, field)))) wrongs.push(`${r.name} without ${field}`);
        if (optionalField && !hit(r.put(without(r.base, field)))) rights.push(`${r.name} without ${field}`);
        for (const v of badValues) if (hit(r.put({ ...r.base, [field]: v }))) wrongs.push(`${r.name}.${field} = ${JSON.stringify(v)}`);
        for (const v of valid) if (!hit(r.put({ ...r.base, [field]: v }))) rights.push(`${r.name}.${field} = ${JSON.stringify(v)}`);
      }
    }
    for (const [name, v] of [['format', 2], ['format', '1'], ['inputs', 1], ['perObject', {}], ['perObject', [null]], ['unreadable', {}], ['unreadable', [1]]] as const) {
      if (hit(entry({ top: { [name]: v } }))) wrongs.push(`${name} = ${JSON.stringify(v)}`);
    }
    if (hit(without(entry({}), 'kernel'))) wrongs.push('without kernel');
    expect({ acceptedWrongly: wrongs, refusedWrongly: rights }).toEqual({ acceptedWrongly: [], refusedWrongly: [] });
    // And the kept findings come back as they were written.
    expect(hit(entry({}))).toBe(true);
    const back = check(reports).report;
    expect(back.kernel).toMatchObject({ ...kernel, cached: true });
  });

  it('keeps one entry per image name, architecture, run and kernel, in a file named by their FNV-1a hash', () => {
    const dir = freshDir();
    const cache = fileReportCache(dir, 'source-1');
    const noKernel = { reason: 'no kernel', hidden: false };
    const slot = (name: string, arch: string, run: string, kernel: { sha256?: string; reason?: string; hidden: boolean } = noKernel): string =>
      cache.inputs({ ...p, name, arch, run: { ...p.run, name: run } } as Plan, kernel, nodeHostFs)!.slot;
    // A stable name: the same on every machine (checked against an independent FNV-1a).
    expect(slot('app', 'x86_64', 'default')).toBe('cd1a3deb.json');
    const slots = [
      slot('app', 'x86_64', 'default'),
      slot('app', 'aarch64', 'default'),
      slot('app', 'x86_64', 'serve'),
      slot('apq', 'x86_64', 'default'),
      slot('app2', 'x86_64', 'default'),
      slot('app', 'x86_64', 'default', { reason: 'another reason', hidden: false }),
      slot('app', 'x86_64', 'default', { reason: 'no kernel', hidden: true }),
      slot('app', 'x86_64', 'default', { sha256: 'ab', hidden: false }),
    ];
    expect(new Set(slots).size).toBe(slots.length);
    // Written entries are read back for the same inputs only, from their slot.
    const findings = { kernel: { checked: false, reason: 'no kernel' }, perObject: [], unreadable: [] };
    const a = cache.inputs(p, noKernel, nodeHostFs)!;
    cache.write(a, findings);
    expect(readdirSync(dir)).toEqual([a.slot]);
    expect(cache.read(a)).toEqual(findings);
    expect(cache.read({ ...a, text: `${a.text} ` })).toBeUndefined();
    expect(cache.read({ ...a, slot: 'other.json' })).toBeUndefined();
  });

  it('keeps what two commands that know the kernel differently checked, side by side', () => {
    // osv plan and osv check without a configured kernel give different reasons: each keeps its own.
    const dir = freshDir();
    const reports = fileReportCache(dir, 'source-1');
    const plain = (reason: string): ReturnType<typeof check> => {
      const objects = counting();
      const r = checkPlan(p, undefined, nodeHostFs, { cache: noSymbolCache, objects, reports, noKernelReason: reason });
      if (!r.ok) throw new Error(r.error.message);
      return { report: r.value, reads: objects.reads, objects };
    };
    expect(plain('reason one').reads).toBeGreaterThan(0);
    expect(plain('reason two').reads).toBeGreaterThan(0);
    expect(plain('reason one').reads).toBe(0);
    expect(plain('reason two').reads).toBe(0);
    expect(readdirSync(dir)).toHaveLength(2);
  });
});
