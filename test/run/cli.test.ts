// `osv run` as users run it (node bin/osv.js, built by the test setup): exit codes, Ctrl-C and
// the VM's fate when the CLI is interrupted or killed. The guests are tiny real PVH kernels.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { which } from '../../src/run/binaries.js';
import { newestImage, parseMemoryFlag, parseNetworkFlag, parsePortFlag } from '../../src/run/cli.js';
import { buildBootDisk, buildFakeKernel, hasGcc, tempDir } from './helpers/fake-guest.js';

const ROOT = join(import.meta.dirname, '..', '..');
const OSV = join(ROOT, 'bin', 'osv.js');
const qemu = which('qemu-system-x86_64');
const canRun = Boolean(qemu) && hasGcc;
if (!canRun) console.warn(`skipped: osv run CLI tests need qemu-system-x86_64 (${qemu ?? 'missing'}) and gcc (${hasGcc})`);

describe('flag values', () => {
  it('memory, ports, network', () => {
    expect(parseMemoryFlag('512M')).toEqual({ ok: true, value: 512 * 2 ** 20 });
    expect(parseMemoryFlag('2G')).toEqual({ ok: true, value: 2 * 2 ** 30 });
    expect(parseMemoryFlag('1024')).toEqual({ ok: true, value: 2 ** 30 });
    expect(parseMemoryFlag('lots').ok).toBe(false);
    expect(parsePortFlag('8080:80')).toEqual({ ok: true, value: { host: 8080, guest: 80, protocol: 'tcp' } });
    expect(parsePortFlag('5353:53/udp')).toEqual({ ok: true, value: { host: 5353, guest: 53, protocol: 'udp' } });
    expect(parsePortFlag('0.0.0.0:8000')).toEqual({ ok: true, value: { host: 8000, guest: 8000, protocol: 'tcp', hostAddress: '0.0.0.0' } });
    expect(parsePortFlag('80:99999').ok).toBe(false);
    expect(parseNetworkFlag('tap:tap0')).toEqual({ ok: true, value: { kind: 'tap', name: 'tap0' } });
    expect(parseNetworkFlag('bridge').ok).toBe(false);
  });
});

/** Processes whose parent is `ppid` and whose name starts with `prefix`. */
function childrenOf(ppid: number, prefix: string): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const ppidOf = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppidOf === ppid && comm.startsWith(prefix)) pids.push(Number(name));
    } catch {
      /* exited meanwhile */
    }
  }
  return pids;
}

