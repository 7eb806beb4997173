// `osv init -- PROGRAM ARGS` recognises the runtime of real programs of this machine (Debian's
// python3, nodejs, openjdk-17, a gcc-built C program), through symlinks, venvs and a pyenv shim
// built here, writes the matching template with the arguments mapped into it, and the file
// plans: the template chosen, its one-line reason, and the resulting `osv plan`.

import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { initCommand, type Io } from '../../src/config/cli.js';
import { loadConfig } from '../../src/config/index.js';
import { nodeHostFs } from '../../src/hostfs.js';
import { plan } from '../../src/plan/index.js';
import type { Plan } from '../../src/plan/types.js';
import { tempTrees } from '../plan/helpers.js';
import { debianPython, hasGcc } from '../helpers/tools.js';

const temp = tempTrees('osv-init-');
afterAll(temp.cleanup);
const project = temp.make;

/** A machine without JAVA_HOME, NODE_PATH or a pyenv selection: what a fresh Debian has. */
const ENV = { PATH: '/usr/local/bin:/usr/bin:/bin', HOME: tmpdir() };

async function init(dir: string, argv: string[], opts: { template?: string; env?: Record<string, string | undefined> } = {}): Promise<{ out: string; yaml: Record<string, unknown>; text: string }> {
  const lines: string[] = [];
  const io: Io = { cwd: dir, out: (s) => void lines.push(s) };
  await initCommand(argv, { force: true, ...(opts.template ? { template: opts.template } : {}) }, io, { env: opts.env ?? ENV, fs: nodeHostFs });
  const text = fs.readFileSync(join(dir, 'osv.yaml'), 'utf8');
  return { out: lines.join('\n'), yaml: parseDocument(text).toJS() as Record<string, unknown>, text };
}

async function planOf(dir: string, env: Record<string, string> = ENV): Promise<Plan> {
  const c = await loadConfig({ cwd: dir, env });
  if (!c.ok) throw c.error;
  const p = plan(c.value, { env });
  if (!p.ok) throw p.error;
  return p.value;
}

const guests = (p: Plan): Set<string> => new Set(p.entries.map((e) => e.guest));
const py = debianPython();
if (!py) console.warn('skipped: osv init on python3: no Debian python3 with its standard library (apt-get install python3)');
const node = fs.existsSync('/usr/bin/node') ? fs.realpathSync('/usr/bin/node') : undefined;
if (!node) console.warn('skipped: osv init on node: /usr/bin/node is not installed (apt-get install nodejs)');
const javac = spawnSync('javac', ['-version'], { env: ENV }).status === 0 && spawnSync('jar', ['--version'], { env: ENV }).status === 0;
if (!javac) console.warn('skipped: osv init on java: a JDK (javac, jar) is needed to build the test jar (apt-get install openjdk-17-jdk-headless)');

