// `osv run` as users run it (node bin/osv.js, built by the test setup): the command it prints,
// exit codes and messages. Signals and terminals: signals.test.ts.

import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { newestImage } from '../../src/run/cli.js';
import { parseMemoryFlag, parseNetworkFlag, parsePortFlag, settingsFromFlags } from '../../src/run/flag-settings.js';
import { canRun, cliFixture, qemu, VERBOSE_END, VERBOSE_HEAD, type CliFixture } from './helpers/cli-env.js';
import { buildBootDisk, hasGcc, tempDir } from './helpers/fake-guest.js';
import { runOsv } from '../helpers/osv.js';
import { freePort } from '../helpers/registry.js';

if (!canRun) console.warn(`skipped: osv run CLI tests need qemu-system-x86_64 (${qemu ?? 'missing'}) and gcc (${hasGcc})`);

describe('flag values', () => {
  it('memory, ports, network', () => {
    expect(parseMemoryFlag('512M')).toEqual({ ok: true, value: 512 * 2 ** 20 });
    expect(parseMemoryFlag('2G')).toEqual({ ok: true, value: 2 * 2 ** 30 });
    expect(parseMemoryFlag('1024')).toEqual({ ok: true, value: 2 ** 30 });
    expect(parseMemoryFlag('lots').ok).toBe(false);
    // As run.memory in osv.yaml: whole MiB, and at least 16 (refused before anything is built).
    const small = parseMemoryFlag('8');
    expect(small.ok || [small.error.code, small.error.message]).toEqual(['run.usage', 'invalid memory size "8": "8M" is less than the 16M a VM is given at least']);
    expect(parseMemoryFlag('1.5M').ok).toBe(false);
    expect(() => settingsFromFlags({ expect: 'x*' })).toThrow('--expect: "x*" matches an empty string, so every console line would pass (the firmware\'s first among them)');
    expect(() => settingsFromFlags({ expect: '(' })).toThrow(/^--expect: invalid regular expression/);
    expect(settingsFromFlags({ expect: 'Hello' }).set.expect).toBe('Hello');
    // As run.timeout: what a timer can hold (3000000 s fired after 1 ms, a timeout at once).
    expect(() => settingsFromFlags({ timeout: '3000000' })).toThrow('--timeout 3000000 is longer than osv can wait (at most 2147483 s, about 24.8 days)');
    expect(() => settingsFromFlags({ timeout: '0.0001' })).toThrow('--timeout 0.0001 is shorter than a millisecond');
    expect(settingsFromFlags({ timeout: '2147483' }).set.timeout).toBe(2147483);
    expect(() => settingsFromFlags({ exec: '' })).toThrow('-e/--exec is empty: OSv needs a command line to run');
    expect(() => settingsFromFlags({ exec: '  ' })).toThrow('-e/--exec is blank: OSv needs a command line to run');
    expect(() => settingsFromFlags({ exec: '--rootfs=rofs /hello' })).not.toThrow();
    expect(() => settingsFromFlags({ qemu: '' })).toThrow('--qemu is empty');
    expect(parsePortFlag('8080:80')).toEqual({ ok: true, value: { host: 8080, guest: 80, protocol: 'tcp' } });
    expect(parsePortFlag('5353:53/udp')).toEqual({ ok: true, value: { host: 5353, guest: 53, protocol: 'udp' } });
    expect(parsePortFlag('0.0.0.0:8000:8000')).toEqual({ ok: true, value: { host: 8000, guest: 8000, protocol: 'tcp', hostAddress: '0.0.0.0' } });
    // The same syntax as run.ports in osv.yaml: with an address, both ports are needed.
    const ambiguous = parsePortFlag('0.0.0.0:8000');
    expect(ambiguous.ok || ambiguous.error.message).toBe('-p: invalid port mapping "0.0.0.0:8000": with an address, give both ports (ADDRESS:HOST:GUEST)');
    expect(parsePortFlag('80:99999').ok).toBe(false);
    expect(parseNetworkFlag('tap:tap0')).toEqual({ ok: true, value: { kind: 'tap', name: 'tap0' } });
    expect(parseNetworkFlag('bridge').ok).toBe(false);
  });
});

