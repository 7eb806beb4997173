// `osv up` checks its VM flags before it builds anything: a typo costs no build.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { runOsv } from '../helpers/osv.js';

const dir = mkdtempSync(join(tmpdir(), 'osv-up-flags-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it.each([
  [['-p', 'x'], 'error: -p: invalid port mapping "x": expected "HOST:GUEST", "HOST:GUEST/udp" or "ADDRESS:HOST:GUEST"'],
  [['--accel', 'fast'], 'error: --accel must be one of auto, kvm, tcg, got "fast"'],
  [['-c', 'zero'], 'error: --cpus must be an integer from 1 to 255, got "zero"'],
  // What run.cpus in osv.yaml takes, no more: not 1.5 (was -smp 1), 256, 1e2 or 0x10.
  ...['1.5', '0', '256', '1000000', '1e2', '0x10', ' 2', '-1'].map((n) => [['-c', n], `error: --cpus must be an integer from 1 to 255, got "${n}"`] as [string[], string]),
  [['-e', ''], 'error: -e/--exec is empty: OSv needs a command line to run'],
  [['-e', '   '], 'error: -e/--exec is blank: OSv needs a command line to run'],
  [['--boot', 'disk'], 'error: --boot must be one of kernel, image, got "disk"'],
  [['--vnc', 'x'], 'error: --vnc must be an integer from 0 to 99, got "x"'],
  [['--gdb', '0x50'], 'error: --gdb must be an integer from 1 to 65535, got "0x50"'],
  [['--gdb', '1234', '--hypervisor', 'firecracker'], 'error: Firecracker has no gdb stub or VNC display'],
])('osv up %j is refused before building (exit 125: a usage error, not a program status; osv test: 2)', (args, message) => {
  writeFileSync(join(dir, 'osv.yaml'), 'cmd: [/usr/bin/true]\n');
  for (const [command, status] of [['up', 125], ['test', 2]] as const) {
    const r = runOsv([command, ...args], { cwd: dir, env: { ...process.env, OSV_KERNEL: '/nonexistent' } });
    expect([command, r.code]).toEqual([command, status]);
    expect(r.stderr.split('\n')[0]).toBe(message);
    expect(existsSync(join(dir, '.osv'))).toBe(false);
  }
});

it("osv run -e '' is refused before the image is read or a reference pulled", () => {
  for (const target of [join(dir, 'missing.img'), '127.0.0.1:5999/never/pulled:1']) {
    for (const e of ['', ' \t ']) {
      const r = runOsv(['run', target, '-e', e], { cwd: dir, env: { ...process.env, XDG_CACHE_HOME: join(dir, 'cache') } });
      expect(r.code, r.stderr).toBe(125);
      expect(r.stderr.split('\n')[0]).toBe(`error: -e/--exec is ${e === '' ? 'empty' : 'blank'}: OSv needs a command line to run`);
      expect(r.stderr).toContain('hint: give one, e.g. -e "--rootfs=rofs /hello", or leave -e out to boot the configured one');
    }
  }
});

it("osv run --qemu '' is refused (it was taken as no --qemu at all), as run.qemu: \"\" is in osv.yaml", () => {
  for (const target of [join(dir, 'missing.img'), '127.0.0.1:5999/never/pulled:1']) {
    for (const q of ['', '  ']) {
      const r = runOsv(['run', target, '--qemu', q], { cwd: dir, env: { ...process.env, XDG_CACHE_HOME: join(dir, 'cache') } });
      expect(r.code, r.stderr).toBe(125);
      expect(r.stderr.split('\n')[0]).toBe(`error: --qemu is ${q === '' ? 'empty' : 'blank'}`);
      expect(r.stderr).toContain('hint: give the QEMU binary, a path or a name on PATH (qemu-system-x86_64), or leave --qemu out');
    }
  }
});

it('osv run REF --kernel that is no kernel is refused before the reference is pulled', () => {
  const r = runOsv(['run', '127.0.0.1:5999/never/pulled:1', '--kernel', join(dir, 'no-such-kernel')], { cwd: dir, env: { ...process.env, XDG_CACHE_HOME: join(dir, 'cache') } });
  expect(r.code, r.stderr).toBe(125);
  expect(r.stderr.split('\n')[0]).toBe(`error: --kernel ${join(dir, 'no-such-kernel')} does not exist`);
  expect(r.stderr).not.toContain('127.0.0.1:5999');
});
