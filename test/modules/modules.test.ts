// Modules end to end: configuration files on disk -> loadConfig -> plan. Local osv-up modules
// pull in their own modules and require others; an OSv-tree module's usr.manifest is read
// against OSV_BASE; every planned file names the module it came from.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import type { OsvErrors } from '../../src/diagnostics/error.js';
import { plan } from '../../src/plan/index.js';
import type { Plan, PlanEntry, Provenance } from '../../src/plan/types.js';
import { hasGcc } from '../helpers/tools.js';

let root: string;
beforeAll(() => {
  root = fs.mkdtempSync(join(tmpdir(), 'osv-modules-'));
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

/** Write files (path -> text) under a fresh project directory. */
function project(files: Record<string, string>): string {
  const dir = fs.mkdtempSync(join(root, 'p-'));
  for (const [p, text] of Object.entries(files)) {
    fs.mkdirSync(dirname(join(dir, p)), { recursive: true });
    fs.writeFileSync(join(dir, p), text);
  }
  return dir;
}

async function planDir(dir: string, env: Record<string, string | undefined> = process.env): Promise<{ ok: true; plan: Plan } | { ok: false; messages: string[] }> {
  const c = await loadConfig({ cwd: dir, env });
  if (!c.ok) return { ok: false, messages: c.error.errors.map((e) => e.message) };
  const p = plan(c.value, { env });
  if (!p.ok) return { ok: false, messages: (p.error as OsvErrors).errors.map((e) => e.message) };
  return { ok: true, plan: p.value };
}

async function mustPlan(dir: string, env?: Record<string, string | undefined>): Promise<Plan> {
  const r = await planDir(dir, env);
  if (!r.ok) throw new Error(r.messages.join('\n'));
  return r.plan;
}

const moduleOf = (e: PlanEntry | undefined): string[] =>
  (e?.why ?? []).flatMap((w: Provenance) => (w.kind === 'module' ? [w.module] : w.kind === 'needed' && w.declaredBy?.kind === 'module' ? [w.declaredBy.module] : []));

if (!hasGcc) console.warn('skipped (module with a compiled program): gcc is not installed');

describe('local modules (osv.module.yaml)', () => {
  it('pulls in a chain of modules, orders them by requires, and names the module in every entry', async () => {
    const dir = project({
      'osv.yaml': ['name: app', 'cmd: [/bin/true]', 'modules: [./modules/web]', 'files:', '  - { src: ./index.html, dest: /srv/index.html }', ''].join('\n'),
      'index.html': '<h1>hi</h1>\n',
      'modules/web/osv.module.yaml': [
        'name: web',
        'requires: [certs, compress]',
        '# web pulls in its own dependencies; paths are relative to this file',
        'modules: [../certs, ../compress]',
        'env: { WEB_ROOT: /srv }',
        'files:',
        '  - { src: ./web.conf, dest: /etc/web/web.conf }',
        '',
      ].join('\n'),
      'modules/web/web.conf': 'listen 8080\n',
      'modules/certs/osv.module.yaml': ['name: certs', 'files:', '  - { src: ./ca.pem, dest: /etc/ssl/certs/ca.pem }', '  - { dest: /etc/ssl/private, dir: true }', ''].join('\n'),
      'modules/certs/ca.pem': '-----BEGIN CERTIFICATE-----\n',
      'modules/compress/osv.module.yaml': ['requires: [certs]', 'libraries: [libz.so.1]', ''].join('\n'),
    });
    const p = await mustPlan(dir);
    const g = new Map(p.entries.map((e) => [e.guest, e]));
    expect(moduleOf(g.get('/etc/web/web.conf'))).toEqual(['web']);
    expect(moduleOf(g.get('/etc/ssl/certs/ca.pem'))).toEqual(['certs']);
    expect(g.get('/etc/ssl/private')?.kind).toBe('dir');
    expect(moduleOf(g.get('/etc/ssl/private'))).toEqual(['certs']);
    // A module without a name is named after its directory; its library is resolved like the root's.
    expect(moduleOf(g.get('/usr/lib/libz.so.1'))).toEqual(['compress']);
    const why = g.get('/etc/web/web.conf')!.why[0]!;
    expect(why).toMatchObject({ kind: 'module', module: 'web' });
    expect(why.kind === 'module' && why.source?.file).toBe(join(dir, 'modules/web/osv.module.yaml'));
    // The root's own files are the root's.
    expect(g.get('/srv/index.html')!.why[0]).toMatchObject({ kind: 'config' });
    // A module's env reaches the program.
    expect(p.run.cmdline).toContain('--env=WEB_ROOT=/srv');

    // Requirements come first: certs before compress before web.
    const c = await loadConfig({ cwd: dir });
    expect(c.ok && c.value.modules.map((m) => m.name)).toEqual(['certs', 'compress', 'web']);
  });

  it.runIf(hasGcc)('plans a module\'s program with its own libraries', async () => {
    const dir = project({
      'osv.yaml': ['cmd: [/usr/bin/tool]', 'modules: [./tools]', ''].join('\n'),
      'tools/osv.module.yaml': ['name: tools', 'executables:', '  - { src: ./tool, dest: /usr/bin/tool }', ''].join('\n'),
      'tools/tool.c': '#include <zlib.h>\n#include <stdio.h>\nint main(void) { puts(zlibVersion()); return 0; }\n',
    });
    execFileSync('gcc', ['-o', join(dir, 'tools/tool'), join(dir, 'tools/tool.c'), '-lz']);
    const p = await mustPlan(dir);
    const g = new Map(p.entries.map((e) => [e.guest, e]));
    expect(moduleOf(g.get('/usr/bin/tool'))).toEqual(['tools']);
    const libz = g.get('/usr/lib/libz.so.1');
    expect(libz?.why[0]).toMatchObject({ kind: 'needed', by: 'tool' });
    expect(moduleOf(libz)).toEqual(['tools']);
    expect(p.run.cmdline).toMatch(/ \/usr\/bin\/tool !$/);
  });

  it('reports a requirement nobody pulled in, and a cycle, naming the modules', async () => {
    const missing = project({
      'osv.yaml': 'cmd: [/bin/true]\nmodules: [./m/a]\n',
      'm/a/osv.module.yaml': 'name: a\nrequires: [b]\n',
    });
    const r1 = await planDir(missing);
    expect(r1.ok).toBe(false);
    expect(!r1.ok && r1.messages.join('\n')).toContain('module "a" requires "b", which is not in the image');

    const cycle = project({
      'osv.yaml': 'cmd: [/bin/true]\nmodules: [./m/a]\n',
      'm/a/osv.module.yaml': 'name: a\nmodules: [../b]\n',
      'm/b/osv.module.yaml': 'name: b\nmodules: [../a]\n',
    });
    const r2 = await planDir(cycle);
    expect(r2.ok).toBe(false);
    expect(!r2.ok && r2.messages.join('\n')).toMatch(/module cycle: .*m\/a.*m\/b.*m\/a/);
  });
});

describe('OSv-tree modules (usr.manifest)', () => {
  it('reads the manifest against OSV_BASE and MODULE_DIR, with the module and line as provenance', async () => {
    const base = fs.mkdtempSync(join(root, 'osv-base-'));
    const mod = join(base, 'modules', 'greeting');
    fs.mkdirSync(join(mod, 'build', 'data'), { recursive: true });
    fs.writeFileSync(join(mod, 'build', 'greeting.txt'), 'hello\n');
    fs.writeFileSync(join(mod, 'build', 'data', 'a.txt'), 'a\n');
    fs.writeFileSync(join(base, 'LICENSE'), 'BSD\n');
    fs.writeFileSync(
      join(mod, 'usr.manifest'),
      ['[manifest]', '# a module of OSv\'s tree', '/etc/greeting.txt: ${MODULE_DIR}/build/greeting.txt', '/usr/share/greeting/**: ${MODULE_DIR}/build/data/**', '/usr/share/doc/LICENSE: ${OSV_BASE}/LICENSE', '/etc/motd: ->/etc/greeting.txt', ''].join('\n'),
    );
    const dir = project({ 'osv.yaml': ['cmd: [/bin/true]', 'modules:', '  - ${env:OSV_BASE}/modules/greeting', ''].join('\n') });
    const env = { ...process.env, OSV_BASE: base };
    const p = await mustPlan(dir, env);
    const g = new Map(p.entries.map((e) => [e.guest, e]));
    expect(g.get('/etc/greeting.txt')).toMatchObject({ kind: 'file', host: join(mod, 'build', 'greeting.txt') });
    expect(g.get('/usr/share/greeting/a.txt')).toMatchObject({ kind: 'file', host: join(mod, 'build', 'data', 'a.txt') });
    expect(g.get('/usr/share/doc/LICENSE')).toMatchObject({ kind: 'file', host: join(base, 'LICENSE') });
    expect(g.get('/etc/motd')).toMatchObject({ kind: 'symlink', target: '/etc/greeting.txt' });
    expect(g.get('/etc/greeting.txt')!.why[0]).toEqual({ kind: 'module', module: 'greeting', key: 'usr.manifest', source: { file: join(mod, 'usr.manifest'), line: 3, column: 1 } });

    // Without OSV_BASE the module path cannot be written: the error says which variable.
    const { OSV_BASE: _unset, ...noBase } = env;
    const r = await planDir(dir, noBase);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.messages.join('\n')).toContain('OSV_BASE');
  });

  const osvBase = process.env['OSV_BASE'];
  const builtModule = osvBase ? ['ca-certificates', 'certs', 'sysinfo'].find((m) => fs.existsSync(join(osvBase, 'modules', m, 'usr.manifest')) && fs.existsSync(join(osvBase, 'modules', m, 'build'))) : undefined;
  if (!builtModule) console.warn(`skipped: no built module of OSv's tree (set OSV_BASE to an OSv checkout and run \`make module\` in modules/certs or modules/ca-certificates)`);
  it.runIf(builtModule)('plans a module of the OSv tree named by OSV_BASE', async () => {
    const dir = project({ 'osv.yaml': `cmd: [/bin/true]\nmodules: ["\${env:OSV_BASE}/modules/${builtModule}"]\n` });
    const p = await mustPlan(dir);
    expect(p.entries.filter((e) => moduleOf(e).includes(builtModule!)).length).toBeGreaterThan(0);
  });
});
