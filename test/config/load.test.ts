// Loading valid configurations: discovery, extends and merge rules, interpolation, defaults,
// path resolution, named runs, modules, and positions that survive merging.

import { afterAll, describe, expect, it } from 'vitest';
import * as path from 'node:path';
import { checkRunName, loadConfig, type Config } from '../../src/config/index.js';
import { SEARCH_PLACES } from '../../src/config/discover.js';
import { templatesDir } from '../../src/config/paths.js';
import { nodeHostFs, type HostFs } from '../../src/hostfs.js';
import { project, removeProjects } from './helpers.js';

afterAll(removeProjects);

async function load(dir: string, opts: { env?: Record<string, string>; configFile?: string; fs?: HostFs } = {}): Promise<Config> {
  const r = await loadConfig({ cwd: dir, env: opts.env ?? {}, ...(opts.configFile ? { configFile: opts.configFile } : {}), ...(opts.fs ? { fs: opts.fs } : {}) });
  if (!r.ok) throw new Error(r.error.errors.map((e) => `${e.source?.line}:${e.source?.column} ${e.message}`).join('\n'));
  return r.value;
}

const MiB = 2 ** 20;

describe('discovery', () => {
  it.each(SEARCH_PLACES.filter((p) => p !== 'package.json'))('finds %s', async (name) => {
    const text = name.endsWith('.json') ? '{"cmd": ["/found"]}' : 'cmd: [/found]\n';
    const dir = project({ [name]: text });
    const c = await load(dir);
    expect(c.file).toBe(path.join(dir, name));
    expect(c.defaultRun.cmd).toEqual(['/found']);
  });

  it('reads package.json#osv, with positions inside package.json', async () => {
    const dir = project({ 'package.json': '{\n  "name": "x",\n  "osv": {\n    "cmd": ["/pkg"],\n    "run": {"cpus": 3}\n  }\n}\n' });
    const c = await load(dir);
    expect(c.defaultRun.cmd).toEqual(['/pkg']);
    expect(c.sources.get('run/cpus')).toEqual({ file: path.join(dir, 'package.json'), line: 5, column: 21 });
  });

  it('skips a package.json without an osv key, and reports one that is not valid JSON once, at its position', async () => {
    const none = await loadConfig({ cwd: project({ 'package.json': '{"name": "x"}\n' }), env: {} });
    expect(!none.ok && none.error.errors[0]!.code).toBe('config.not-found');
    const dir = project({ 'package.json': '{\n  "name": "x",\n  "osv": {"cmd": ["/pkg"]\n' });
    const r = await loadConfig({ cwd: dir, env: {} });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.errors).toHaveLength(1);
    const e = r.error.errors[0]!;
    expect(e.source?.file).toBe(path.join(dir, 'package.json'));
    // One code frame (cosmiconfig's error carried it twice), and no "cannot search" wrapper.
    expect(e.message).not.toContain('cannot search');
    expect(e.details?.filter((l) => l.includes('|')).length).toBe(2);
  });

  it('prefers osv.yaml over the other names, and -c over discovery', async () => {
    const dir = project({ 'osv.yaml': 'cmd: [/yaml]\n', '.osvrc': 'cmd: [/rc]\n', 'other/x.yaml': 'cmd: [/other]\n' });
    expect((await load(dir)).defaultRun.cmd).toEqual(['/yaml']);
    expect((await load(dir, { configFile: 'other/x.yaml' })).defaultRun.cmd).toEqual(['/other']);
  });

  it('reports a directory without configuration', async () => {
    const dir = project({ 'README': 'x' });
    const r = await loadConfig({ cwd: dir, env: {} });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.errors[0]!.message).toBe(`no configuration file in ${dir}`);
  });

  it('reads files through the given HostFs', async () => {
    const file = '/virtual/project/osv.yaml';
    const fs: HostFs = {
      ...nodeHostFs,
      stat: (p) => (p === file ? { kind: 'file', size: 1, mtimeMs: 0, ctimeMs: 0, ino: 1, dev: 1, mode: 0o644 } : nodeHostFs.stat(p)),
      readFile: (p) => (p === file ? Buffer.from('cmd: [/virtual]\nfiles: [{src: ./a, dest: /a}]\n') : nodeHostFs.readFile(p)),
    };
    const c = await load('/virtual/project', { configFile: 'osv.yaml', fs });
    expect(c.defaultRun.cmd).toEqual(['/virtual']);
    expect(c.files[0]).toMatchObject({ kind: 'copy', src: '/virtual/project/a', dest: '/a' });
  });
});

