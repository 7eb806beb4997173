// `osv check` as a user runs it: the built CLI in a project directory, the stand-in kernel
// given through OSV_KERNEL, the symbol cache under a temporary XDG_CACHE_HOME.

import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCheckFixtures, hasGcc, type CheckFixtures } from './fixtures.js';
import { lacks } from '../helpers/skip.js';
import { runOsv } from '../helpers/osv.js';

describe.skipIf(lacks('osv check', [hasGcc, 'gcc is not installed (it compiles the fixtures)']))('osv check', () => {
  let fx: CheckFixtures;
  let cache: string;
  beforeAll(async () => {
    fx = await buildCheckFixtures();
    cache = mkdtempSync(join(tmpdir(), 'osv-check-cache-'));
    writeFileSync(join(fx.dir, 'osv.yaml'), ['name: checked', 'cmd: [./app/ok]', 'runs:', '  data:', '    cmd: [./app/needs-data]', ''].join('\n'));
  });
  afterAll(() => {
    fx?.cleanup();
    if (cache) rmSync(cache, { recursive: true, force: true });
  });

  const run = (env: Record<string, string>, ...args: string[]) => runOsv(['check', ...args], { cwd: fx.dir, env: { ...process.env, NO_COLOR: '1', XDG_CACHE_HOME: cache, OSV_KERNEL: '', ...env } });

  it('passes a program whose symbols all exist, and caches the kernel symbols', () => {
    const r = run({ OSV_KERNEL: fx.kernelDir });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    // needs-data is run "data"'s program, in the same image: a warning here, an error with --run data.
    expect(r.stdout.split('\n')[0]).toMatch(/^symbols: no errors; problems in 1 object of other runs' programs \(check them with --run\) \[\d+ objects, \d+ needed symbols; kernel \d+ exports\]$/);
    expect(r.stdout).toContain('`osv check --run data` checks it');
    const files = readdirSync(join(cache, 'osv-up', 'symbols'));
    expect(files.filter((f) => /^[0-9a-f]{64}\.json$/.test(f))).toHaveLength(1);
    expect(files.filter((f) => /^[0-9a-f]{64}\.names$/.test(f))).toHaveLength(1);
  });

  it('exits 1 on a missing data object, naming it', () => {
    const r = run({ OSV_KERNEL: fx.kernelDir }, '--run', 'data');
    expect(r.code).toBe(1);
    expect(r.stdout.split('\n')[0]).toMatch(/^symbols: 1 error; 1 missing data object \(errors\)/);
    expect(r.stdout).toContain('error: needs-data needs 1 data object that nothing in the image or the kernel defines: ghost_data');
    expect(r.stdout).toContain('(--verbose lists every symbol; --json gives all of it)');
    const v = run({ OSV_KERNEL: fx.kernelDir }, '--run', 'data', '--verbose');
    expect(v.stdout).toMatch(/^ {2}E ghost_data {2}data, /m);
  });

  it('prints the report as JSON', () => {
    const r = run({ OSV_KERNEL: fx.kernelDir }, '--run', 'data', '--json');
    expect(r.code).toBe(1);
    const j = JSON.parse(r.stdout) as { ok: boolean; errors: Array<{ code: string; symbols: string[] }>; perObject: unknown[]; kernel: { checked: boolean; cached: boolean }; symbolOwner?: unknown };
    expect(j.ok).toBe(false);
    expect(j.errors[0]).toMatchObject({ code: 'check.missing-data', symbols: ['ghost_data'] });
    expect(j.kernel).toMatchObject({ checked: true, cached: true });
    expect(j.perObject.length).toBeGreaterThan(0);
    expect(j.symbolOwner).toBeUndefined();
  });

  it('without a kernel says what it did not check, and passes', () => {
    const r = run({});
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('kernel NOT checked');
    expect(r.stdout).toContain("warning: the kernel's symbols were not checked: no kernel is configured; set kernel.path or kernel.version, or OSV_KERNEL, or pass --kernel.");
  });

  it('refuses a --kernel that is not a kernel, naming it', () => {
    const bogus = join(fx.dir, 'bogus-kernel');
    writeFileSync(bogus, 'not a kernel\n');
    const r = run({}, '--kernel', bogus);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(bogus);
    expect(r.stderr).not.toMatch(/at .*\.js:\d+/); // no stack trace
    expect(existsSync(join(fx.dir, 'osv.lock'))).toBe(false);
  });

  it('has help with examples', () => {
    const r = run({}, '--help');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Examples:');
    expect(r.stdout).toContain('--verbose');
    expect(r.stdout).toContain('--run <name>');
  });
});
