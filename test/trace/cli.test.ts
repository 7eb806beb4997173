// `osv trace` end to end, through the built CLI, on programs compiled by the suite.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { loadConfig } from '../../src/config/index.js';
import { plan } from '../../src/plan/index.js';
import { buildFixture, hasGcc, hasStrace, type TraceFixture } from './fixture.js';
import { runOsv } from '../helpers/osv.js';

const osv = (args: string[], cwd: string) => runOsv(args, { cwd, timeout: 30_000 });

interface JsonFinding {
  kind: string;
  path: string;
  category: string;
  reason: string;
  by?: string;
  add?: { key: string; value: unknown };
}

if (!hasGcc) console.warn('skipped: gcc is not installed, the trace fixtures cannot be compiled');
if (!hasStrace) console.warn('skipped (data-file cases): strace is not installed');

describe.runIf(hasGcc)('osv trace', () => {
  let fx: TraceFixture;
  beforeAll(() => {
    fx = buildFixture();
  });
  afterAll(() => fs.rmSync(fx.dir, { recursive: true, force: true }));

  it.runIf(hasStrace)('reports the dlopen\'d plugin and the data file, with reasons', () => {
    const r = osv(['trace', '--json', '--', fx.prog, fx.plugin, 'app.conf'], fx.dir);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('plug=42 data=greeting=hello'); // the program's stdout goes to stderr with --json
    const report = JSON.parse(r.stdout) as { findings: JsonFinding[]; exit: { code: number }; stoppedBy: string; ignored: Array<{ path: string; why: string }> };
    expect(report.exit.code).toBe(0);
    expect(report.stoppedBy).toBe('exit');
    const plug = report.findings.find((f) => f.path === fx.plugin);
    expect(plug).toMatchObject({ kind: 'library', category: 'dlopen', add: { key: 'libraries', value: { name: fx.plugin, dest: fx.plugin } } });
    expect(plug!.reason).toContain('invisible to DT_NEEDED');
    // The plugin's own dependency comes with its closure: reported, not written.
    const dep = report.findings.find((f) => f.path === fx.dep);
    expect(dep).toMatchObject({ category: 'dlopen-closure', by: fx.plugin });
    expect(dep!.add).toBeUndefined();
    // The data file, by the absolute name the program used (it opened "app.conf" in its cwd).
    const data = report.findings.find((f) => f.path === fx.data);
    expect(data).toMatchObject({ kind: 'file', category: 'data', add: { key: 'files', value: { src: fx.data, dest: fx.data } } });
    // Never reported: the program itself, the loader cache, libc (the OSv kernel provides it).
    const paths = report.findings.map((f) => f.path);
    expect(paths).not.toContain(fx.prog);
    expect(paths.some((p) => p.endsWith('/libc.so.6'))).toBe(false);
    expect(report.ignored.some((i) => i.path === '/etc/ld.so.cache')).toBe(true);
  });

  it('prints a grouped text report; without strace only libraries are traced', () => {
    const r = osv(['trace', '--no-strace', '--', fx.prog, fx.plugin, fx.data], fx.dir);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('plug=42');
    expect(r.stdout).toContain("dlopen'd at run time: invisible to DT_NEEDED");
    expect(r.stdout).toContain(fx.plugin);
    expect(r.stdout).toContain('--no-strace: only libraries were traced');
    if (fx.dir.startsWith('/tmp/')) expect(r.stdout).toContain('under /tmp, where OSv mounts an empty ramfs');
    expect(r.stdout).not.toContain('data file read at run time');
  });

  it.runIf(hasStrace)('--write adds both to osv.yaml, keeping the user\'s comments, and the plan then holds them', async () => {
    const dir = fs.mkdtempSync(join(fx.dir, 'proj-'));
    const file = join(dir, 'osv.yaml');
    const original = [
      '# The demo service. Keep this comment.',
      'name: demo',
      `cmd: [${fx.prog}, ${fx.plugin}, ${fx.data}]   # how it starts`,
      'files:',
      '  # static assets go here',
      `  - { src: ${fx.dir}/prog.c, dest: /src/prog.c }`,
      'env:',
      '  GREETING: hello   # read by the app',
      '',
    ].join('\n');
    fs.writeFileSync(file, original);
    const r = osv(['trace', '--write', '--', fx.prog, fx.plugin, fx.data], dir);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Added \d+ entr(y|ies) to .*osv\.yaml/);
    const text = fs.readFileSync(file, 'utf8');
    expect(text).toContain('# The demo service. Keep this comment.');
    expect(text).toContain('# how it starts');
    expect(text).toContain('  # static assets go here');
    expect(text).toContain('  GREETING: hello   # read by the app\n');
    // files: grew in place (before env:), libraries: was created at the end.
    expect(text.indexOf(`src: ${fx.data}`)).toBeLessThan(text.indexOf('env:'));
    expect(text.indexOf('libraries:')).toBeGreaterThan(text.indexOf('env:'));
    const js = parseDocument(text).toJS() as { libraries: unknown[]; files: unknown[] };
    expect(js.libraries).toContainEqual({ name: fx.plugin, dest: fx.plugin });
    if (hasStrace) expect(js.files).toContainEqual({ src: fx.data, dest: fx.data });
    expect(js.files[0]).toEqual({ src: `${fx.dir}/prog.c`, dest: '/src/prog.c' });

    // The configuration it wrote plans, and the plan holds both at the paths the program used,
    // with the plugin's own dependency resolved through its RUNPATH.
    const config = await loadConfig({ cwd: dir });
    expect(config.ok, config.ok ? '' : config.error.message).toBe(true);
    const planned = plan(config.ok ? config.value : (undefined as never), { env: process.env });
    expect(planned.ok, planned.ok ? '' : planned.error.message).toBe(true);
    const guests = new Map(planned.ok ? planned.value.entries.map((e) => [e.guest, e]) : []);
    expect(guests.get(fx.plugin)?.kind).toBe('file');
    if (hasStrace) expect(guests.get(fx.data)).toMatchObject({ kind: 'file', host: fx.data });
    expect(guests.has('/usr/lib/libdep.so')).toBe(true);

    // A second run compares with that plan, finds them there, and adds nothing.
    const report = JSON.parse(osv(['trace', '--json', '--', fx.prog, fx.plugin, fx.data], dir).stdout) as { findings: JsonFinding[]; ignored: Array<{ path: string; why: string }> };
    expect(report.findings.filter((f) => f.add)).toEqual([]);
    expect(report.ignored).toContainEqual({ path: fx.plugin, why: 'already in the plan' });
    const again = osv(['trace', '--write', '--', fx.prog, fx.plugin, fx.data], dir);
    expect(again.code, again.stderr).toBe(0);
    expect(fs.readFileSync(file, 'utf8')).toBe(text);
  });

  it.runIf(hasStrace)('--write writes a traced path holding ${...} so that osv plan takes it literally (issue #20)', () => {
    const dir = fs.mkdtempSync(join(fx.dir, 'proj-'));
    const data = join(dir, 'cfg-${env:MY_SECRET}.conf');
    fs.writeFileSync(data, 'greeting=hi\n');
    fs.writeFileSync(join(dir, 'osv.yaml'), `cmd: [${fx.prog}, ${fx.plugin}, ./x]\n`);
    const r = osv(['trace', '--write', '--', fx.prog, fx.plugin, data], dir);
    expect(r.code, r.stderr).toBe(0);
    expect(fs.readFileSync(join(dir, 'osv.yaml'), 'utf8')).toContain('cfg-$${env:MY_SECRET}.conf');
    const p = runOsv(['plan', '--json'], { cwd: dir, env: { ...process.env, MY_SECRET: 'hunter2', OSV_KERNEL: '' } });
    expect(`${p.stdout}${p.stderr}`).not.toContain('hunter2');
    const planned = JSON.parse(p.stdout) as { entries: Array<{ guest: string; host?: string }> };
    expect(planned.entries.find((e) => e.guest === data)?.host).toBe(data);
  });

  it.each([[[] as string[]], [['--no-strace']]])('--duration stops a program that does not exit, and its whole tree %j', (extra) => {
    const started = Date.now();
    const r = osv(['trace', '--json', '--duration', '0.5', ...extra, '--', fx.sleeper], fx.dir);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as { stoppedBy: string; exit: { signal: string | null; code: number | null } };
    expect(report.stoppedBy).toBe('duration');
    expect(Date.now() - started).toBeLessThan(15_000);
    const alive = spawnSync('pgrep', ['-f', fx.sleeper], { encoding: 'utf8' });
    expect(alive.stdout.trim()).toBe('');
  });

  it.runIf(hasStrace)('names the real program behind a script (a shim)', () => {
    const shim = join(fx.dir, 'shim.sh');
    fs.writeFileSync(shim, `#!/bin/sh\nexec ${fx.prog} "$@"\n`, { mode: 0o755 });
    const r = osv(['trace', '--json', '--', shim, fx.plugin, fx.data], fx.dir);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as { notes: string[]; findings: JsonFinding[]; programs: string[] };
    expect(report.notes.join('\n')).toContain(`is a script (#!/bin/sh); OSv runs ELF programs only, so cmd must name the real program: this one ended up running ${fx.prog}`);
    expect(report.findings.some((f) => f.path === fx.plugin)).toBe(true);
  });

  it('refuses what it cannot run, with a usage error and no stack', () => {
    const missing = osv(['trace', '--', join(fx.dir, 'no-such-program')], fx.dir);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('no-such-program: no such file');
    const noConfig = osv(['trace', '--write', '--', fx.prog, fx.plugin, fx.data], fx.dir);
    expect(noConfig.code).toBe(2);
    expect(noConfig.stderr).toContain('--write needs a configuration file');
    const badDuration = osv(['trace', '--duration', 'soon', '--', fx.prog], fx.dir);
    expect(badDuration.code).toBe(2);
    expect(badDuration.stderr).toContain('invalid duration');
    // 1000h used to stop the program at once (Node's timers hold at most 2^31 - 1 ms).
    const tooLong = osv(['trace', '--duration', '1000h', '--', fx.prog], fx.dir);
    expect(tooLong.code).toBe(2);
    expect(tooLong.stderr).toContain('duration "1000h" is longer than osv can wait (at most 2147483 s, about 24.8 days)');
  });

  it('says in --help that it runs only the program named', () => {
    const r = osv(['trace', '--help'], fx.dir);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('runs only the program you name');
    expect(r.stdout).toContain('osv trace --write --');
  });
});