describe('defaults and normalization', () => {
  it('fills every default', async () => {
    const dir = project({ 'my app!/osv.yaml': 'cmd: [/hello]\n' });
    const c = await load(path.join(dir, 'my app!'));
    expect(c.name).toBe('my-app-');
    expect({ arch: c.arch, sysroot: c.sysroot, filesystem: c.filesystem, image: c.image, libraryPath: c.libraryPath }).toEqual({
      arch: 'x86_64',
      sysroot: '/',
      filesystem: 'rofs',
      image: { output: 'disk', format: 'raw', mounts: { '/dev': true, '/proc': true, '/sys': true, '/tmp': true } },
      libraryPath: [],
    });
    expect(c.kernel).toEqual({ hiddenSymbols: false });
    expect(c.defaultRun.run).toEqual({ hypervisor: 'qemu', memory: 512 * MiB, cpus: 2, ports: [], accel: 'auto', network: { kind: 'user' }, volumes: [], kernelArgs: [] });
    expect(c.runs).toEqual({});
    expect(c.loadedFiles).toEqual([path.join(dir, 'my app!', 'osv.yaml')]);
  });

  it('parses sizes, ports, durations, networks and modes', async () => {
    const dir = project({
      'osv.yaml': [
        'cmd: /bin/echo "hello world" it\\\'s',
        'run:',
        '  memory: 1.5G',
        '  ports: ["8080:80", "5353:53/udp", "0.0.0.0:8443:443", 9000]',
        '  timeout: 250ms',
        'runs:',
        '  tap: {run: {network: tap:tap0, ports: []}}',
        'image: {size: 64M}',
        'files:',
        '  - {dest: /a, dir: true, mode: 0755}',
        '  - {dest: /b, dir: true, mode: "0644"}',
        '  - {dest: /c, dir: true, mode: 0o600}',
        '  - {dest: /d, dir: true, mode: 644}',
      ].join('\n'),
    });
    const c = await load(dir);
    expect(c.defaultRun.cmd).toEqual(['/bin/echo', 'hello world', "it's"]);
    const r = c.defaultRun.run;
    expect(r.memory).toBe(1536 * MiB);
    expect(r.ports.map(({ source: _s, ...p }) => p)).toEqual([
      { host: 8080, guest: 80, protocol: 'tcp' },
      { host: 5353, guest: 53, protocol: 'udp' },
      { host: 8443, guest: 443, protocol: 'tcp', hostAddress: '0.0.0.0' },
      { host: 9000, guest: 9000, protocol: 'tcp' },
    ]);
    expect(r.timeout).toBe(0.25);
    expect(r.network).toEqual({ kind: 'user' });
    expect(c.runs['tap']!.run.network).toEqual({ kind: 'tap', name: 'tap0' });
    expect(c.image.size).toBe(64 * MiB);
    expect(c.files.map((f) => (f.kind === 'dir' ? f.mode : undefined))).toEqual([0o755, 0o644, 0o600, 0o644]);
  });

  it('resolves host paths against the declaring file, joins absolute ones to the sysroot, keeps names', async () => {
    const dir = project({
      'osv.yaml': [
        'extends: [conf/base.yaml]',
        'sysroot: ./rootfs',
        'cmd: [a]',
        'executables: [busybox, ./bin/tool, /usr/bin/env]',
        'libraries: [libz.so.1, /usr/lib/libfoo.so.*]',
        'kernel: {path: ~/osv/build/last}',
        'run: {volumes: [./disk.qcow2, {path: data.img, readonly: true}], qemu: ./qemu/bin/qemu-system-x86_64}',
      ].join('\n'),
      'conf/base.yaml': 'files:\n  - {src: ./static, dest: /static/}\n  - {src: /etc/hosts, dest: /etc/hosts}\n',
    });
    const c = await load(dir, { env: { HOME: '/home/u' } });
    expect(c.sysroot).toBe(path.join(dir, 'rootfs'));
    expect(c.executables.map((e) => e.src)).toEqual(['busybox', path.join(dir, 'bin/tool'), path.join(dir, 'rootfs/usr/bin/env')]);
    expect(c.libraries.map((l) => l.name)).toEqual(['libz.so.1', path.join(dir, 'rootfs/usr/lib/libfoo.so.*')]);
    expect(c.files.map((f) => (f.kind === 'copy' ? [f.src, f.dest, f.written] : []))).toEqual([
      [path.join(dir, 'conf/static'), '/static', './static'],
      [path.join(dir, 'rootfs/etc/hosts'), '/etc/hosts', '/etc/hosts'],
    ]);
    expect(c.kernel.path).toBe('/home/u/osv/build/last');
    expect(c.defaultRun.run.volumes.map(({ source: _s, ...v }) => v)).toEqual([
      { kind: 'disk', path: path.join(dir, 'disk.qcow2'), format: 'qcow2', readonly: false },
      { kind: 'disk', path: path.join(dir, 'data.img'), format: 'raw', readonly: true },
    ]);
    expect(c.defaultRun.run.qemu).toBe(path.join(dir, 'qemu/bin/qemu-system-x86_64'));
  });

  it('named volumes: defaults filled in, the seed relative to its file, dest normalized; per run, beside disk images', async () => {
    const dir = project({
      'osv.yaml': [
        'extends: [conf/base.yaml]',
        'cmd: [a]',
        'runs:',
        '  other:',
        '    run:',
        '      volumes: []',
        '  fresh:',
        '    run:',
        '      volumes: [{name: scratch, dest: /scratch/, size: 64M, readonly: true}]',
      ].join('\n'),
      'conf/base.yaml': 'run:\n  volumes:\n    - ./disk.img\nruns:\n  db:\n    run:\n      volumes: [{name: data, dest: /var//lib/app, from: ./seed}]\n',
    });
    const c = await load(dir);
    const plain = (v: Config['defaultRun']['run']['volumes']): unknown => v.map(({ source: _s, ...x }) => x);
    const disk = { kind: 'disk', path: path.join(dir, 'conf/disk.img'), format: 'raw', readonly: false };
    expect(plain(c.defaultRun.run.volumes)).toEqual([disk]);
    expect(plain(c.runs['db']!.run.volumes)).toEqual([disk, { kind: 'named', name: 'data', dest: '/var/lib/app', size: 1024 * MiB, from: path.join(dir, 'conf/seed'), readonly: false }]);
    expect(c.runs['other']!.run.volumes).toEqual([]);
    expect(plain(c.runs['fresh']!.run.volumes)).toEqual([disk, { kind: 'named', name: 'scratch', dest: '/scratch', size: 64 * MiB, readonly: true }]);
  });

  it('read-only volumes are not held to the one-ext-file-system limit: beside a writable one, and over an ext root', async () => {
    const rofs = await load(project({ 'osv.yaml': 'cmd: [a]\nrun:\n  volumes:\n    - {name: data, dest: /data}\n    - {name: conf, dest: /etc/app, readonly: true}\n    - {name: assets, dest: /srv, readonly: true}\n' }));
    expect(rofs.defaultRun.run.volumes.map((v) => (v.kind === 'named' ? [v.name, v.readonly] : []))).toEqual([['data', false], ['conf', true], ['assets', true]]);
    const ext = await load(project({ 'osv.yaml': 'cmd: [a]\nfilesystem: ext\nrun:\n  volumes: [{name: conf, dest: /etc/app, readonly: true}]\n' }));
    expect(ext.defaultRun.run.volumes).toHaveLength(1);
  });
});

