// Modules and the skeleton: an osv-up module planned with module provenance, an OSv-style
// module read through the manifest reader, and the generated root file system skeleton.
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ModuleSpec } from '../../src/config/types.js';
import { plan } from '../../src/plan/index.js';
import { fstabText } from '../../src/plan/skeleton.js';
import type { Plan, PlanEntry } from '../../src/plan/types.js';
import { copy, exe, makeConfig, src, tempDir, writeFiles, type ConfigOver } from './helpers.js';

const env = { PATH: '/usr/bin:/bin' };
const planOk = (over: ConfigOver, options: Parameters<typeof plan>[1] = {}): Plan => {
  const r = plan(makeConfig(over), { env, ...options });
  if (!r.ok) throw r.error;
  return r.value;
};
const entry = (p: Plan, guest: string): PlanEntry | undefined => p.entries.find((e) => e.guest === guest);

let t: ReturnType<typeof tempDir>;
let d: string;
beforeAll(() => {
  t = tempDir('osv-modules-');
  d = t.path;
  writeFiles(d, {
    'web/osv.module.yaml': 'name: web\n',
    'web/static/index.html': '<h1>hi</h1>',
    'osvmod/usr.manifest': ['[manifest]', '# an OSv module', '/usr/share/mod/**: ${MODULE_DIR}/share/**', '/etc/mod.conf: conf/mod.conf', '/usr/lib/libgcc_copy.so.1: %(libgcc_s_dir)s/libgcc_s.so.1', '/usr/bin/tool: ->/usr/share/mod/tool.sh', ''].join('\n'),
    'osvmod/share/tool.sh': '#!/bin/sh\n',
    'osvmod/share/sub/data.txt': 'data',
    'osvmod/conf/mod.conf': 'x=1',
    'badmod/usr.manifest': '/a:/b\n/c: ${OSV_BASE}/x\n',
  });
  mkdirSync(join(d, 'osvmod', 'share', 'emptydir'));
  symlinkSync('tool.sh', join(d, 'osvmod', 'share', 'tool-link'));
});
afterAll(() => t.cleanup());

const osvUp = (over: Partial<Extract<ModuleSpec, { kind: 'osv-up' }>> = {}): ModuleSpec => ({
  kind: 'osv-up',
  name: 'web',
  dir: join(d, 'web'),
  executables: [],
  libraries: [],
  files: [copy(join(d, 'web', 'static'), '/srv/www')],
  env: { PORT: '8080', MODE: 'module' },
  requires: [],
  source: src(20, 5),
  ...over,
});
const osvManifest = (name: string, dir: string): ModuleSpec => ({ kind: 'osv-manifest', name, dir, manifest: join(dir, 'usr.manifest'), requires: [], source: src(21, 5) });