describe.runIf(py)('osv init on python3', () => {
  it('plain /usr/bin/python3 -c: template:python with the interpreter\'s version and prefix; the plan has its standard library', async () => {
    const dir = project();
    const r = await init(dir, ['/usr/bin/python3', '-c', 'import json; print(6*7)']);
    expect(r.out.split('\n')[0]).toBe(`template:python: /usr/bin/python3 is Python ${py!.version} (${py!.bin})`);
    expect(r.yaml).toMatchObject({ extends: ['template:python'], vars: { pythonPrefix: '/usr', pythonVersion: py!.version }, cmd: ['/usr/bin/python3', '-c', 'import json; print(6*7)'] });
    const p = await planOf(dir);
    expect(p.entries.find((e) => e.guest === '/usr/bin/python3')).toMatchObject({ kind: 'file', host: py!.bin });
    expect(guests(p)).toContain(`${py!.lib}/encodings/__init__.py`);
    expect(guests(p)).toContain(`${py!.lib}/json/__init__.py`);
    expect(p.warnings.filter((w) => w.includes('encodings'))).toEqual([]);
    expect(p.run.cmdline).toContain(`--env=PYTHONHOME=/usr`);
  });

  it('a versioned name on PATH (python3.X) and a symlink to the interpreter are the same Python', async () => {
    const versioned = await init(project(), [`python${py!.version}`, '-c', 'print(1)']);
    expect(versioned.out.split('\n')[0]).toBe(`template:python: python${py!.version} is Python ${py!.version} (${py!.bin})`);
    const bin = project();
    fs.symlinkSync('/usr/bin/python3', join(bin, 'py'));
    const dir = project();
    const linked = await init(dir, [join(bin, 'py'), '-c', 'print(1)']);
    expect(linked.out.split('\n')[0]).toBe(`template:python: ${join(bin, 'py')} is Python ${py!.version} (${py!.bin})`);
    expect(linked.yaml).toMatchObject({ vars: { pythonPrefix: '/usr', pythonVersion: py!.version } });
    expect((await planOf(dir)).entries.find((e) => e.guest === '/usr/bin/python3')).toMatchObject({ host: py!.bin });
  });

  it('follows a pyenv shim (a bash script) to the selected version without running it, and says so', async () => {
    // A pyenv tree as pyenv lays it out: shims/python3 (the script pyenv writes), versions/<v>/
    // with bin/ and lib/ of an installation (the real interpreter copied, its library linked).
    const root = project();
    const v = `${py!.version}.99`;
    fs.mkdirSync(join(root, 'shims'));
    fs.mkdirSync(join(root, 'versions', v, 'bin'), { recursive: true });
    fs.mkdirSync(join(root, 'versions', v, 'lib'));
    fs.copyFileSync(py!.bin, join(root, 'versions', v, 'bin', `python${py!.version}`));
    fs.chmodSync(join(root, 'versions', v, 'bin', `python${py!.version}`), 0o755);
    fs.symlinkSync(`python${py!.version}`, join(root, 'versions', v, 'bin', 'python3'));
    fs.symlinkSync(py!.lib, join(root, 'versions', v, 'lib', `python${py!.version}`));
    fs.writeFileSync(
      join(root, 'shims', 'python3'),
      `#!/usr/bin/env bash\nset -e\nprogram="\${0##*/}"\nexport PYENV_ROOT="${root}"\nexec "${root}/libexec/pyenv" exec "$program" "$@"\n`,
      { mode: 0o755 },
    );
    fs.writeFileSync(join(root, 'version'), `${v}\n`);
    const env = { ...ENV, PATH: `${join(root, 'shims')}:${ENV.PATH}`, PYENV_ROOT: root };
    const dir = project();
    const r = await init(dir, ['python3', '-c', 'print(6*7)'], { env });
    const real = join(root, 'versions', v, 'bin', `python${py!.version}`);
    expect(r.out.split('\n')).toEqual([
      `template:python: python3 is Python ${py!.version} (${real})`,
      `note: ${join(root, 'shims', 'python3')} is a pyenv shim; pyenv selects ${v} (${join(root, 'version')}): ${join(root, 'versions', v, 'bin', 'python3')}`,
      expect.stringMatching(/^wrote osv\.yaml/),
      expect.stringMatching(/^next:/),
    ]);
    expect(r.yaml).toMatchObject({ vars: { pythonPrefix: join(root, 'versions', v), pythonVersion: py!.version } });
    const p = await planOf(dir, env);
    expect(p.entries.find((e) => e.guest === '/usr/bin/python3')).toMatchObject({ host: real });
    // The library follows the prefix: at the pyenv path in the guest, found through PYTHONHOME.
    expect(guests(p)).toContain(join(root, 'versions', v, 'lib', `python${py!.version}`, 'encodings', '__init__.py'));
    expect(p.run.cmdline).toContain(`--env=PYTHONHOME=${join(root, 'versions', v)}`);
    // PYENV_VERSION wins over the version file; a .python-version up the tree too.
    const other = await init(project(), ['python3', '-c', '1'], { env: { ...env, PYENV_VERSION: 'nope' } });
    expect(other.out).toContain('template:native');
    expect(other.out).toContain('is a pyenv shim, and none of the versions it would use (nope, from PYENV_VERSION)');
  });

  it('a script with the packages it imports: one tree per package from a venv\'s site-packages, PYTHONPATH set; its own modules under /app', async () => {
    const venv = join(project(), 'venv');
    execFileSync(py!.bin, ['-m', 'venv', '--without-pip', venv]);
    const site = join(venv, 'lib', `python${py!.version}`, 'site-packages');
    fs.mkdirSync(join(site, 'greet', 'lang'), { recursive: true });
    fs.writeFileSync(join(site, 'greet', '__init__.py'), 'import json\nfrom .lang import en\n');
    fs.writeFileSync(join(site, 'greet', 'lang', '__init__.py'), '');
    fs.writeFileSync(join(site, 'greet', 'lang', 'en.py'), 'import colour\ntry:\n    import optional_thing\nexcept ImportError:\n    pass\n');
    fs.writeFileSync(join(site, 'colour.py'), 'X = 1\n');
    fs.mkdirSync(join(site, 'greet-1.0.dist-info'));
    fs.writeFileSync(join(site, 'greet-1.0.dist-info', 'METADATA'), 'Name: greet\n');
    fs.mkdirSync(join(site, 'optional_thing'));
    fs.writeFileSync(join(site, 'optional_thing', '__init__.py'), '');
    const dir = project({ 'app.py': 'import sys\nimport greet, helpers\nfrom util.text import shout\n', 'helpers.py': 'import os\n', 'util/__init__.py': '', 'util/text.py': 'def shout(s): return s\n' });
    const r = await init(dir, [join(venv, 'bin', 'python3'), 'app.py', '--port', '8000']);
    expect(r.out.split('\n')[0]).toBe(`template:python: ${join(venv, 'bin', 'python3')} is Python ${py!.version} (${py!.bin}, the venv ${venv})`);
    expect(r.yaml).toMatchObject({
      vars: { pythonPrefix: '/usr', pythonVersion: py!.version },
      env: { PYTHONPATH: site },
      cmd: ['/usr/bin/python3', '/app/app.py', '--port', '8000'],
    });
    expect(r.yaml['files']).toEqual([
      { src: './app.py', dest: '/app/app.py' },
      { src: './helpers.py', dest: '/app/helpers.py' },
      { src: './util', dest: '/app/util' },
      { src: join(site, 'greet'), dest: join(site, 'greet') },
      { src: join(site, 'greet-1.0.dist-info'), dest: join(site, 'greet-1.0.dist-info') },
      { src: join(site, 'colour.py'), dest: join(site, 'colour.py') },
    ]);
    // Block style, one group comment each: what a person would write.
    expect(r.text).toContain(`  # Packages app.py imports, from ${site} (one tree each, at the same path).\n  - src: ${join(site, 'greet')}\n    dest: ${join(site, 'greet')}\n`);
    const p = await planOf(dir);
    expect(guests(p)).toContain(join(site, 'greet', 'lang', 'en.py'));
    expect(guests(p)).toContain('/app/util/text.py');
    expect(guests(p)).not.toContain(join(site, 'optional_thing'));
    expect(p.run.cmdline).toContain(`--env=PYTHONPATH=${site}`);
  });

  it('--template overrides what was recognised; --template none writes the command as given', async () => {
    const dir = project();
    const r = await init(dir, ['/usr/bin/python3', '-c', 'print(1)'], { template: 'native' });
    expect(r.out.split('\n')[0]).toBe(`template:native: --template native (osv init recognised python: /usr/bin/python3 is Python ${py!.version} (${py!.bin}))`);
    expect(r.yaml).toMatchObject({ extends: ['template:native'], cmd: ['/usr/bin/python3', '-c', 'print(1)'] });
    expect(r.yaml['vars']).toBeUndefined();
    // ... and osv plan warns that this python lacks its standard library, naming the fix.
    expect((await planOf(dir)).warnings).toContain(
      `/usr/bin/python3 is Python ${py!.version}, and the image has no /usr/lib/python${py!.version}/encodings (its standard library): it stops at start with "No module named 'encodings'". Fix: extends: [template:python], with vars: {pythonVersion: "${py!.version}", pythonPrefix: /usr} (or \`osv init -- ${py!.bin} ...\`)`,
    );
  });

  it('a python3.X in another prefix (/usr/local-like, an image\'s build) gets that prefix, not /usr', async () => {
    const prefix = join(project(), 'local');
    const v = '3.99';
    fs.mkdirSync(join(prefix, 'bin'), { recursive: true });
    fs.mkdirSync(join(prefix, 'lib'));
    fs.copyFileSync(py!.bin, join(prefix, 'bin', `python${v}`));
    fs.chmodSync(join(prefix, 'bin', `python${v}`), 0o755);
    fs.symlinkSync(py!.lib, join(prefix, 'lib', `python${v}`));
    const dir = project();
    const r = await init(dir, [join(prefix, 'bin', `python${v}`), '-m', 'json.tool', '--help']);
    expect(r.yaml).toMatchObject({ vars: { pythonPrefix: prefix, pythonVersion: v }, cmd: ['/usr/bin/python3', '-m', 'json.tool', '--help'] });
    const p = await planOf(dir);
    expect(guests(p)).toContain(join(prefix, 'lib', `python${v}`, 'json', 'tool.py'));
    expect(p.run.cmdline).toContain(`--env=PYTHONHOME=${prefix}`);
  });
});

