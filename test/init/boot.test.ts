// A newcomer's first `osv up`: `osv init -- PROGRAM ARGS` and then `osv test`, under QEMU with
// the kernel OSV_KERNEL names, with no edit of the written file but its ports. Debian's python3,
// node and openjdk-17, on an environment without JAVA_HOME or NODE_PATH; a Flask app from
// Debian's python3-flask (installed here when missing) from `osv init` plus one `osv trace
// --write`, served through a forward. Opt-in (OSV_KERNEL unset: skipped): each boot takes
// seconds to a minute under emulation.

import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { debianPython, hasTool } from '../helpers/tools.js';
import { freePort, serveAndGet } from '../helpers/net.js';
import { tempTrees } from '../plan/helpers.js';
import { startFake } from '../kernel/fake-release.js';
import { fakeLoaderImg } from '../kernel/helpers.js';
import { resolveKernelPath } from '../../src/kernel/local.js';
import { DEFAULT_RELEASE } from '../../src/kernel/default-release.js';
import { OSV, runOsv, runOsvAsync } from '../helpers/osv.js';

const kernel = process.env['OSV_KERNEL'];
const reason = !kernel ? 'OSV_KERNEL is not set (an OSv kernel directory or loader-stripped.elf)' : !hasTool('qemu-system-x86_64') ? 'qemu-system-x86_64 is not installed' : undefined;
if (reason) console.warn(`skipped: osv init + osv test boot tests: ${reason}`);

/** What a fresh Debian shell has: no JAVA_HOME, no NODE_PATH, no pyenv in front of /usr/bin. */
const ENV: NodeJS.ProcessEnv = { PATH: '/usr/local/bin:/usr/bin:/bin', HOME: process.env['HOME'] ?? '/root', OSV_KERNEL: kernel ?? '', NO_COLOR: '1', CI: '1' };

const temp = tempTrees('osv-init-boot-');
afterAll(temp.cleanup);

const osv = (dir: string, args: string[], timeoutMs = 280_000) => runOsv(args, { cwd: dir, timeout: timeoutMs, env: ENV });