describe('modules', () => {
  it("an osv-up module's files carry the module as provenance; its env comes before the run's", () => {
    const p = planOk({ cmd: ['/usr/bin/ls'], env: { MODE: 'run' }, modules: [osvUp({ executables: [exe('/usr/bin/ls', '/bin/ls')] })] });
    expect(entry(p, '/srv/www/index.html')?.why).toEqual([{ kind: 'module', module: 'web', key: 'files[0]', source: src(9, 3), detail: `in tree ${d}/web/static` }]);
    expect(entry(p, '/bin/ls')?.why[0]).toMatchObject({ kind: 'module', module: 'web', key: 'executables[0]' });
    expect(p.run.cmdline).toBe('--rootfs=rofs --verbose --env=PORT=8080 --env=MODE=run /usr/bin/ls !');
  });

  it('an OSv-style module is read with ${MODULE_DIR}, %(libgcc_s_dir)s, ** and ->', () => {
    const p = planOk({ cmd: ['/usr/bin/ls'], modules: [osvManifest('osvmod', join(d, 'osvmod'))] });
    const rows = p.entries
      .filter((e) => e.why.some((w) => w.kind === 'module'))
      .map((e) => [e.guest, e.kind, e.kind === 'file' ? e.host : e.kind === 'symlink' ? e.target : '', e.why[0]?.kind === 'module' ? e.why[0].source?.line : 0]);
    const libgcc = entry(p, '/usr/lib/libgcc_s.so.1');
    expect(rows).toEqual([
      ['/etc/mod.conf', 'file', `${d}/osvmod/conf/mod.conf`, 4],
      ['/usr/bin/tool', 'symlink', '/usr/share/mod/tool.sh', 6],
      ...(libgcc?.kind === 'file' ? [['/usr/lib/libgcc_copy.so.1', 'file', libgcc.host, 5]] : []),
      // `**` copies files only (no empty directories), links dereferenced, as OSv's scripts do.
      ['/usr/share/mod/sub/data.txt', 'file', `${d}/osvmod/share/sub/data.txt`, 3],
      ['/usr/share/mod/tool-link', 'file', `${d}/osvmod/share/tool.sh`, 3],
      ['/usr/share/mod/tool.sh', 'file', `${d}/osvmod/share/tool.sh`, 3],
    ]);
  });

  it("an OSv module's manifest errors are reported with their lines", () => {
    const r = plan(makeConfig({ cmd: ['/usr/bin/ls'], modules: [osvManifest('badmod', join(d, 'badmod'))] }), { env });
    if (r.ok) throw new Error('expected errors');
    expect(r.error.errors.map((e) => [e.message, e.source?.line])).toEqual([
      [`${d}/badmod/usr.manifest:1: expected "GUEST: HOST" (a colon followed by a space), got "/a:/b"`, 1],
      [`undefined variable \${OSV_BASE} in ${d}/badmod/usr.manifest:2`, 2],
    ]);
    // OSV_BASE from the environment (or vars) makes the second line readable.
    const r2 = plan(makeConfig({ cmd: ['/usr/bin/ls'], modules: [osvManifest('badmod', join(d, 'badmod'))] }), { env: { ...env, OSV_BASE: d } });
    if (r2.ok) throw new Error('expected errors');
    expect(r2.error.errors.map((e) => e.code)).toEqual(['manifest.syntax', 'manifest.not-found']);
  });

  it('a module without its manifest says how OSv modules make one', () => {
    const r = plan(makeConfig({ cmd: ['/usr/bin/ls'], modules: [osvManifest('nomod', join(d, 'nomod'))] }), { env });
    if (r.ok) throw new Error('expected an error');
    expect(r.error.errors[0]?.message).toMatch(new RegExp(`^module nomod: cannot read ${d}/nomod/usr\\.manifest: ENOENT`));
    expect(r.error.errors[0]?.hint).toBe("an OSv module needs a usr.manifest (run the module's `make module` first if it generates one)");
  });

  it('a module and the configuration putting different files at one path conflict, naming both', () => {
    const r = plan(makeConfig({ cmd: ['/usr/bin/ls'], files: [copy(join(d, 'osvmod', 'conf', 'mod.conf'), '/srv/www/index.html')], modules: [osvUp()] }), { env });
    if (r.ok) throw new Error('expected an error');
    expect(r.error.errors[0]?.details).toEqual([
      `${d}/osvmod/conf/mod.conf: files[0] (/project/osv.yaml:9:3)`,
      `${d}/web/static/index.html: module web files[0], in tree ${d}/web/static (/project/osv.yaml:9:3)`,
    ]);
  });
});

