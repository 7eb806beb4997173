// `osv run` boots a built image with what its build record says: the run settings of osv.yaml
// (memory, CPUs, ports, timeout), any named run's command line (--run), and the kernel of
// OSV_KERNEL given as a build directory. Flags override; -p adds forwards.

import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasGcc, hasTool } from '../helpers/tools.js';

const OSV = join(import.meta.dirname, '..', '..', 'bin', 'osv.js');
const canRun = hasGcc && hasTool('qemu-system-x86_64');
if (!canRun) console.warn('skipped: osv run from the build record: needs gcc (program and stand-in kernel) and qemu-system-x86_64');

let dir: string;
let env: NodeJS.ProcessEnv;
const run = (args: string[], extraEnv: NodeJS.ProcessEnv = {}) =>
  spawnSync(process.execPath, [OSV, 'run', '--dry-run', ...args], { cwd: dir, env: { ...env, ...extraEnv }, encoding: 'utf8' });

describe.runIf(canRun)('osv run from the build record', () => {
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'osv-run-record-'));
    writeFileSync(join(dir, 'hello.c'), '#include <stdio.h>\nint main(int c, char **v) { puts(c > 1 ? v[1] : "hi"); return 0; }\n');
    execFileSync('gcc', ['-fPIE', '-pie', '-o', join(dir, 'hello'), join(dir, 'hello.c')]);
    // A static x86-64 executable stands in for loader-stripped.elf: nothing boots in --dry-run.
    mkdirSync(join(dir, 'kernel'));
    execFileSync('gcc', ['-static', '-o', join(dir, 'kernel', 'loader-stripped.elf'), join(dir, 'hello.c')]);
    writeFileSync(
      join(dir, 'osv.yaml'),
      ['name: rec', 'cmd: [./hello, main]', 'run:', '  memory: 1G', '  cpus: 1', '  ports: ["8080:80"]', 'runs:', '  second:', '    cmd: [./hello, other]', '    run: {memory: 256M}', ''].join('\n'),
    );
    env = { ...process.env, HOME: dir, XDG_CACHE_HOME: join(dir, 'cache'), OSV_KERNEL: join(dir, 'kernel'), CI: '1' };
    delete env['OSV_QEMU'];
    const b = spawnSync(process.execPath, [OSV, 'build', '-q', '--no-check'], { cwd: dir, env, encoding: 'utf8' });
    if (b.status !== 0) throw new Error(b.stderr);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('takes memory, CPUs, ports and the command line from the record, and the ELF from OSV_KERNEL=DIR', () => {
    const r = run([]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain(' -m 1024M -smp 1 ');
    expect(r.stdout).toContain(`-kernel ${join(dir, 'kernel', 'loader-stripped.elf')} `);
    expect(r.stdout).toContain("-append '--rootfs=rofs /hello main'");
    expect(r.stdout).toContain('hostfwd=tcp:127.0.0.1:8080-:80');
  });

  it('--run NAME boots another run of the same image, with its settings', () => {
    const r = run(['--run', 'second']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain(' -m 256M -smp 1 ');
    expect(r.stdout).toContain("-append '--rootfs=rofs /hello other'");
  });

  it('flags override the record; -p adds a forward', () => {
    const r = run(['-m', '2G', '-c', '3', '-p', '9000:90']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain(' -m 2048M -smp 3 ');
    expect(r.stdout).toContain('hostfwd=tcp:127.0.0.1:8080-:80,hostfwd=tcp:127.0.0.1:9000-:90');
  });

  it('an unknown run is a usage error naming the runs there are', () => {
    const r = run(['--run', 'third']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('was built from a configuration without a run named "third"');
    expect(r.stderr).toContain('hint: runs: default, second');
  });

  it('OSV_KERNEL naming a directory without a kernel is a clear error', () => {
    const r = run([], { OSV_KERNEL: dir });
    expect(r.status).toBe(1);
    expect(r.stderr.split('\n')[0]).toBe(`error: OSV_KERNEL ${dir} has no OSv kernel`);
  });
});
