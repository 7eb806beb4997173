// The built-in templates plan on this machine: each extended by a few lines of a user's file,
// exactly as docs/templates.md shows them, with the runtimes installed here.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { plan } from '../../src/plan/index.js';
import type { Plan, PlanEntry } from '../../src/plan/types.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

/** Load and plan a project whose osv.yaml is `text`. */
async function planProject(text: string, env: Record<string, string | undefined> = process.env): Promise<Plan> {
  const dir = fs.mkdtempSync(join(tmpdir(), 'osv-tpl-'));
  dirs.push(dir);
  fs.writeFileSync(join(dir, 'osv.yaml'), text);
  const config = await loadConfig({ cwd: dir, env });
  if (!config.ok) throw new Error(config.error.errors.map((e) => e.message).join('\n'));
  const p = plan(config.value, { env });
  if (!p.ok) throw new Error(p.error.errors.map((e) => `${e.message}\n${e.details.join('\n')}`).join('\n'));
  return p.value;
}

const byGuest = (p: Plan): Map<string, PlanEntry> => new Map(p.entries.map((e) => [e.guest, e]));
const realpath = (p: string): string | undefined => {
  try {
    return fs.realpathSync(p);
  } catch {
    return undefined;
  }
};

// The Debian interpreter (PATH's python3 may be a pyenv shim): /usr/bin/python3 -> python3.X.
const python = realpath('/usr/bin/python3');
const pythonVersion = python ? /python(\d+\.\d+)$/.exec(python)?.[1] : undefined;
if (!pythonVersion) console.warn('skipped: template:python needs /usr/bin/python3 (a python3.X binary)');

describe.runIf(pythonVersion)('template:python', () => {
  it('plans the interpreter, the standard library without tests and caches, and the extension modules with their libraries', async () => {
    const p = await planProject(
      ['extends: [template:python]', `vars: { pythonVersion: "${pythonVersion}" }`, 'cmd: [/usr/bin/python3, -c, "import ssl; print(ssl.OPENSSL_VERSION)"]', ''].join('\n'),
    );
    const g = byGuest(p);
    const lib = `/usr/lib/python${pythonVersion}`;
    expect(g.get('/usr/bin/python3')).toMatchObject({ kind: 'file', host: python });
    expect(g.get(`${lib}/os.py`)?.kind).toBe('file');
    expect(g.get(`${lib}/encodings/utf_8.py`)?.kind).toBe('file');
    const ssl = [...g.keys()].find((k) => k.startsWith(`${lib}/lib-dynload/_ssl.`));
    expect(ssl, 'the _ssl extension module').toBeDefined();
    // _ssl's own libraries come with it (the ELF scan of python3 alone would not find them).
    expect(g.has('/usr/lib/libssl.so.3') || [...g.keys()].some((k) => /^\/usr\/lib\/libssl\.so/.test(k))).toBe(true);
    const paths = [...g.keys()];
    expect(paths.filter((k) => k.includes('/__pycache__'))).toEqual([]);
    expect(paths.filter((k) => k.startsWith(`${lib}/test/`) || k.includes('/tests/'))).toEqual([]);
    expect(paths.filter((k) => k.startsWith(`${lib}/config-`))).toEqual([]);
    expect(p.run.cmdline).toContain('--env=PYTHONHOME=/usr');
    expect(p.run.cmdline).toContain('--env=PYTHONDONTWRITEBYTECODE=1');
    expect(p.run.cmdline).toMatch(/\/usr\/bin\/python3 -c /);
    // Smaller than the whole library directory by the caches, tests and static libpython.
    expect(p.totals.bytes).toBeLessThan(80 * 1024 * 1024);
  });

  it('takes the user\'s code and a variable of their own over the template\'s', async () => {
    const p = await planProject(
      [
        'extends: [template:python]',
        'vars:',
        `  pythonVersion: "${pythonVersion}"`,
        '  app: /srv/app',
        'files:',
        `  - src: ${import.meta.dirname}`,
        '    dest: ${app}',
        // In flow style ([...], {...}) a value that uses ${...} is quoted: `{` is YAML syntax there.
        'cmd: [/usr/bin/python3, "${app}/main.py"]',
        'env: { LANG: C }',
        '',
      ].join('\n'),
    );
    const g = byGuest(p);
    expect(g.get('/srv/app/templates.test.ts')?.kind).toBe('file');
    expect(p.run.cmdline).toContain('/usr/bin/python3 /srv/app/main.py');
    expect(p.run.cmdline).toContain('--env=LANG=C');
    expect(p.run.cmdline).not.toContain('C.UTF-8');
  });
});