describe('image.mounts and {dest, content} files', () => {
  it('reads mounts over the defaults for the filesystem, and content with its variables expanded', async () => {
    const dir = project({
      'osv.yaml': ['filesystem: ext', 'vars: {port: 8080}', 'image:', '  mounts: {/proc: false, /tmp: true}', 'files:', '  - dest: /etc/app.conf', '    content: |', '      port = ${port}', '    mode: "0600"', 'cmd: [/hello]', ''].join('\n'),
    });
    const c = await load(dir);
    expect(c.image.mounts).toEqual({ '/dev': true, '/proc': false, '/sys': true, '/tmp': true });
    expect(c.files).toMatchObject([{ kind: 'content', dest: '/etc/app.conf', content: 'port = 8080\n', mode: 0o600 }]);
    const ext = await load(project({ 'osv.yaml': 'filesystem: ext\ncmd: [/hello]\n' }));
    expect(ext.image.mounts['/tmp']).toBe(false);
  });

  it('refuses a mount point osv does not know, and a content file that also names src', async () => {
    const dir = project({ 'osv.yaml': ['image: {mounts: {/home: true}}', 'files: [{dest: /a, content: x, src: ./a}]', 'cmd: [/hello]', ''].join('\n') });
    const r = await loadConfig({ cwd: dir, env: {} });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.errors.map((e) => `${e.source?.line}:${e.source?.column} ${e.message}`)).toEqual(['1:18 unknown key "/home" in image.mounts', '2:32 unknown key "src" in files[0]']);
  });
});