describe('skeleton', () => {
  it('rofs: fstab mounts the rofs root, devfs, procfs, sysfs and a ramfs /tmp; /data is a mount point', () => {
    const p = planOk({ cmd: ['/usr/bin/ls'] });
    const fstab = entry(p, '/etc/fstab');
    expect(fstab?.kind === 'file' && Buffer.from(fstab.content ?? []).toString()).toBe(
      '/dev/vblk0.1 /          rofs      defaults 0 0\n' +
        'none         /dev       devfs     defaults 0 0\n' +
        'none         /proc      procfs    defaults 0 0\n' +
        'none         /sys       sysfs     defaults 0 0\n' +
        'none         /tmp       ramfs     defaults 0 0\n',
    );
    expect(['/data', '/dev', '/proc', '/sys', '/tmp'].map((g) => entry(p, g)?.kind)).toEqual(['dir', 'dir', 'dir', 'dir', 'dir']);
    expect(entry(p, '/etc/mnttab')).toMatchObject({ kind: 'symlink', target: '/proc/mounts' });
    const hosts = entry(p, '/etc/hosts');
    expect(hosts?.kind === 'file' && Buffer.from(hosts.content ?? []).toString()).toBe('127.0.0.1 localhost osv.local\n');
  });

  it('ext: fstab mounts an ext root; no /data; the boot line says --rootfs=ext', () => {
    const p = planOk({ cmd: ['/usr/bin/ls'], filesystem: 'ext' });
    expect(fstabText('ext').split('\n')[0]).toBe('/dev/vblk0.1 /          ext       defaults 0 0');
    expect(entry(p, '/data')).toBeUndefined();
    expect(p.run.cmdline).toBe('--rootfs=ext --verbose /usr/bin/ls !');
  });

  it('image.mounts leaves a built-in file system out of fstab; without procfs there is no /etc/mnttab link', () => {
    const p = planOk({ cmd: ['/usr/bin/ls'], image: { output: 'disk', format: 'raw', mounts: { '/dev': true, '/proc': false, '/sys': true, '/tmp': true } } });
    const fstab = entry(p, '/etc/fstab');
    expect(fstab?.kind === 'file' && Buffer.from(fstab.content ?? []).toString()).toBe(
      '/dev/vblk0.1 /          rofs      defaults 0 0\n' +
        'none         /dev       devfs     defaults 0 0\n' +
        'none         /sys       sysfs     defaults 0 0\n' +
        'none         /tmp       ramfs     defaults 0 0\n',
    );
    expect(entry(p, '/proc')?.kind).toBe('dir');
    expect(entry(p, '/etc/mnttab')).toBeUndefined();
  });

  it('ext: no ramfs on /tmp unless image.mounts asks for one', () => {
    expect(fstabText('ext')).not.toContain('/tmp');
    expect(fstabText('ext', { '/dev': true, '/proc': true, '/sys': true, '/tmp': true })).toMatch(/^none +\/tmp +ramfs +defaults 0 0$/m);
  });

  it('a {dest, content} file is planned with its bytes, its mode and its provenance', () => {
    const p = planOk({ cmd: ['/usr/bin/ls'], files: [{ kind: 'content', dest: '/etc/app.conf', content: 'port = 8080\nname = é\n', mode: 0o600, source: src(12, 5) }] });
    const e = entry(p, '/etc/app.conf');
    expect(e).toMatchObject({ kind: 'file', mode: 0o600, size: Buffer.byteLength('port = 8080\nname = é\n'), why: [{ kind: 'config', key: 'files[0]' }] });
    expect(e?.kind === 'file' && Buffer.from(e.content ?? []).toString()).toBe('port = 8080\nname = é\n');
    expect(e?.kind === 'file' && e.host).toBeUndefined();
  });

  it('a declared file replaces a skeleton file; a declared directory merges with a mount point', () => {
    writeFileSync(join(d, 'hosts'), '10.0.0.1 db\n');
    const p = planOk({ cmd: ['/usr/bin/ls'], files: [copy(join(d, 'hosts'), '/etc/hosts'), { kind: 'dir', dest: '/tmp', mode: 0o1777, source: src(30, 3) }] });
    expect(entry(p, '/etc/hosts')).toMatchObject({ kind: 'file', host: join(d, 'hosts'), why: [{ kind: 'config', key: 'files[0]' }] });
    expect(entry(p, '/tmp')).toMatchObject({ kind: 'dir', mode: 0o1777 });
    expect(entry(p, '/tmp')?.why.map((w) => w.kind)).toEqual(['config', 'skeleton']);
  });
});