const node = realpath('/usr/bin/node') ?? (() => {
  try {
    return realpath(execFileSync('sh', ['-c', 'command -v node'], { encoding: 'utf8' }).trim());
  } catch {
    return undefined;
  }
})();
if (!node) console.warn('skipped: template:node needs node installed');

describe.runIf(node)('template:node', () => {
  it('plans node at /usr/bin/node with its libraries and a heap limit', async () => {
    const p = await planProject(['extends: [template:node]', `vars: { node: ${node}, nodeHeapMiB: 768 }`, 'run: { memory: 1G }', 'cmd: [/usr/bin/node, -e, "console.log(1)"]', ''].join('\n'));
    const g = byGuest(p);
    expect(g.get('/usr/bin/node')).toMatchObject({ kind: 'file', host: node });
    expect(p.run.cmdline).toContain('--env=NODE_OPTIONS=--max-old-space-size=768');
    expect(p.run.run.run.memory).toBe(1024 * 1024 * 1024);
  });

  it('works around OSv: no procfs, a preload that ends the process on exit, and TZ set', async () => {
    const p = await planProject(['extends: [template:node]', `vars: { node: ${node} }`, 'cmd: [/usr/bin/node, -e, "1"]', ''].join('\n'));
    const g = byGuest(p);
    const text = (guest: string): string => {
      const e = g.get(guest);
      return e?.kind === 'file' && e.content ? Buffer.from(e.content).toString() : '';
    };
    expect(text('/etc/fstab')).not.toContain('procfs');
    expect(text('/etc/fstab')).toContain('sysfs');
    expect(text('/usr/lib/osv-up/node-exit.cjs')).toContain("process.on('exit'");
    expect(p.run.run.env).toMatchObject({ NODE_OPTIONS: '--max-old-space-size=384 --require /usr/lib/osv-up/node-exit.cjs', TZ: 'UTC' });
    expect(p.run.cmdline).toContain('--env=NODE_OPTIONS=--max-old-space-size=384\\ --require\\ /usr/lib/osv-up/node-exit.cjs --env=TZ=UTC ');
    // The preload runs the listeners after it, then exits; node itself accepts it.
    const out = execFileSync(node!, ['-e', `${text('/usr/lib/osv-up/node-exit.cjs')}\nprocess.on('exit', (c) => console.log('later listener', c));`], { encoding: 'utf8' });
    expect(out).toBe('later listener 0\n');
  });

  it('ships libstdc++ for a kernel that hides its symbols', async () => {
    const needsStdcxx = execFileSync('readelf', ['-d', node!], { encoding: 'utf8' }).includes('[libstdc++.so.6]');
    const p = await planProject(['extends: [template:node]', `vars: { node: ${node} }`, 'kernel: { hiddenSymbols: true }', 'cmd: [/usr/bin/node, -e, "1"]', ''].join('\n'));
    const plain = await planProject(['extends: [template:node]', `vars: { node: ${node} }`, 'cmd: [/usr/bin/node, -e, "1"]', ''].join('\n'));
    expect(byGuest(p).has('/usr/lib/libstdc++.so.6')).toBe(needsStdcxx);
    expect(byGuest(plain).has('/usr/lib/libstdc++.so.6')).toBe(false);
  });
});

