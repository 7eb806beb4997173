// The runner end to end with the real QEMU under TCG and tiny real guests (PVH kernels built
// with gcc) that replay recorded OSv consoles and then power off or halt as OSv does.

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { which } from '../../src/run/binaries.js';
import { executeRun, prepareRun, type RunIo, type RunRequest } from '../../src/run/runner.js';
import { supervise } from '../../src/run/supervisor.js';
import { buildFakeKernel, hasGcc, replayParts, tempDir } from './helpers/fake-guest.js';

const FIXTURES = '/work/shared/fixtures/console';
const qemu = which('qemu-system-x86_64');
const canRun = Boolean(qemu) && hasGcc && existsSync(FIXTURES);
if (!canRun) console.warn(`skipped: runner tests need qemu-system-x86_64 (${qemu ?? 'missing'}), gcc (${hasGcc}) and ${FIXTURES}`);

const MiB = 1024 * 1024;
const gone = (pid: number): boolean => !existsSync(`/proc/${pid}`);

class Capture {
  chunks: Buffer[] = [];
  write(c: Buffer | string): boolean {
    this.chunks.push(Buffer.from(c));
    return true;
  }
  get text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}

describe.skipIf(!canRun)('runner with the real QEMU', () => {
  const dir = canRun ? tempDir() : '';
  const kernels: Record<string, string> = {};
  let disk = '';
  let cache = '';
  beforeAll(() => {
    const replay = (fixture: string, end: 'reset' | 'halt'): string =>
      buildFakeKernel(dir, fixture.replace('.txt', ''), { ...replayParts(readFileSync(join(FIXTURES, fixture), 'utf8')), end });
    kernels['hello'] = replay('ok-hello.txt', 'reset');
    kernels['noprog'] = replay('fail-no-program.txt', 'reset');
    kernels['symbol'] = replay('fail-ls-l-symbol.txt', 'halt');
    kernels['silent'] = buildFakeKernel(dir, 'silent', { head: 'OSv v0.57.0 (fake)\n', echo: true, tail: 'Serving HTTP on 0.0.0.0 port 8000\n', end: 'halt' });
    disk = join(dir, 'app.img');
    writeFileSync(disk, Buffer.alloc(MiB));
    cache = join(dir, 'accel.json');
  });

  const request = (kernel: string, over: Partial<RunRequest> = {}): RunRequest => ({
    hypervisor: 'qemu',
    vm: {
      arch: 'x86_64',
      boot: { kind: 'kernel', kernel: kernels[kernel]!, cmdline: '--rootfs=rofs /hello', disk: { path: disk, format: 'raw' } },
      memory: 64 * MiB,
      cpus: 1,
      network: { kind: 'none' },
      ports: [],
      volumes: [],
    },
    accel: 'auto',
    accelCacheFile: cache,
    ...over,
  });

  const run = async (req: RunRequest, io: RunIo = {}) => {
    const prep = await prepareRun(req);
    if (!prep.ok) throw prep.error;
    const stdout = new Capture();
    const stderr = new Capture();
    let pid = 0;
    const report = await executeRun(prep.value, { stdout, stderr, onSpawn: (p) => (pid = p), ...io });
    return { prep: prep.value, report, stdout: stdout.text, stderr: stderr.text, pid };
  };

  it('a program that prints and powers off passes; the console streams without the screen-clearing escapes', async () => {
    const r = await run(request('hello', { ci: true, expect: '^Hello from C code$' }));
    if (!existsSync('/dev/kvm')) expect(r.prep.accel).toMatchObject({ accel: 'tcg', how: 'precheck' });
    expect(r.report.verdict).toEqual({ ok: true, exitCode: 0, reason: 'the guest powered off normally; /^Hello from C code$/ matched "Hello from C code"' });
    // CI mode put --power-off-on-abort before the program, and the guest saw it.
    expect(r.stdout).toContain('Cmdline: --rootfs=rofs --power-off-on-abort /hello\r\n');
    expect(r.stdout).toContain('Hello from C code\r\n');
    expect(r.stdout).not.toMatch(/\x1bc|\x1b\[2J|\x1b\[\?7l/);
    expect(r.report.firstProgramLineMs).toBeGreaterThan(0);
    expect(r.report.exit).toMatchObject({ exitCode: 0, signal: null });
    expect(r.report.exit.stoppedBy).toBeUndefined();
    expect(gone(r.pid)).toBe(true);
  });

  it('"Failed to load object" fails with the line quoted, although QEMU exits 0', async () => {
    const r = await run(request('noprog'));
    expect(r.report.exit.exitCode).toBe(0);
    expect(r.report.verdict).toMatchObject({ ok: false, exitCode: 4, code: 'guest-failure' });
    if (!r.report.verdict.ok) expect(r.report.verdict.reason).toContain('"Failed to load object: /nonexistent. Powering off."');
  });

  it('a guest that halts after a failure line is stopped soon after it, not at the timeout', async () => {
    const t0 = Date.now();
    const r = await run(request('symbol', { timeout: 30 }), { failureGraceMs: 300, explainSymbol: () => '/usr/lib/libselinux.so.1' });
    expect(Date.now() - t0).toBeLessThan(15_000);
    expect(r.report.exit.stoppedBy).toBe('failure');
    expect(r.report.verdict).toMatchObject({ ok: false, code: 'guest-failure', finding: { kind: 'missing-symbol', symbol: 'lgetxattr' } });
    if (!r.report.verdict.ok) expect(r.report.verdict.hint).toContain('lgetxattr is needed by /usr/lib/libselinux.so.1');
    expect(r.stdout).toContain('[backtrace]'); // the grace period let the backtrace through
    expect(r.stderr).not.toContain('terminating on signal');
    expect(gone(r.pid)).toBe(true);
  });

  it('a timeout kills a hung guest and quotes the last console line', async () => {
    // Long enough for the guest's line to appear even on a loaded machine.
    const r = await run(request('silent', { timeout: 5, expect: 'never' }));
    expect(r.report.exit.stoppedBy).toBe('timeout');
    expect(r.report.verdict).toMatchObject({ ok: false, exitCode: 4, code: 'timeout' });
    if (!r.report.verdict.ok) expect(r.report.verdict.reason).toBe('timed out after 5 s before /never/ appeared; last console line: "Serving HTTP on 0.0.0.0 port 8000"');
    expect(gone(r.pid)).toBe(true);
  });

  it('stopOnExpect: a server passes once its line appears', async () => {
    const r = await run(request('silent', { timeout: 30, expect: 'Serving HTTP' }), { stopOnExpect: true });
    expect(r.report.exit.stoppedBy).toBe('expect');
    expect(r.report.verdict.ok).toBe(true);
    expect(r.report.expectMs).toBeGreaterThan(0);
  });

  it('an expectation that never appears fails even on a clean power-off', async () => {
    const r = await run(request('hello', { expect: '^Goodbye' }));
    expect(r.report.verdict).toMatchObject({ ok: false, code: 'expect-missing' });
    if (!r.report.verdict.ok) expect(r.report.verdict.reason).toContain('last console line: "Hello from C code"');
  });

  describe('a forwarded host port that is taken', () => {
    let server: Server;
    let port = 0;
    beforeAll(async () => {
      server = createServer();
      await new Promise<void>((res) => server.listen(0, '127.0.0.1', () => res()));
      port = (server.address() as { port: number }).port;
    });
    afterAll(() => server.close());
    it('fails naming the port', async () => {
      const req = request('hello');
      const r = await run({ ...req, vm: { ...req.vm, network: { kind: 'user' }, ports: [{ host: port, guest: 80, protocol: 'tcp' }] } });
      expect(r.report.verdict).toMatchObject({ ok: false, code: 'hypervisor-failed', hint: 'free the port or forward a different host port (-p HOST:GUEST)' });
      if (!r.report.verdict.ok) expect(r.report.verdict.reason).toMatch(new RegExp(`^host port ${port}/tcp on 127\\.0\\.0\\.1 is already in use`));
      expect(r.stderr).toContain('Could not set up host forwarding rule'); // QEMU's own words reach the terminal too
    });
  });

  it('QEMU with no kernel and no disk sits in the BIOS; the timeout kills and reaps it', async () => {
    let stderr = '';
    const child = supervise({
      argv: [qemu!, '-accel', 'tcg', '-nodefaults', '-nographic', '-serial', 'stdio', '-m', '32M', '-no-reboot'],
      onStdout: () => undefined,
      onStderr: (c) => (stderr += c.toString()),
      timeoutMs: 1500,
      killGraceMs: 500,
    });
    const exit = await child.done;
    expect(exit.stoppedBy).toBe('timeout');
    expect(exit.durationMs).toBeGreaterThanOrEqual(1400);
    // QEMU ended because of our SIGTERM (or the SIGKILL after it), not by itself.
    expect(stderr.includes('terminating on signal 15') || exit.signal === 'SIGKILL').toBe(true);
    expect(gone(child.pid!)).toBe(true);
  });

  it('a missing kernel file is an input error before QEMU starts', async () => {
    const req = request('hello');
    const r = await prepareRun({ ...req, vm: { ...req.vm, boot: { kind: 'kernel', kernel: join(dir, 'nope.elf'), cmdline: '/x' } } });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.message).toBe(`kernel ${join(dir, 'nope.elf')} does not exist`);
    const bad = await prepareRun({ ...req, expect: '(' });
    expect(!bad.ok && (bad.error as { code: string }).code).toBe('run.bad-expect');
  });
});