/** The one edit allowed: the file's commented ports line becomes a forward. */
function forward(dir: string, host: number, guest: number): void {
  const file = join(dir, 'osv.yaml');
  const text = fs.readFileSync(file, 'utf8');
  const edited = text.replace(/^ {2}# ports: \["8080:8080"\].*$/m, `  ports: ["${host}:${guest}"]`);
  expect(edited).not.toBe(text);
  fs.writeFileSync(file, edited);
}

/**
 * `osv test` of a server while the host GETs `path` through the forward; then GETs of /done,
 * whose log line is the one `osv test` waits for (servers log a request before its body is
 * sent, so stopping on the first request's line could cut that body short).
 */
async function testServer(dir: string, port: number, path: string, deadlineMs: number): Promise<{ body?: string; code: number | null; out: string }> {
  const args = ['test', '--expect', '"GET /done HTTP/1\\.1"', '--stop-on-expect', '--timeout', String(Math.round(deadlineMs / 1000))];
  const r = await serveAndGet([process.execPath, OSV, ...args], { cwd: dir, env: ENV }, port, [path, '/done'], deadlineMs, 'exit');
  return { ...(r.bodies[path] !== undefined ? { body: r.bodies[path] } : {}), code: r.code, out: r.out };
}

const py = debianPython();
const node = fs.existsSync('/usr/bin/node');
const jdk = spawnSync('javac', ['-version'], { env: ENV }).status === 0 && spawnSync('jar', ['--version'], { env: ENV }).status === 0;
if (!reason && !py) console.warn('skipped: osv init + osv test on python3: no Debian python3 with its standard library (apt-get install python3)');
if (!reason && !node) console.warn('skipped: osv init + osv test on node: /usr/bin/node is not installed (apt-get install nodejs)');
if (!reason && !jdk) console.warn('skipped: osv init + osv test on a jar: javac and jar are needed to build it (apt-get install openjdk-17-jdk-headless)');

/** Debian's python3-flask: installed when missing (root with apt), else the reason it is not there. */
function flaskMissing(): string | undefined {
  if (!py) return 'no Debian python3';
  const has = (): boolean => spawnSync(py.bin, ['-c', 'import flask'], { env: ENV, stdio: 'ignore' }).status === 0;
  if (has()) return undefined;
  const apt = spawnSync('apt-get', ['install', '-y', '-q', 'python3-flask'], { env: { ...ENV, DEBIAN_FRONTEND: 'noninteractive' }, encoding: 'utf8', timeout: 600_000 });
  if (has()) return undefined;
  return `python3-flask is not installed and \`apt-get install -y python3-flask\` did not install it (${(apt.error?.message ?? apt.stderr ?? '').trim().split('\n').pop()})`;
}
const noFlask = reason ? reason : flaskMissing();
if (!reason && noFlask) console.warn(`skipped: the Flask app: ${noFlask}`);

describe.runIf(!reason)('osv init, then osv test', () => {
  it.runIf(py)('python3 -c', { timeout: 300_000 }, () => {
    const dir = temp.make();
    expect(osv(dir, ['init', '--', 'python3', '-c', 'import json; print("python ok", json.dumps([6 * 7]))']).code).toBe(0);
    const r = osv(dir, ['test']);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain('python ok [42]');
  });

  it.runIf(py)('python3 -m http.server, served through a forward', { timeout: 300_000 }, async () => {
    const dir = temp.make();
    expect(osv(dir, ['init', '--', 'python3', '-m', 'http.server', '8000']).code).toBe(0);
    const port = await freePort();
    forward(dir, port, 8000);
    const r = await testServer(dir, port, '/etc/hosts', 240_000);
    expect(r.body, r.out).toContain('localhost');
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain('osv: passed: the expected line appeared and the VM was stopped');
  });

  it.runIf(node)('node -e', { timeout: 300_000 }, () => {
    const dir = temp.make();
    expect(osv(dir, ['init', '--', 'node', '-e', 'console.log("node ok", 6 * 7)']).code).toBe(0);
    const r = osv(dir, ['test']);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain('node ok 42');
  });

  it.runIf(jdk)('java -jar app.jar, with JAVA_HOME unset', { timeout: 300_000 }, () => {
    const dir = temp.make({ 'Hello.java': 'public class Hello { public static void main(String[] a) { System.out.println("java ok " + (6 * 7) + " " + String.join("+", a)); } }\n', 'm.txt': 'Main-Class: Hello\n' });
    execFileSync('javac', ['Hello.java'], { cwd: dir, env: ENV });
    execFileSync('jar', ['cfm', 'app.jar', 'm.txt', 'Hello.class'], { cwd: dir, env: ENV });
    expect(osv(dir, ['init', '--', 'java', '-jar', 'app.jar', 'one', 'two words']).code).toBe(0);
    const r = osv(dir, ['test']);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain('java ok 42 one+two words');
  });

  it.runIf(py)('a first run without OSV_KERNEL: the default release is downloaded (from a fake GitHub serving this kernel), pinned and booted; the second run uses the cache', { timeout: 300_000 }, async () => {
    const k = resolveKernelPath(kernel!, 'x86_64', 'OSV_KERNEL');
    if (!k.ok) throw k.error;
    const fake = await startFake(fs.readFileSync(k.value.elf!), k.value.img ? fs.readFileSync(k.value.img) : fakeLoaderImg('first-run'));
    try {
      const dir = temp.make();
      const env = { ...ENV, OSV_KERNEL: '', OSV_GITHUB_API: fake.base, XDG_CACHE_HOME: join(dir, '.cache') };
      // Asynchronous: the fake server answers from this process.
      const run = (args: string[]) => runOsvAsync(args, { cwd: dir, env, timeout: 280_000 });
      expect((await run(['init', '--', 'python3', '-c', 'print("first run", 6 * 7)'])).code).toBe(0);
      expect(fs.readFileSync(join(dir, 'osv.yaml'), 'utf8').replace(/\n# /g, ' ')).toContain(`boots osv-up's default release, ${DEFAULT_RELEASE.version}`);
      const first = await run(['up']);
      expect(first.code, first.out).toBe(0);
      expect(first.out).toContain(`downloading ${DEFAULT_RELEASE.assets.elf}`);
      expect(first.out).toContain('first run 42');
      expect(JSON.parse(fs.readFileSync(join(dir, 'osv.lock'), 'utf8')).kernel).toMatchObject({ version: DEFAULT_RELEASE.version, files: { elf: { asset: DEFAULT_RELEASE.assets.elf } } });
      const requests = fake.requests.length;
      const second = await run(['test']);
      expect(second.code, second.out).toBe(0);
      expect(fake.requests.length).toBe(requests);
    } finally {
      await fake.close();
    }
  });

  it.runIf(!noFlask)('a Flask app (Debian python3-flask): osv init and one osv trace --write, served through a forward', { timeout: 600_000 }, async () => {
    const dir = temp.make({
      'app.py': [
        'from flask import Flask',
        '',
        'app = Flask(__name__)',
        '',
        "@app.route('/')",
        'def hello():',
        "    return 'flask ok %d' % (6 * 7)",
        '',
        "if __name__ == '__main__':",
        "    app.run(host='0.0.0.0', port=5000)",
        '',
      ].join('\n'),
    });
    // Each step has a deadline of its own, and they add up to less than the test's: a step that
    // hangs fails with its output, not as a test timeout that names no step.
    const init = osv(dir, ['init', '--', '/usr/bin/python3', 'app.py'], 120_000);
    expect(init.code, init.out).toBe(0);
    const trace = osv(dir, ['trace', '--write', '--duration', '6s', '--', '/usr/bin/python3', 'app.py'], 120_000);
    expect(trace.code, trace.out).toBe(0);
    const text = fs.readFileSync(join(dir, 'osv.yaml'), 'utf8');
    // Grouped: whole package directories, in block style; never a file inside a shipped directory.
    expect(text).not.toMatch(/^files: \[/m);
    const files = (parseDocument(text).toJS() as { files: Array<{ src: string; dest: string }> }).files;
    const srcs = files.map((f) => f.src);
    for (const pkg of ['flask', 'werkzeug', 'jinja2', 'markupsafe', 'itsdangerous', 'click']) expect(srcs).toContain(`/usr/lib/python3/dist-packages/${pkg}`);
    expect(srcs.filter((s) => srcs.some((d) => d !== s && s.startsWith(d + '/')))).toEqual([]);
    expect(srcs.filter((s) => s.endsWith('.py') && s.startsWith('/usr/lib/python3/dist-packages/flask'))).toEqual([]);
    expect(files.length).toBeLessThan(30);

    const port = await freePort();
    forward(dir, port, 5000);
    const r = await testServer(dir, port, '/', 300_000);
    expect(r.body, r.out).toBe('flask ok 42');
    expect(r.code, r.out).toBe(0);
  });
});