describe('library destinations', () => {
  it('lets several libraries share a directory dest; only a .so file path is claimed', async () => {
    const dir = project({ 'osv.yaml': 'cmd: [a]\nlibraries:\n  - {name: libssl.so.3, dest: /opt/lib}\n  - {name: libz.so.1, dest: /opt/lib}\n  - {name: "/usr/lib/*.so", dest: /opt/lib}\n' });
    const c = await load(dir);
    expect(c.libraries.map((l) => l.dest)).toEqual(['/opt/lib', '/opt/lib', '/opt/lib']);
  });
});

describe('extends', () => {
  it('merges maps, concatenates lists, overrides scalars, replaces cmd; [] clears', async () => {
    const dir = project({
      'base.yaml': 'name: base\ncmd: [/base, --x]\nenv: {A: a, B: b}\nlibraries: [liba.so.1]\nrun: {memory: 1G, cpus: 4, ports: ["80:80"], kernelArgs: [--verbose]}\n',
      'osv.yaml': 'extends: base.yaml\nname: top\ncmd: [/top]\nenv: {B: B2, C: c}\nlibraries: [libb.so.1]\nrun: {cpus: 1, ports: ["81:81"], kernelArgs: []}\n',
    });
    const c = await load(dir);
    expect(c.name).toBe('top');
    expect(c.defaultRun.cmd).toEqual(['/top']);
    expect(c.defaultRun.env).toEqual({ A: 'a', B: 'B2', C: 'c' });
    expect(c.libraries.map((l) => l.name)).toEqual(['liba.so.1', 'libb.so.1']);
    expect(c.defaultRun.run.memory).toBe(1024 * MiB);
    expect(c.defaultRun.run.cpus).toBe(1);
    expect(c.defaultRun.run.ports.map((p) => p.host)).toEqual([80, 81]);
    expect(c.defaultRun.run.kernelArgs).toEqual([]);
    expect(c.loadedFiles).toEqual([path.join(dir, 'base.yaml'), path.join(dir, 'osv.yaml')]);
  });

  it('keeps each value\'s own file and position', async () => {
    const dir = project({ 'osv.yaml': 'extends: [conf/base.yaml]\ncmd: [a]\n', 'conf/base.yaml': '# base\nrun:\n  memory: 2G\n' });
    const c = await load(dir);
    expect(c.sources.get('run/memory')).toEqual({ file: path.join(dir, 'conf/base.yaml'), line: 3, column: 11 });
    expect(c.sources.get('cmd/0')).toEqual({ file: path.join(dir, 'osv.yaml'), line: 2, column: 7 });
  });

  it('merges a file reached twice (a diamond) once, at its first place', async () => {
    const dir = project({
      'common.yaml': 'libraries: [libcommon.so]\n',
      'a.yaml': 'extends: [common.yaml]\nlibraries: [liba.so]\n',
      'b.yaml': 'extends: [common.yaml]\nlibraries: [libb.so]\n',
      'osv.yaml': 'extends: [a.yaml, b.yaml]\ncmd: [x]\n',
    });
    const c = await load(dir);
    expect(c.libraries.map((l) => l.name)).toEqual(['libcommon.so', 'liba.so', 'libb.so']);
    expect(c.loadedFiles.map((f) => path.basename(f))).toEqual(['common.yaml', 'a.yaml', 'b.yaml', 'osv.yaml']);
  });

  it('merges template:native, whose relative paths would be relative to the project', async () => {
    const dir = project({ 'osv.yaml': 'extends: [template:native]\ncmd: [x]\nrun: {kernelArgs: [--verbose]}\n' });
    const c = await load(dir);
    expect(c.libraries).toEqual([{ name: 'libgcc_s.so.1', written: 'libgcc_s.so.1', optional: true, source: { file: path.join(templatesDir, 'native.yaml'), line: 9, column: 5 } }]);
    expect(c.defaultRun.run.kernelArgs).toEqual(['--power-off-on-abort', '--verbose']);
  });
});