describe.runIf(node)('osv init on node', () => {
  it('node -e and a script with node_modules: template:node; the plan has node and no /proc', async () => {
    const e = project();
    const r = await init(e, ['node', '-e', 'console.log(6*7)']);
    expect(r.out.split('\n')[0]).toBe(`template:node: node is Node.js (${node})`);
    expect(r.yaml).toMatchObject({ extends: ['template:node'], cmd: ['/usr/bin/node', '-e', 'console.log(6*7)'] });
    const p = await planOf(e);
    expect(p.entries.find((x) => x.guest === '/usr/bin/node')).toMatchObject({ host: node });
    const fstab = p.entries.find((x) => x.guest === '/etc/fstab');
    expect(fstab?.kind === 'file' && fstab.content?.toString()).not.toContain('procfs');
    expect(p.warnings.filter((w) => w.includes('procfs'))).toEqual([]);

    const dir = project({ 'server.js': "require('left');\n", 'node_modules/left/index.js': 'module.exports = 1;\n' });
    const s = await init(dir, ['/usr/bin/node', '--max-http-header-size=9000', '-r', './x.js', 'server.js', 'a']);
    expect(s.yaml).toMatchObject({
      cmd: ['/usr/bin/node', '--max-http-header-size=9000', '-r', './x.js', '/app/server.js', 'a'],
      files: [
        { src: './server.js', dest: '/app/server.js' },
        { src: './node_modules', dest: '/app/node_modules' },
      ],
    });
    expect(guests(await planOf(dir))).toContain('/app/node_modules/left/index.js');
  });

  it('follows an asdf shim to the version .tool-versions selects, without running it', async () => {
    const data = project({ '.tool-versions': 'python 3.11.1\n' });
    fs.mkdirSync(join(data, 'shims'));
    fs.mkdirSync(join(data, 'installs', 'nodejs', '20.1.0', 'bin'), { recursive: true });
    fs.symlinkSync('/usr/bin/node', join(data, 'installs', 'nodejs', '20.1.0', 'bin', 'node'));
    fs.writeFileSync(join(data, 'shims', 'node'), `#!/usr/bin/env bash\n# asdf-plugin: nodejs 20.1.0\n# asdf-plugin: nodejs 18.0.0\nexec ${data}/bin/asdf exec "node" "$@"\n`, { mode: 0o755 });
    const dir = project({ '.tool-versions': 'nodejs 20.1.0\n' });
    const env = { ...ENV, PATH: `${join(data, 'shims')}:${ENV.PATH}`, ASDF_DATA_DIR: data, HOME: data };
    const r = await init(dir, ['node', '-e', '1'], { env });
    expect(r.out.split('\n').slice(0, 2)).toEqual([
      `template:node: node is Node.js (${node})`,
      `note: ${join(data, 'shims', 'node')} is an asdf shim; asdf selects nodejs 20.1.0 (${join(dir, '.tool-versions')}): ${join(data, 'installs', 'nodejs', '20.1.0', 'bin', 'node')}`,
    ]);
    // No version of its plugin selected anywhere: said, and nothing is guessed.
    const none = await init(project(), ['node', '-e', '1'], { env });
    expect(none.out).toContain(`${join(data, 'shims', 'node')} is an asdf shim, and no version of nodejs set in .tool-versions or ASDF_*_VERSION is installed`);
  });

  it('a node planned without its template gets a warning naming the fix', async () => {
    const dir = project();
    await init(dir, ['/usr/bin/node', '-e', '1'], { template: 'native' });
    expect((await planOf(dir)).warnings).toContain(
      '/usr/bin/node is Node.js, and the image mounts /proc: V8 reads /proc/self/maps at start and OSv asserts in procfs_maps (docs/templates.md). Fix: extends: [template:node] (or image: {mounts: {/proc: false}})',
    );
  });
});

