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

// Consoles recorded from a real OSv kernel (transcripts/README.md).
const TRANSCRIPTS = join(import.meta.dirname, 'transcripts');
const qemu = which('qemu-system-x86_64');
const canRun = Boolean(qemu) && hasGcc;
if (!canRun) console.warn(`skipped: runner tests need qemu-system-x86_64 (${qemu ?? 'missing'}) and gcc (${hasGcc})`);

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
    const replay = (transcript: string, end: 'reset' | 'halt'): string =>
      buildFakeKernel(dir, transcript.replace(/\.txt$/, '').replace(/\W/g, '-'), { ...replayParts(readFileSync(join(TRANSCRIPTS, transcript), 'utf8')), end });
    kernels['hello'] = replay('c-ok.txt', 'reset');
    kernels['quiet'] = replay('c-ok.quiet.txt', 'reset');
    kernels['exit3'] = replay('c-exit3.txt', 'reset');
    kernels['noprog'] = replay('no-program.txt', 'reset');
    kernels['symbol'] = buildFakeKernel(dir, 'symbol', {
      head: 'OSv v0.57.0 (fake)\n',
      echo: true,
      tail: '/usr/lib/libselinux.so.1: failed looking up symbol lgetxattr\n\n[backtrace]\n0x00000000402c721a <elf::object::symbol(unsigned int, bool)+426>\n',
      end: 'halt',
    });
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
    const r = await run(request('hello', { ci: true, expect: '^mode ok$' }), { plainNewlines: false });
    if (!existsSync('/dev/kvm')) expect(r.prep.accel).toMatchObject({ accel: 'tcg', how: 'precheck' });
    expect(r.report.verdict).toMatchObject({ ok: true, exitCode: 0, reason: 'the program exited with status 0; /^mode ok$/ matched "mode ok"', status: { known: true, status: 0 } });
    // --verbose (for the status) and CI's --power-off-on-abort went before the program, and the guest saw them.
    expect(r.stdout).toContain('Cmdline: --rootfs=rofs --verbose --power-off-on-abort /hello\r\n');
    expect(r.stdout).toContain('mode ok\r\n');
    expect(r.stdout).not.toMatch(/\x1bc|\x1b\[2J|\x1b\[\?7l/);
    // OSv's debug lines are in the report, not on the console.
    expect(r.stdout).not.toMatch(/VFS: |ROFS: |Powering off|dhcp\]/);
    expect(r.report.kernelLog).toContain('Powering off.');
    expect(r.report.firstProgramLineMs).toBeGreaterThan(0);
    expect(r.report.exit).toMatchObject({ exitCode: 0, signal: null });
    expect(r.report.exit.stoppedBy).toBeUndefined();
    expect(gone(r.pid)).toBe(true);
  });

  it('a program exiting 3 fails CI naming the status; LF line endings for a pipe; --kernel-log shows the debug lines', async () => {
    const r = await run(request('exit3'), { plainNewlines: true });
    expect(r.report.verdict).toMatchObject({ ok: false, exitCode: 4, code: 'exit-status', status: { known: true, status: 3 } });
    expect(r.stdout).toContain('mode exit3\n');
    expect(r.stdout).not.toContain('\r');
    expect(r.stdout).not.toContain('program exited with status 3');
    const loud = await run(request('exit3'), { kernelLog: true, plainNewlines: true });
    expect(loud.stdout).toContain('mode exit3\nprogram exited with status 3\n');
  });

  it('a quiet power-off without OSv\'s status report fails as unknown, never as status 0', async () => {
    const r = await run(request('quiet'));
    expect(r.report.exit.exitCode).toBe(0);
    expect(r.report.verdict).toMatchObject({ ok: false, code: 'status-unknown', status: { known: false } });
  });

  it('QEMU killed from outside (as the OOM killer would) is a failure, not a clean end', async () => {
    const prep = await prepareRun(request('silent', { timeout: 30 }));
    if (!prep.ok) throw prep.error;
    const report = await executeRun(prep.value, {
      stdout: new Capture(),
      stderr: new Capture(),
      onEvent: () => undefined,
      onSpawn: (pid) => setTimeout(() => process.kill(pid, 'SIGKILL'), 1500),
    });
    expect(report.exit).toMatchObject({ exitCode: null, signal: 'SIGKILL' });
    expect(report.exit.stoppedBy).toBeUndefined();
    expect(report.verdict).toMatchObject({ ok: false, exitCode: 4, code: 'hypervisor-failed', reason: 'QEMU was killed by SIGKILL', status: { known: false } });
  });

  it('"Failed to load object" fails with the line quoted, although QEMU exits 0', async () => {
    const r = await run(request('noprog'));
    expect(r.report.exit.exitCode).toBe(0);
    expect(r.report.verdict).toMatchObject({ ok: false, exitCode: 4, code: 'guest-failure' });
    expect(!r.report.verdict.ok && r.report.verdict.reason).toContain('"Failed to load object: /nonexistent. Powering off."');
  });

  it('a guest that halts after a failure line is stopped soon after it, not at the timeout', async () => {
    const t0 = Date.now();
    const r = await run(request('symbol', { timeout: 30 }), { failureGraceMs: 300, explainSymbol: () => '/usr/lib/libselinux.so.1' });
    expect(Date.now() - t0).toBeLessThan(15_000);
    expect(r.report.exit.stoppedBy).toBe('failure');
    expect(r.report.verdict).toMatchObject({ ok: false, code: 'guest-failure', finding: { kind: 'missing-symbol', symbol: 'lgetxattr' } });
    expect(!r.report.verdict.ok && r.report.verdict.hint).toContain('lgetxattr is needed by /usr/lib/libselinux.so.1');
    expect(r.stdout).toContain('[backtrace]'); // the grace period let the backtrace through
    expect(r.stderr).not.toContain('terminating on signal');
    expect(gone(r.pid)).toBe(true);
  });

  it('a timeout kills a hung guest and quotes the last console line', async () => {
    // Long enough for the guest's line to appear even on a loaded machine.
    const r = await run(request('silent', { timeout: 5, expect: 'never' }));
    expect(r.report.exit.stoppedBy).toBe('timeout');
    expect(r.report.verdict).toMatchObject({ ok: false, exitCode: 4, code: 'timeout' });
    expect(!r.report.verdict.ok && r.report.verdict.reason).toBe('timed out after 5 s before /never/ appeared; last console line: "Serving HTTP on 0.0.0.0 port 8000"');
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
    expect(!r.report.verdict.ok && r.report.verdict.reason).toContain('last console line: "mode ok"');
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
      expect(!r.report.verdict.ok && r.report.verdict.reason).toMatch(new RegExp(`^host port ${port}/tcp on 127\\.0\\.0\\.1 is already in use`));
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

  it('the options a run needs whatever its command line (a volume\'s --mount-fs) reach a -e command line; a named volume a dry run has not made yet is not "missing"', async () => {
    const req = request('hello');
    const vol = join(dir, 'not-made-yet.ext4');
    const r = await prepareRun({
      ...req,
      vm: { ...req.vm, boot: { kind: 'kernel', kernel: (req.vm.boot as { kernel: string }).kernel, cmdline: '--rootfs=rofs /x' }, volumes: [{ path: vol, format: 'raw', pending: true }] },
      kernelOptions: ['--mount-fs=ext,/dev/vblk1,/data'],
    });
    if (!r.ok) throw r.error;
    expect(r.value.spec.boot.kind === 'kernel' && r.value.spec.boot.cmdline).toBe('--rootfs=rofs --verbose --mount-fs=ext,/dev/vblk1,/data /x');
    expect(r.value.argv).toContain(`file=${vol},if=none,id=hd1,format=raw,cache=writeback`);
    const missing = await prepareRun({ ...req, vm: { ...req.vm, volumes: [{ path: vol, format: 'raw' }] } });
    expect(!missing.ok && missing.error.message).toBe(`volume ${vol} does not exist`);
  });

  it('a missing kernel file is an input error before QEMU starts', async () => {
    const req = request('hello');
    const r = await prepareRun({ ...req, vm: { ...req.vm, boot: { kind: 'kernel', kernel: join(dir, 'nope.elf'), cmdline: '/x' } } });
    expect(!r.ok && r.error.message).toBe(`kernel ${join(dir, 'nope.elf')} does not exist`);
    const bad = await prepareRun({ ...req, expect: '(' });
    expect(!bad.ok && (bad.error as { code: string }).code).toBe('run.bad-expect');
    // A pattern that matches an empty string would pass on the firmware's first line (osv test --expect 'x*').
    for (const any of ['x*', 'a|', '(?:)', '^', '.*']) {
      const r = await prepareRun({ ...req, expect: any });
      expect(!r.ok && [(r.error as { code: string }).code, r.error.message], any).toEqual(['run.bad-expect', `expect: ${JSON.stringify(any)} matches an empty string, so every console line would pass (the firmware's first among them)`]);
    }
  });
});
