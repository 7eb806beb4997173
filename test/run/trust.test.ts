// What `osv run` and `osv inspect` will not take from an image or its record (issue #20): a qcow2
// image that reads another host file (a backing file: the guest would read it), and a program
// to run named by IMAGE.build.json (a shared image plus its record would run anything).

import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { findTool } from '../../src/image/tools.js';
import { ExitCode } from '../../src/diagnostics/error.js';
import { RECORD_VERSION } from '../../src/image/record.js';
import { canRun, cliFixture, type CliFixture } from './helpers/cli-env.js';
import { runOsv } from '../helpers/osv.js';

const qemuImg = findTool('qemu-img');
if (!canRun || !qemuImg) console.warn(`skipped: image trust tests need qemu-system-x86_64, gcc and qemu-img (${qemuImg ?? 'qemu-img missing'})`);

describe.skipIf(!canRun || !qemuImg)('images that read other host files', () => {
  let f: CliFixture;
  let evil = '';
  beforeAll(() => {
    f = cliFixture();
    // A qcow2 rebased onto a host file: the guest would see /etc/hostname as its disk.
    evil = join(f.dir, 'evil.qcow2');
    execFileSync(qemuImg!, ['create', '-q', '-f', 'qcow2', '-b', '/etc/hostname', '-F', 'raw', evil, '1M']);
  });
  const osv = (args: string[]) => runOsv(args, { env: f.env, timeout: 60_000, input: '', cwd: f.dir });

  it('osv run refuses a qcow2 image with a backing file, before QEMU starts', () => {
    const r = osv(['run', evil, '--kernel', f.hello, '-e', '--rootfs=rofs /hello', '--dry-run']);
    // osv run keeps 125 for its own failures (the program's status is passed through).
    expect(r.code).toBe(ExitCode.osvFailed);
    expect(r.stderr).toContain(`image ${evil} is a qcow2 image with backing file "/etc/hostname"`);
    expect(r.stderr).toContain('qemu-img convert -O qcow2');
    expect(r.stdout).toBe('');
  });

  it('osv run refuses it as a volume', () => {
    const r = osv(['run', f.disk, '--kernel', f.hello, '-e', '--rootfs=rofs /hello', '--volume', evil, '--dry-run']);
    expect(r.code).toBe(ExitCode.osvFailed);
    expect(r.stderr).toContain(`volume ${evil} is a qcow2 image with backing file "/etc/hostname"`);
  });

  it('osv inspect refuses it instead of converting it (which reads the backing file)', () => {
    const r = osv(['inspect', evil]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('backing file "/etc/hostname"');
  });

  it('osv run refuses a damaged qcow2 (a version QEMU does not read, a file cut short of its tables) before printing or starting QEMU', () => {
    const good = join(f.dir, 'good.qcow2');
    execFileSync(qemuImg!, ['convert', '-q', '-f', 'raw', '-O', 'qcow2', f.disk, good]);
    const bytes = readFileSync(good);
    const v0 = join(f.dir, 'v0.qcow2');
    const cut = join(f.dir, 'cut.qcow2');
    writeFileSync(v0, Buffer.concat([bytes.subarray(0, 4), Buffer.alloc(4), bytes.subarray(8)]));
    writeFileSync(cut, bytes.subarray(0, 70_000));
    for (const [file, why] of [
      [v0, 'qcow2 version 0 (QEMU reads versions 2 and 3)'],
      [cut, 'the file is 70000 bytes, and its'],
    ] as const) {
      const r = osv(['run', file, '--kernel', f.hello, '-e', '--rootfs=rofs /hello', '--dry-run']);
      expect(r.code, r.stderr).toBe(ExitCode.osvFailed);
      expect(r.stderr).toContain(`${file} is a damaged qcow2 image: ${why}`);
      expect(r.stdout).toBe('');
    }
  });

  it('a standalone qcow2 is still taken', () => {
    const plain = join(f.dir, 'plain.qcow2');
    execFileSync(qemuImg!, ['convert', '-q', '-f', 'raw', '-O', 'qcow2', f.disk, plain]);
    const r = osv(['run', plain, '--kernel', f.hello, '-e', '--rootfs=rofs /hello', '--dry-run']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`file=${plain},if=none,id=hd0,format=qcow2`);
  });
});

describe.skipIf(!canRun)('the build record is data', () => {
  let f: CliFixture;
  let marker = '';
  let evil = '';
  beforeAll(() => {
    f = cliFixture();
    marker = join(f.dir, 'ran');
    evil = join(f.dir, 'not-qemu.sh');
    writeFileSync(evil, `#!/bin/sh\necho ran > ${marker}\n`);
    chmodSync(evil, 0o755);
    const settings = { hypervisor: 'qemu', memory: 256 * 1024 * 1024, cpus: 1, ports: [], accel: 'tcg', network: { kind: 'user' }, volumes: [], qemu: evil };
    writeFileSync(
      `${f.disk}.build.json`,
      JSON.stringify({
        version: RECORD_VERSION,
        key: 'k',
        observations: [],
        env: [],
        image: { path: f.disk, size: 0, mtimeMs: 0 },
        cmdline: '--rootfs=rofs /hello',
        run: 'default',
        runs: [{ name: 'default', cmdline: '--rootfs=rofs /hello', settings }],
        arch: 'x86_64',
        project: { dir: f.dir, config: join(f.dir, 'osv.yaml') },
        filesystem: 'rofs',
        kernel: { elf: f.hello, sha256: '0'.repeat(64), origin: 'path', hiddenSymbols: false },
        totals: { files: 0, bytes: 0, libraries: 0 },
      }),
    );
  });
  const osv = (args: string[]) => runOsv(['run', ...args], { env: f.env, timeout: 60_000, input: '', cwd: f.dir });

  it('osv run IMAGE does not run the QEMU binary its record names, and says so', () => {
    const dry = osv([f.disk, '--dry-run', '--accel', 'tcg']);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout.startsWith(evil)).toBe(false);
    expect(dry.stdout).toMatch(/^\S*qemu-system-x86_64 /);
    expect(dry.stderr).toContain(`names the QEMU binary ${evil} (run.qemu); a record is not trusted to choose programs: pass --qemu ${evil} to use it`);
    const real = osv([f.disk, '--accel', 'tcg']);
    expect(real.code, real.stderr).toBe(0);
    expect(real.stdout).toContain('Hello from C code');
    expect(existsSync(marker)).toBe(false);
  });

  it('the user can still name it', () => {
    const r = osv([f.disk, '--qemu', evil, '--dry-run', '--accel', 'tcg']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.startsWith(evil)).toBe(true);
  });

  it('a --qemu that does not exist is named as the flag, not as run.qemu', () => {
    const r = osv([f.disk, '--qemu', join(f.dir, 'no-such-qemu'), '--dry-run', '--accel', 'tcg']);
    expect(r.code).toBe(ExitCode.osvFailed);
    expect(r.stderr).toContain(`QEMU binary '${join(f.dir, 'no-such-qemu')}' (from --qemu) does not exist or is not executable`);
    expect(r.stderr).toContain('hint: fix --qemu, or leave it out to use qemu-system-x86_64 from PATH');
  });
});
