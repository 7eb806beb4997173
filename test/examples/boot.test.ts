// Every example boots with `osv up` under QEMU, end to end through the CLI, with the kernel
// named by OSV_KERNEL (skipped, with the reason printed, when it is unset).

import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, serveAndGet } from '../helpers/net.js';
import { OSV, runOsv } from '../helpers/osv.js';

const ROOT = join(import.meta.dirname, '..', '..');
const kernel = process.env['OSV_KERNEL'];
const qemu = spawnSync('qemu-system-x86_64', ['--version'], { stdio: 'ignore' }).status === 0;
const reason = !kernel ? 'OSV_KERNEL is not set (an OSv kernel directory or loader-stripped.elf)' : !qemu ? 'qemu-system-x86_64 is not installed' : undefined;
if (reason) console.warn(`skipped: example boot tests: ${reason}`);

let work: string;
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'osv-examples-boot-'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** A copy of the example, built with its Makefile when it has one. */
function example(name: string): string {
  const dir = join(work, name);
  cpSync(join(ROOT, 'examples', name), dir, { recursive: true });
  if (existsSync(join(dir, 'Makefile'))) {
    const r = spawnSync('make', ['-s'], { cwd: dir, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`make in ${name}: ${r.stderr}`);
  }
  return dir;
}

const osv = (dir: string, args: string[], timeoutMs: number) => runOsv(args, { cwd: dir, timeout: timeoutMs, env: { ...process.env, CI: '1' } });

/** Boot a server example with a forward, poll it from the host, then Ctrl-C osv. */
async function serve(dir: string, guestPort: number, deadlineMs: number): Promise<{ body?: string; code: number | null; out: string }> {
  const port = await freePort();
  const r = await serveAndGet([process.execPath, OSV, 'up', '-q', '-p', `${port}:${guestPort}`], { cwd: dir, env: { ...process.env, CI: '1' } }, port, ['/'], deadlineMs, 'answered');
  return { ...(r.bodies['/'] !== undefined ? { body: r.bodies['/'] } : {}), code: r.code, out: r.out };
}

describe.runIf(!reason)('examples boot with osv up', () => {
  it('hello-c passes `osv up --ci`', { timeout: 120_000 }, () => {
    const r = osv(example('hello-c'), ['up', '--ci'], 110_000);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain('Hello from OSv! world');
    expect(r.out).toContain('osv: passed: the program exited with status 0');
  });

  it('python-hello passes `osv up --ci`', { timeout: 240_000 }, () => {
    const r = osv(example('python-hello'), ['up', '--ci'], 230_000);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toMatch(/"answer": 42/);
  });

  it('python-http answers through the port forward; Ctrl-C stops it with 130', { timeout: 240_000 }, async () => {
    const r = await serve(example('python-http'), 8000, 180_000);
    expect(r.body, r.out).toContain('Served by Python');
    expect(r.code, r.out).toBe(130);
  });

  it('a server passes `osv test --stop-on-expect` once its ready line appears', { timeout: 240_000 }, () => {
    const r = osv(example('python-http'), ['test', '--expect', 'Serving HTTP on', '--stop-on-expect', '--timeout', '200'], 230_000);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain('osv: passed: the expected line appeared and the VM was stopped');
  });

  it('node-http answers through the port forward; Ctrl-C stops it with 130', { timeout: 240_000 }, async () => {
    const r = await serve(example('node-http'), 8080, 180_000);
    expect(r.body, r.out).toContain('hello from node');
    expect(r.code, r.out).toBe(130);
  });

  it('a broken image fails `osv up --ci` with the console line that decided it', { timeout: 120_000 }, () => {
    // The program needs libgreet.so, which is gone from the host after linking; marked optional,
    // the plan only warns, and --no-check lets the build through: the image lacks the library.
    const dir = join(work, 'broken');
    cpSync(join(ROOT, 'examples', 'hello-c'), dir, { recursive: true });
    writeFileSync(join(dir, 'greet.c'), 'const char *greet(void) { return "hi"; }\n');
    writeFileSync(join(dir, 'main.c'), '#include <stdio.h>\nconst char *greet(void);\nint main(void) { puts(greet()); return 0; }\n');
    for (const args of [
      ['-shared', '-fPIC', '-o', 'libgreet.so', 'greet.c'],
      ['-fPIE', '-pie', '-o', 'main', 'main.c', '-L.', '-lgreet', '-Wl,-rpath,$ORIGIN'],
    ]) {
      const c = spawnSync('gcc', args, { cwd: dir, encoding: 'utf8' });
      if (c.status !== 0) throw new Error(c.stderr);
    }
    rmSync(join(dir, 'libgreet.so'));
    writeFileSync(join(dir, 'osv.yaml'), 'name: broken\nlibraries:\n  - {name: libgreet.so, optional: true}\ncmd: [./main]\nrun: {timeout: 60}\n');
    const r = osv(dir, ['up', '--ci', '--no-check'], 110_000);
    expect(r.code, r.out).toBe(4);
    expect(r.out).toMatch(/error: .*(libgreet\.so|greet)/);
  });
});