describe('interpolation', () => {
  it('expands vars, env, env defaults and $$; unquoted values take their type', async () => {
    const dir = project({
      'base.yaml': 'cwd: ${APP}\n',
      'osv.yaml': [
        'extends: [base.yaml]',
        'vars:',
        '  APP: /srv/${NAME}',
        '  NAME: web',
        '  CPUS: 3',
        'cmd: ["${APP}/run", "${env:MODE}", "${env:MISSING:-fallback}", "${env:EMPTY:-empty}", "cost: $$5", "$${APP}"]',
        'run:',
        '  cpus: ${CPUS}',
        'name: "${NAME}"',
        'env: {QUOTED: "${CPUS}"}',
      ].join('\n'),
    });
    const c = await load(dir, { env: { MODE: 'prod', EMPTY: '' } });
    expect(c.defaultRun.cmd).toEqual(['/srv/web/run', 'prod', 'fallback', 'empty', 'cost: $5', '${APP}']);
    expect(c.defaultRun.cwd).toBe('/srv/web');
    expect(c.defaultRun.run.cpus).toBe(3);
    expect(c.name).toBe('web');
    expect(c.defaultRun.env).toEqual({ QUOTED: '3' });
    expect(c.vars).toEqual({ APP: '/srv/web', NAME: 'web', CPUS: '3' });
  });
});

describe('environment variables', () => {
  // A valid variable name that is also JavaScript's prototype key: `env[k] = v` on a plain
  // object set the prototype, and the variable was missing from the boot command line.
  it('__proto__ is a variable like any other, at the top and in a named run', async () => {
    const dir = project({ 'osv.yaml': ['cmd: [/app]', 'env: {__proto__: x, A: b}', 'runs:', '  t:', '    env: {__proto__: y}'].join('\n') });
    const c = await load(dir);
    expect(Object.entries(c.defaultRun.env)).toEqual([['__proto__', 'x'], ['A', 'b']]);
    expect(Object.entries(c.runs['t']!.env)).toEqual([['__proto__', 'y'], ['A', 'b']]);
  });
});