describe.skipIf(!canRun)('osv run', () => {
  let f: CliFixture;
  let hello = '';
  let hang = '';
  let disk = '';
  let dir = '';
  beforeAll(() => {
    f = cliFixture();
    ({ hello, hang, disk, dir } = f);
  });

  const osv = (args: string[], opts: { cwd?: string } = {}) => runOsv(['run', ...args], { env: f.env, timeout: 60_000, input: '', cwd: opts.cwd ?? dir });

  it('--dry-run prints the exact QEMU command, shell-quoted, and starts nothing; an image without a build record boots through a throwaway overlay', async () => {
    // A free host port: the printed command is run below, and a fixed one (8080) was sometimes
    // held by a test running beside this one (the node-http example forwards 8080).
    const port = await freePort();
    const r = osv([disk, '--kernel', hello, '-e', '--rootfs=rofs /hello a b', '-p', `${port}:80`, '--ci', '--dry-run', '--accel', 'tcg']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      `${qemu} -accel tcg -cpu max -m 512M -smp 2 -nographic -nodefaults -serial stdio -no-reboot -kernel ${hello} -append '--rootfs=rofs --verbose --power-off-on-abort /hello a b' ` +
        `-drive file=${disk},if=none,id=hd0,format=raw,cache=writeback,snapshot=on -device virtio-blk-pci,id=blk0,drive=hd0 ` +
        `-netdev user,id=un0,net=192.168.122.0/24,host=192.168.122.1,hostfwd=tcp:127.0.0.1:${port}-:80 -device virtio-net-pci,netdev=un0,romfile= -device virtio-rng-pci\n`,
    );
    // The printed command runs as is.
    const again = spawnSync('sh', ['-c', r.stdout.trim()], { encoding: 'utf8', timeout: 30_000, input: '' });
    expect(again.status).toBe(0);
    expect(again.stdout).toContain('Cmdline: --rootfs=rofs --verbose --power-off-on-abort /hello a b');
  });

  it('--dry-run --json describes the run', () => {
    const r = osv([disk, '--kernel', hello, '-e', '/x', '--dry-run', '--json', '--accel', 'tcg']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout) as { command: string[]; accel: string; hypervisor: string };
    expect(j.command[0]).toBe(qemu);
    expect(j).toMatchObject({ accel: 'tcg', hypervisor: 'qemu' });
  });

  it('a guest that powers off: exit 0, the console on stdout; --ci prints the verdict', () => {
    const r = osv([disk, '--kernel', hello, '-e', '--rootfs=rofs /hello', '--ci', '--expect', 'Hello']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Hello from C code');
    if (!existsSync('/dev/kvm')) expect(r.stderr).toContain('osv: note: KVM is not usable here: /dev/kvm does not exist; using TCG software emulation (slower)');
    expect(r.stderr).toContain('osv: passed: the program exited with status 0; /Hello/ matched "Hello from C code"');
    // Only the program's lines and OSv's usual ones: the debug lines --verbose adds are hidden.
    expect(r.stdout).not.toMatch(/VFS: |ROFS: |Powering off/);
    const plain = osv([disk, '--kernel', hello, '-e', '--rootfs=rofs /hello']);
    expect(plain.code).toBe(0);
    expect(plain.stderr).not.toContain('passed');
  });

  it('the program\'s exit status is the exit code, like docker run; --ci fails on it naming the status', () => {
    const r = osv([disk, '--kernel', f.exit3, '-e', '--rootfs=rofs /hello']);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('osv: the program exited with status 3\n');
    // Not reported as a failure of osv's (a note may quote QEMU's own words, "error:" among them).
    expect(r.stderr).not.toMatch(/^(osv: )?error/m);
    // A pipe gets LF line endings, so that `osv run | grep '^Hello from C code$'` works.
    expect(r.stdout).toMatch(/^Hello from C code$/m);
    expect(r.stdout).not.toContain('\r');
    const ci = osv([disk, '--kernel', f.exit3, '-e', '--rootfs=rofs /hello', '--ci']);
    expect(ci.code).toBe(4);
    expect(ci.stderr).toContain('error: the program exited with status 3: console line 5: "program exited with status 3"');
    const json = osv([disk, '--kernel', f.exit3, '-e', '--rootfs=rofs /hello', '--json']);
    expect(json.code).toBe(3);
    const j = JSON.parse(json.stdout) as { exitStatus: number; kernelLog: string[] };
    expect(j.exitStatus).toBe(3);
    expect(j.kernelLog).toContain('program exited with status 3');
  });

  it('osv test FILE boots the image file in CI mode, as osv run FILE --ci does (it was taken for a registry name)', () => {
    const project = tempDir();
    const image = (name: string, text: string): string => {
      const img = buildBootDisk(project, name, `${VERBOSE_HEAD}Cmdline: /app\n${text}${VERBOSE_END}`);
      const bytes = readFileSync(img);
      readFileSync(hello).copy(bytes, 65536); // an OSv bootable image: a kernel ELF at 64 KiB
      writeFileSync(img, bytes);
      return img;
    };
    const test = (args: string[]) => runOsv(['test', ...args, '--accel', 'tcg'], { env: f.env, timeout: 60_000, input: '', cwd: project });
    const pass = test([image('good', 'all good\n'), '--expect', '^all good$']);
    expect(pass.code).toBe(0);
    expect(pass.stderr).toContain('osv: passed: the program exited with status 0; /^all good$/ matched "all good"');
    const fail = test([image('bad', 'program exited with status 3\n')]);
    expect(fail.code).toBe(4);
    expect(fail.stderr).toContain('error: the program exited with status 3');
    expect(test(['missing.img']).stderr).toContain(`cannot read image ${join(project, 'missing.img')}: no such file`);
  });

  it('a guest failure without a status: 126 and a one-line reason; --ci: 4', () => {
    const r = osv([disk, '--kernel', hang, '-e', '/x', '--timeout', '4', '--accel', 'tcg']);
    expect(r.code).toBe(126);
    expect(r.stderr).toContain('error: timed out after 4 s; last console line: "waiting"\n');
    const ci = osv([disk, '--kernel', hang, '-e', '/x', '--timeout', '4', '--accel', 'tcg', '--ci']);
    expect(ci.code).toBe(4);
  });

  it('usage errors exit 125 (2 under --ci) and say what to do', () => {
    expect(osv([disk, '-e', '/x', '--ci']).code).toBe(2);
    const noKernel = osv([disk, '-e', '/x']);
    expect(noKernel.code).toBe(125);
    expect(noKernel.stderr).toContain(`error: ${disk} has no kernel inside (a \`disk\` image), so direct kernel boot needs the OSv kernel (loader-stripped.elf)`);
    expect(noKernel.stderr).toContain('hint: pass --kernel PATH or set OSV_KERNEL');
    const badPort = osv([disk, '--kernel', hello, '-e', '/x', '-p', 'x']);
    expect(badPort.code).toBe(125);
    expect(osv([disk, '--bogus']).code).toBe(125);
    expect(badPort.stderr).toContain('error: -p: invalid port mapping "x": expected "HOST:GUEST", "HOST:GUEST/udp" or "ADDRESS:HOST:GUEST"');
  });

  it('a file that is not an OSv image (no partition table) is refused before anything boots; as a volume it is attached', () => {
    for (const [name, bytes] of [['zeros.img', Buffer.alloc(1024 * 1024)], ['notes.txt', Buffer.from('not a disk\n'.repeat(100))]] as const) {
      const junk = join(dir, name);
      writeFileSync(junk, bytes);
      const r = osv([junk, '--kernel', hello, '-e', '/x', '--accel', 'tcg']);
      expect(r.code, r.stderr).toBe(125);
      expect(r.stderr).toContain(`error: ${junk} is not an OSv image: its first sector has no partition table (no 55 AA at byte 510)`);
      expect(r.stderr).toContain('osv inspect FILE');
      expect(r.stdout).toBe('');
      expect(osv([junk, '--kernel', hello, '-e', '/x', '--ci']).code).toBe(1);
    }
    const volume = osv([disk, '--kernel', hello, '-e', '/x', '--volume', join(dir, 'zeros.img'), '--dry-run', '--accel', 'tcg']);
    expect(volume.code, volume.stderr).toBe(0);
    expect(volume.stdout).toContain(`file=${join(dir, 'zeros.img')},`);
  });

  it('a missing image, or none under .osv/, is named', () => {
    expect(osv(['/nonexistent.img']).stderr).toContain('cannot read image /nonexistent.img: no such file');
    expect(newestImage(tempDir())).toBeUndefined();
  });

  it('a bootable image boots by itself; the newest image under .osv/ is the default', () => {
    const project = tempDir();
    const osvDir = join(project, '.osv');
    spawnSync('mkdir', ['-p', osvDir]);
    const img = buildBootDisk(osvDir, 'app', `${VERBOSE_HEAD}Cmdline: /app\nbooted by itself\n${VERBOSE_END}`);
    // Make it look like an OSv bootable image: a kernel ELF after the boot sector at 64 KiB.
    const bytes = readFileSync(img);
    readFileSync(hello).copy(bytes, 65536);
    writeFileSync(img, bytes);
    expect(newestImage(project)).toBe(img);
    const r = osv(['--accel', 'tcg'], { cwd: project });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('booted by itself');
    expect(osv(['-e', '/x'], { cwd: project }).stderr).toContain('-e needs direct kernel boot');
  });
});
