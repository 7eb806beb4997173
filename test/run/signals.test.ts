// Ctrl-C, SIGTERM, SIGKILL and real terminals: the VM never outlives `osv run`, and an
// interrupted run exits 130. The CLI is node bin/osv.js; the guests are tiny PVH kernels.

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { which } from '../../src/run/binaries.js';
import { canRun, childrenOf, cliFixture, collect, exited, OSV, waitFor, type CliFixture } from './helpers/cli-env.js';

if (!canRun) console.warn('skipped: signal tests need qemu-system-x86_64 and gcc');

describe.skipIf(!canRun)('osv run under signals', () => {
  let f: CliFixture;
  beforeAll(() => {
    f = cliFixture();
  });

  const start = (detached: boolean, kernel = f.hang): ChildProcess =>
    spawn(process.execPath, [OSV, 'run', f.disk, '--kernel', kernel, '-e', '--rootfs=rofs /srv', '--accel', 'tcg'], { env: f.env, cwd: f.dir, detached, stdio: ['pipe', 'pipe', 'pipe'] });

  const started = async (cli: ChildProcess, o: { out: string }): Promise<number> => {
    const pid = await waitFor('QEMU to start', () => childrenOf(cli.pid!, 'qemu-system')[0]);
    await waitFor('the guest console', () => (o.out.includes('waiting') ? true : undefined));
    return pid;
  };

  it('SIGINT to the CLI stops the VM, exit 130, QEMU reaped', async () => {
    const cli = start(false);
    const o = collect(cli);
    const vm = await started(cli, o);
    const done = exited(cli);
    process.kill(cli.pid!, 'SIGINT');
    expect(await done).toEqual({ code: 130, signal: null });
    expect(o.err).toContain('osv: interrupted');
    expect(existsSync(`/proc/${vm}`)).toBe(false);
  });

  it('Ctrl-C in a terminal (SIGINT to the whole process group): exit 130, no QEMU noise, QEMU reaped', async () => {
    const cli = start(true); // its own process group, as a shell job would be
    const o = collect(cli);
    const vm = await started(cli, o);
    const done = exited(cli);
    process.kill(-cli.pid!, 'SIGINT');
    expect(await done).toEqual({ code: 130, signal: null });
    expect(o.err).not.toContain('terminating on signal');
    expect(existsSync(`/proc/${vm}`)).toBe(false);
  });

  it('SIGTERM: exit 130 as well', async () => {
    const cli = start(false);
    const o = collect(cli);
    const vm = await started(cli, o);
    const done = exited(cli);
    process.kill(cli.pid!, 'SIGTERM');
    expect((await done).code).toBe(130);
    expect(existsSync(`/proc/${vm}`)).toBe(false);
  });

  const setpriv = which('setpriv');
  if (!setpriv) console.warn('skipped: the SIGKILL test needs setpriv (util-linux) for the parent-death signal');
  it.runIf(setpriv)('SIGKILL of the CLI still takes the VM with it (parent-death signal)', async () => {
    const cli = start(false);
    const o = collect(cli);
    const vm = await started(cli, o);
    const done = exited(cli);
    process.kill(cli.pid!, 'SIGKILL');
    expect((await done).signal).toBe('SIGKILL');
    await waitFor('QEMU to die', () => (existsSync(`/proc/${vm}`) ? undefined : true), 5000);
  });

  // A real terminal: `script` runs the CLI on a pseudo-terminal and copies our writes to it, so
  // a 0x03 byte is the user's Ctrl-C, turned into SIGINT by the terminal's line discipline.
  const script = which('script');
  if (!script) console.warn('skipped: the terminal tests need script (util-linux) for a pseudo-terminal');
  const onPty = (kernel: string) =>
    spawn(script!, ['-q', '-e', '-c', `${process.execPath} ${OSV} run ${f.disk} --kernel ${kernel} -e /x --accel tcg`, '/dev/null'], { env: f.env, cwd: f.dir, stdio: ['pipe', 'pipe', 'pipe'] });
  const vmsOf = (kernel: string): number[] =>
    readdirSync('/proc').filter((n) => /^\d+$/.test(n)).map(Number).filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(kernel) && readFileSync(`/proc/${pid}/comm`, 'utf8').startsWith('qemu');
      } catch {
        return false;
      }
    });

  it.runIf(script)('Ctrl-C typed on a terminal: exit 130, "osv: interrupted", no VM left', async () => {
    const term = onPty(f.hang);
    const o = collect(term);
    await waitFor('the guest console', () => (o.out.includes('waiting') ? true : undefined));
    expect(vmsOf(f.hang)).toHaveLength(1);
    const done = exited(term);
    term.stdin!.write('\x03');
    expect((await done).code).toBe(130);
    expect(o.out).toContain('osv: interrupted');
    expect(vmsOf(f.hang)).toEqual([]);
  });

  it.runIf(script)('on a terminal (its input forwarded to the guest console) the CLI still exits when the guest powers off', async () => {
    const term = onPty(f.hello);
    const o = collect(term);
    // stdin stays open: forwarding it to the guest must not keep the CLI alive.
    expect((await exited(term)).code).toBe(0);
    expect(o.out).toContain('Hello from C code');
    term.stdin!.end();
  });

  it('`osv run | head`: when the reader goes away the VM is stopped (no EPIPE crash)', async () => {
    // A guest that keeps printing: as with any program under head(1), the CLI learns that the
    // reader is gone on its next write (a guest that went quiet would keep both waiting).
    const cli = start(false, f.chatty);
    let err = '';
    cli.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    const vm = await waitFor('QEMU to start', () => childrenOf(cli.pid!, 'qemu-system')[0]);
    await new Promise<void>((res) => cli.stdout!.once('data', () => res()));
    const done = exited(cli);
    cli.stdout!.destroy(); // like head(1) exiting after its lines
    expect((await done).code).toBe(130);
    expect(err).not.toContain('EPIPE');
    expect(existsSync(`/proc/${vm}`)).toBe(false);
  });
});