describe('named runs', () => {
  it('merges each run over the top-level cmd, env, cwd and run', async () => {
    const dir = project({
      'osv.yaml': [
        'cmd: [/app, --serve]',
        'env: {LOG: info, PORT: 80}',
        'cwd: /srv',
        'run: {memory: 1G, ports: ["8080:80"], kernelArgs: [--verbose]}',
        'runs:',
        '  test:',
        '    cmd: [/app, --test]',
        '    env: {LOG: debug}',
        '    run: {memory: 256M, expect: passed, ports: ["9090:90"]}',
        '  quiet:',
        '    env: {LOG: error}',
      ].join('\n'),
    });
    const c = await load(dir);
    const test = c.runs['test']!;
    expect(test.cmd).toEqual(['/app', '--test']);
    expect(test.env).toEqual({ LOG: 'debug', PORT: '80' });
    expect(test.cwd).toBe('/srv');
    expect(test.run.memory).toBe(256 * MiB);
    expect(test.run.expect).toBe('passed');
    expect(test.run.ports.map((p) => p.host)).toEqual([8080, 9090]);
    expect(test.run.kernelArgs).toEqual(['--verbose']);
    expect(c.runs['quiet']!.cmd).toEqual(['/app', '--serve']);
    expect(c.defaultRun.env).toEqual({ LOG: 'info', PORT: '80' });
    expect(checkRunName(c, 'test')).toMatchObject({ ok: true, value: { name: 'test' } });
    expect(checkRunName(c, undefined)).toMatchObject({ ok: true, value: { name: 'default', run: c.defaultRun } });
    const bad = checkRunName(c, 'tset');
    expect(bad.ok).toBe(false);
    if (!bad.ok) {
      expect(bad.error.message).toBe('unknown run "tset" (did you mean "test"?)');
      expect(bad.error.hint).toBe(`runs in ${c.file}: default, test, quiet`);
    }
  });

  it('accepts a cmd that only named runs provide', async () => {
    const dir = project({ 'osv.yaml': 'runs:\n  a: {cmd: [/a]}\n  b: {cmd: /b --x}\n' });
    const c = await load(dir);
    expect(c.defaultRun.cmd).toBeUndefined();
    expect(c.runs['b']!.cmd).toEqual(['/b', '--x']);
  });
});

describe('modules', () => {
  it('loads osv-up and OSv modules, dependencies first, each once', async () => {
    const dir = project({
      'osv.yaml': 'cmd: [a]\nmodules: [./mods/web, {path: mods/osvmod}, ./mods/web/]\n',
      'mods/web/osv.module.yaml': 'name: web\nrequires: [tls, osvmod]\nvars: {ROOT: /srv/www}\nmodules: [../tls]\nfiles: [{src: ./html, dest: "${ROOT}"}]\nenv: {WEB: "1"}\n',
      'mods/tls/osv.module.yaml': 'libraries: [libssl.so.3]\nexecutables: [{src: ./bin/certs, dest: /certs}]\n',
      'mods/osvmod/usr.manifest': '/x: ${MODULE_DIR}/x\n',
    });
    const c = await load(dir);
    expect(c.modules.map((m) => [m.kind, m.name])).toEqual([
      ['osv-up', 'tls'],
      ['osv-manifest', 'osvmod'],
      ['osv-up', 'web'],
    ]);
    const [tls, osvmod, web] = c.modules;
    if (tls?.kind !== 'osv-up' || osvmod?.kind !== 'osv-manifest' || web?.kind !== 'osv-up') throw new Error('kinds');
    expect(tls.libraries.map((l) => l.name)).toEqual(['libssl.so.3']);
    expect(tls.executables).toMatchObject([{ src: path.join(dir, 'mods/tls/bin/certs'), dest: '/certs' }]);
    expect(osvmod.manifest).toBe(path.join(dir, 'mods/osvmod/usr.manifest'));
    expect(web.files).toMatchObject([{ kind: 'copy', src: path.join(dir, 'mods/web/html'), dest: '/srv/www' }]);
    expect(web.env).toEqual({ WEB: '1' });
    expect(web.requires).toEqual(['tls', 'osvmod']);
    expect(web.source).toEqual({ file: path.join(dir, 'mods/web/osv.module.yaml'), line: 1, column: 1 });
  });
});