describe.runIf(javac)('osv init on java', () => {
  it('java -jar: template:java, the jar in files and vars; JAVA_HOME unset, the JRE behind java on PATH', async () => {
    const dir = project({ 'Hello.java': 'public class Hello { public static void main(String[] a) { System.out.println("hi"); } }\n', 'm.txt': 'Main-Class: Hello\n' });
    execFileSync('javac', ['Hello.java'], { cwd: dir, env: ENV });
    execFileSync('jar', ['cfm', 'app.jar', 'm.txt', 'Hello.class'], { cwd: dir, env: ENV });
    const r = await init(dir, ['java', '-Xss1m', '-jar', 'app.jar', 'one', 'two words']);
    const java = fs.realpathSync(spawnSync('sh', ['-c', 'command -v java'], { env: ENV, encoding: 'utf8' }).stdout.trim());
    expect(r.out.split('\n')[0]).toBe(`template:java: java is a Java runtime (${java}), running the jar app.jar`);
    expect(r.yaml).toMatchObject({
      extends: ['template:java'],
      vars: { jar: '/app/app.jar', javaOptions: '-XX:MaxRAMPercentage=75 -Xss1m', args: "one 'two words'" },
      files: [{ src: './app.jar', dest: '/app/app.jar' }],
    });
    expect(r.yaml['cmd']).toBeUndefined();
    expect((r.yaml['vars'] as Record<string, string>)['javaHome']).toBeUndefined();
    const p = await planOf(dir);
    expect(p.run.cmdline).toContain('/usr/lib/jvm/java/bin/java -XX:MaxRAMPercentage=75 -Xss1m -cp /app/app.jar -jar /app/app.jar one "two words" !');
    expect(guests(p)).toContain('/usr/lib/jvm/java/lib/modules');
  });

  it('java -cp DIR:lib/* Main: class path entries under /app, the main class and its arguments', async () => {
    const dir = project({ 'lib/x.jar': '' });
    fs.mkdirSync(join(dir, 'classes'));
    const r = await init(dir, ['java', '-cp', 'classes:lib/*', 'com.example.Main', '--port', '8080']);
    expect(r.yaml).toMatchObject({ vars: { classpath: '/app/classes:/app/lib/*', mainClass: 'com.example.Main', args: '--port 8080' } });
    expect(r.yaml['files']).toEqual([
      { src: './classes', dest: '/app/classes' },
      { src: './lib', dest: '/app/lib' },
    ]);
    expect((await planOf(dir)).run.cmdline).toContain('-cp /app/classes:/app/lib/* com.example.Main --port 8080 !');
  });
});

