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

  it('takes a damaged or tampered entry for a miss', () => {
    const dir = freshDir();
    const reports = fileReportCache(dir, 'source-1');
    check(reports);
    const file = join(dir, readdirSync(dir)[0]!);
    const good = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    const obj = (good['perObject'] as Array<Record<string, unknown>>)[0]!;
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
});