async function waitFor<T>(what: string, f: () => T | undefined, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const exited = (c: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> =>
  new Promise((res) => c.on('close', (code, signal) => res({ code, signal })));

describe.skipIf(!canRun)('osv run', () => {
  const dir = canRun ? tempDir() : '';
  let hello = '';
  let hang = '';
  let disk = '';
  let env: NodeJS.ProcessEnv = {};
  beforeAll(() => {
    hello = buildFakeKernel(dir, 'hello', { head: 'OSv v0.57.0 (fake)\n', echo: true, tail: 'Hello from C code\n', end: 'reset' });
    hang = buildFakeKernel(dir, 'hang', { head: 'OSv v0.57.0 (fake)\n', echo: true, tail: 'waiting\n', end: 'halt' });
    disk = join(dir, 'app.img');
    writeFileSync(disk, Buffer.alloc(1024 * 1024));
    env = { ...process.env, XDG_CACHE_HOME: join(dir, 'cache'), OSV_KERNEL: '' };
    delete env['OSV_KERNEL'];
  });

  const osv = (args: string[], opts: { cwd?: string } = {}) => spawnSync(process.execPath, [OSV, 'run', ...args], { encoding: 'utf8', env, timeout: 60_000, input: '', cwd: opts.cwd ?? dir });

  it('--dry-run prints the exact QEMU command, shell-quoted, and starts nothing', () => {
    const r = osv([disk, '--kernel', hello, '-e', '--rootfs=rofs /hello a b', '-p', '8080:80', '--ci', '--dry-run', '--accel', 'tcg']);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(
      `${qemu} -accel tcg -cpu max -m 512M -smp 2 -nographic -nodefaults -serial stdio -no-reboot -kernel ${hello} -append '--rootfs=rofs --power-off-on-abort /hello a b' ` +
        `-drive file=${disk},if=none,id=hd0,format=raw,cache=writeback -device virtio-blk-pci,id=blk0,drive=hd0 ` +
        '-netdev user,id=un0,net=192.168.122.0/24,host=192.168.122.1,hostfwd=tcp:127.0.0.1:8080-:80 -device virtio-net-pci,netdev=un0,romfile= -device virtio-rng-pci\n',
    );
    // The printed command runs as is.
    const again = spawnSync('sh', ['-c', r.stdout.trim()], { encoding: 'utf8', timeout: 30_000, input: '' });
    expect(again.status).toBe(0);
    expect(again.stdout).toContain('Cmdline: --rootfs=rofs --power-off-on-abort /hello a b');
  });

  it('--dry-run --json describes the run', () => {
    const r = osv([disk, '--kernel', hello, '-e', '/x', '--dry-run', '--json', '--accel', 'tcg']);
    expect(r.status).toBe(0);
    const j = JSON.parse(r.stdout) as { command: string[]; accel: string; hypervisor: string };
    expect(j.command[0]).toBe(qemu);
    expect(j).toMatchObject({ accel: 'tcg', hypervisor: 'qemu' });
  });

  it('a guest that powers off: exit 0, the console on stdout; --ci prints the verdict', () => {
    const r = osv([disk, '--kernel', hello, '-e', '--rootfs=rofs /hello', '--ci', '--expect', 'Hello']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('Hello from C code');
    expect(r.stderr).toContain('osv: note: KVM is not usable');
    expect(r.stderr).toContain('osv: passed: the guest powered off normally; /Hello/ matched "Hello from C code"');
  });

  it('a guest failure: exit 4 and a one-line reason', () => {
    const r = osv([disk, '--kernel', hang, '-e', '/x', '--timeout', '4', '--accel', 'tcg']);
    expect(r.status).toBe(4);
    expect(r.stderr).toContain('error: timed out after 4 s; last console line: "waiting"\n');
  });

  it('usage errors exit 2 and say what to do', () => {
    const noKernel = osv([disk, '-e', '/x']);
    expect(noKernel.status).toBe(2);
    expect(noKernel.stderr).toContain(`error: ${disk} has no kernel inside (a \`disk\` image), so direct kernel boot needs the OSv kernel (loader-stripped.elf)`);
    expect(osv([disk, '--kernel', hello, '-e', '/x', '-p', 'x']).stderr).toContain('invalid port forward "x"');
    expect(osv(['/nonexistent.img']).stderr).toContain('cannot read image /nonexistent.img: no such file');
    expect(osv([], { cwd: tempDir() }).stderr).toContain('no image given and none found under .osv/');
  });

  it('a bootable image boots by itself; the newest image under .osv/ is the default', () => {
    const project = tempDir();
    const osvDir = join(project, '.osv');
    spawnSync('mkdir', ['-p', osvDir]);
    const img = buildBootDisk(osvDir, 'app', 'booted by itself\n');
    // Make it look like an OSv bootable image: a kernel ELF after the boot sector at 64 KiB.
    const bytes = readFileSync(img);
    readFileSync(hello).copy(bytes, 65536);
    writeFileSync(img, bytes);
    expect(newestImage(project)).toBe(img);
    const r = osv(['--accel', 'tcg'], { cwd: project });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('booted by itself');
    expect(osv(['-e', '/x'], { cwd: project }).stderr).toContain('-e needs direct kernel boot');
  });

  const start = (detached: boolean): ChildProcess =>
    spawn(process.execPath, [OSV, 'run', disk, '--kernel', hang, '-e', '--rootfs=rofs /srv', '--accel', 'tcg'], { env, cwd: dir, detached, stdio: ['pipe', 'pipe', 'pipe'] });

  const collect = (c: ChildProcess): { out: string; err: string } => {
    const o = { out: '', err: '' };
    c.stdout!.on('data', (d: Buffer) => (o.out += d.toString()));
    c.stderr!.on('data', (d: Buffer) => (o.err += d.toString()));
    return o;
  };

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
});