describe.runIf(hasGcc)('osv init on a C program', () => {
  it('a gcc-built program: template:native with the command as given', async () => {
    const dir = project({ 'hello.c': '#include <stdio.h>\nint main(void) { puts("hi"); return 0; }\n' });
    execFileSync('gcc', ['-o', join(dir, 'hello'), join(dir, 'hello.c')]);
    const r = await init(dir, ['./hello', 'x']);
    expect(r.out.split('\n')[0]).toBe(`template:native: ./hello is a native program (${join(dir, 'hello')})`);
    expect(r.yaml).toMatchObject({ extends: ['template:native'], cmd: ['./hello', 'x'] });
    const p = await planOf(dir);
    expect(p.run.cmdline).toContain('/hello x !');
    expect(p.warnings.filter((w) => /Python|Node|Java/.test(w))).toEqual([]);
  });
});

describe('osv init writes what boots', () => {
  it('names the kernel in a comment: OSV_KERNEL when set, else the default release', async () => {
    const dir = project();
    const without = await init(dir, []);
    expect(without.text).toContain(
      "# The kernel: none is named here and OSV_KERNEL is not set, so `osv up` boots osv-up's default\n# release, osvunikernel/osv-nightly-releases@ci-master-latest (downloaded once, pinned in\n# osv.lock).\n",
    );
    const withEnv = await init(dir, [], { env: { ...ENV, OSV_KERNEL: '/opt/osv/build/last' } });
    expect(withEnv.text.replace(/\n# /g, ' ')).toContain("so `osv up` boots OSV_KERNEL (/opt/osv/build/last in the shell that ran osv init), and without it osv-up's default release,");
    expect(withEnv.yaml['kernel']).toBeUndefined();
  });
});