// A JRE: JAVA_HOME, else the real path behind `java` (the alternatives link).
const javaHome = ((): string | undefined => {
  try {
    execFileSync('java', ['-version'], { stdio: 'ignore' });
  } catch {
    return undefined;
  }
  const fromEnv = process.env['JAVA_HOME'];
  if (fromEnv && fs.existsSync(join(fromEnv, 'lib', 'server', 'libjvm.so'))) return fromEnv;
  const java = realpath(execFileSync('sh', ['-c', 'command -v java'], { encoding: 'utf8' }).trim());
  return java ? join(java, '..', '..') : undefined;
})();
if (!javaHome) console.warn('skipped: template:java needs a JRE (`java -version` failed)');

describe.runIf(javaHome)('template:java', () => {
  const env = { ...process.env, JAVA_HOME: javaHome };
  it('plans the launcher, the runtime tree and libjvm.so with its closure, and boots a jar', async () => {
    const p = await planProject(['extends: [template:java]', 'vars: { jar: /app/hello.jar }', ''].join('\n'), env);
    const g = byGuest(p);
    expect(g.get('/usr/lib/jvm/java/bin/java')?.kind).toBe('file');
    expect(g.get('/usr/lib/jvm/java/lib/server/libjvm.so')).toMatchObject({ kind: 'file', host: fs.realpathSync(join(javaHome!, 'lib/server/libjvm.so')) });
    expect(g.get('/usr/lib/jvm/java/lib/modules')?.kind).toBe('file');
    expect(g.get('/usr/lib/jvm/java/lib/libjava.so')?.kind).toBe('file');
    // The launcher needs libjli.so (through its RPATH) and libz.
    expect(g.has('/usr/lib/libjli.so')).toBe(true);
    // No desktop libraries, no compiler files.
    expect([...g.keys()].filter((k) => /libawt_xawt|libsplashscreen|ct\.sym|src\.zip/.test(k))).toEqual([]);
    expect(p.run.cmdline).toMatch(/\/usr\/lib\/jvm\/java\/bin\/java -XX:MaxRAMPercentage=75 -cp \/app\/hello\.jar -jar \/app\/hello\.jar !$/);
  });

  it('without JAVA_HOME, takes the JVM behind `java` on PATH, links followed (Debian without default-jre)', async () => {
    // A PATH whose java is a chain of links, as /usr/bin/java -> /etc/alternatives/java -> the JVM.
    const bin = fs.mkdtempSync(join(tmpdir(), 'osv-java-path-'));
    try {
      fs.symlinkSync(join(javaHome!, 'bin', 'java'), join(bin, 'alt-java'));
      fs.symlinkSync('alt-java', join(bin, 'java'));
      const noHome: NodeJS.ProcessEnv = { ...process.env, PATH: `relative/bin:${bin}:/usr/bin:/bin` };
      delete noHome['JAVA_HOME'];
      const p = await planProject(['extends: [template:java]', ''].join('\n'), noHome);
      expect(byGuest(p).get('/usr/lib/jvm/java/lib/server/libjvm.so')).toMatchObject({ kind: 'file', host: fs.realpathSync(join(javaHome!, 'lib/server/libjvm.so')) });
      // No java anywhere: the error names the reference and what to do.
      const cwd = fs.mkdtempSync(join(tmpdir(), 'osv-tpl-'));
      dirs.push(cwd);
      fs.writeFileSync(join(cwd, 'osv.yaml'), 'extends: [template:java]\n');
      const none = await loadConfig({ cwd, env: { PATH: `${bin}-none` } });
      expect(none.ok).toBe(false);
      expect(!none.ok && none.error.errors.map((e) => e.message)).toContain('${home:java}: no java on PATH');
    } finally {
      fs.rmSync(bin, { recursive: true, force: true });
    }
  });

  it('runs a main class on a class path instead', async () => {
    const p = await planProject(['extends: [template:java]', 'vars: { mainClass: com.example.Main, classpath: "/app/classes:/app/lib/*", args: --port 8080 }', ''].join('\n'), env);
    expect(p.run.cmdline).toMatch(/ -cp "?\/app\/classes:\/app\/lib\/\*"? com\.example\.Main --port 8080 !$/);
  });
});
