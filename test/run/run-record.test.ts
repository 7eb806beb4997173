// `osv run` boots a built image with what its build record says: the run settings of osv.yaml
// (memory, CPUs, ports, volumes), any named run's command line (--run), and the kernel of
// OSV_KERNEL given as a build directory or a loader.img. Flags override; -p adds or remaps forwards.

import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasGcc, hasTool } from '../helpers/tools.js';
import { projectVolumesDir } from '../../src/volumes/paths.js';
import { runOsv } from '../helpers/osv.js';

const canRun = hasGcc && hasTool('qemu-system-x86_64');
if (!canRun) console.warn('skipped: osv run from the build record: needs gcc (program and stand-in kernel) and qemu-system-x86_64');

let dir: string;
let env: NodeJS.ProcessEnv;
const run = (args: string[], extraEnv: NodeJS.ProcessEnv = {}) => runOsv(['run', '--dry-run', ...args], { cwd: dir, env: { ...env, ...extraEnv } });
const build = (args: string[]) => runOsv(['build', '-q', '--no-check', ...args], { cwd: dir, env });

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
      ['name: rec', 'cmd: [./hello, main]', 'run:', '  memory: 1G', '  cpus: 1', '  ports: ["8080:80"]', '  volumes: [./data.img]', 'runs:', '  second:', '    cmd: [./hello, other]', '    run: {memory: 256M}', '  state:', '    cmd: [./hello, state]', '    run: {volumes: [{name: state, dest: /state, size: 32M}]}', ''].join('\n'),
    );
    writeFileSync(join(dir, 'data.img'), Buffer.alloc(1024 * 1024));
    // A loader.img beside it (a boot sector, and the kernel ELF from 64 KiB on) lets the same
    // kernel build bootable images.
    const img = Buffer.alloc(128 * 1024);
    img[510] = 0x55;
    img[511] = 0xaa;
    img.write('\x7fELF', 64 * 1024, 'latin1');
    writeFileSync(join(dir, 'kernel', 'loader.img'), img);
    // OSv's ext module beside it, for the named volume (the plan only looks at the files).
    for (const f of ['libext.so', 'liblwext4.so']) writeFileSync(join(dir, 'kernel', f), f);
    env = { ...process.env, HOME: dir, XDG_CACHE_HOME: join(dir, 'cache'), XDG_DATA_HOME: join(dir, 'data'), OSV_KERNEL: join(dir, 'kernel'), CI: '1' };
    delete env['OSV_QEMU'];
    for (const extra of [[], ['--output', 'bootable', '-o', join(dir, 'boot.img')]]) {
      const b = build(extra);
      if (b.code !== 0) throw new Error(b.stderr);
    }
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('takes memory, CPUs, ports and the command line from the record, and the ELF from OSV_KERNEL=DIR', () => {
    const r = run([]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(' -m 1024M -smp 1 ');
    expect(r.stdout).toContain(`-kernel ${join(dir, 'kernel', 'loader-stripped.elf')} `);
    expect(r.stdout).toContain("-append '--rootfs=rofs --verbose /hello main !'");
    expect(r.stdout).toContain('hostfwd=tcp:127.0.0.1:8080-:80');
  });

  it('--run NAME boots another run of the same image, with its settings', () => {
    const r = run(['--run', 'second']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(' -m 256M -smp 1 ');
    expect(r.stdout).toContain("-append '--rootfs=rofs --verbose /hello other !'");
  });

  it('without --run, boots the run the image was last built or found up to date for', () => {
    const img = join(dir, '.osv', 'rec.img');
    expect(build(['--run', 'second']).code).toBe(0);
    expect(run([img]).stdout).toContain("-append '--rootfs=rofs --verbose /hello other !'");
    expect(build([]).code).toBe(0);
    expect(run([img]).stdout).toContain("-append '--rootfs=rofs --verbose /hello main !'");
  });

  it('a named volume: a dry run shows where it will be and how it is mounted, and makes nothing; -e gets the mount too', () => {
    const home = projectVolumesDir(dir, env);
    const r = run(['--run', 'state']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("-append '--rootfs=rofs --verbose --mount-fs=ext,/dev/vblk2,/state /hello state !'");
    expect(r.stdout).toContain(`file=${join(dir, '.osv', 'rec.img')},if=none,id=hd0,format=raw,cache=writeback,readonly=on `);
    expect(r.stdout).toContain(`file=${join(dir, 'data.img')},if=none,id=hd1,format=raw,cache=writeback `);
    expect(r.stdout).toContain(`file=${join(home, 'state.ext4')},if=none,id=hd2,format=raw,cache=writeback `);
    expect(r.stderr).toContain(`osv: note: volume "state" does not exist yet: the run makes it (32 MiB ext4) at ${join(home, 'state.ext4')}`);
    expect(existsSync(home)).toBe(false);
    const e = run(['--run', 'state', '-e', '--rootfs=rofs /hello by-hand']);
    expect(e.stdout).toContain("-append '--rootfs=rofs --verbose --mount-fs=ext,/dev/vblk2,/state /hello by-hand'");
  });

  it('--gdb-wait turns the timeout off, and says so', () => {
    const r = runOsv(['run', join(dir, '.osv', 'rec.img'), '--dry-run', '--gdb', '1234', '--gdb-wait', '--timeout', '5'], { cwd: dir, env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('osv: note: --gdb-wait: no timeout (it would stop the guest while the debugger holds it; 5 s was set)');
  });

  it('flags override the record; -p adds a forward or remaps a recorded one; --volume PATH:ro replaces a recorded volume', () => {
    const img = join(dir, '.osv', 'rec.img');
    const r = run([img, '-m', '2G', '-c', '3', '-p', '9000:90']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(' -m 2048M -smp 3 ');
    expect(r.stdout).toContain('hostfwd=tcp:127.0.0.1:8080-:80,hostfwd=tcp:127.0.0.1:9000-:90');
    expect(r.stdout).toContain(`file=${join(dir, 'data.img')},if=none,id=hd1,format=raw`);
    const remap = run([img, '-p', '8080:8000', '--volume', `${join(dir, 'data.img')}:ro`]);
    expect(remap.code, remap.stderr).toBe(0);
    expect(remap.stdout).toContain('hostfwd=tcp:127.0.0.1:8080-:8000 ');
    expect(remap.stdout).not.toContain('8080-:80,');
    expect(remap.stdout.match(/data\.img/g)).toHaveLength(1);
    expect(remap.stdout).toContain(`file=${join(dir, 'data.img')},if=none,id=hd1,format=raw,cache=writeback,readonly=on`);
  });

  it('a bootable image boots from its boot sector; --run of its own run is fine, of another run needs direct boot', () => {
    const img = join(dir, 'boot.img');
    const own = run([img, '--boot', 'image', '--run', 'default']);
    expect(own.code, own.stderr).toBe(0);
    expect(own.stdout).not.toContain('-kernel');
    const other = run([img, '--boot', 'image', '--run', 'second']);
    expect(other.code).toBe(125);
    expect(other.stderr).toContain('a bootable image runs the command line written inside it; --run needs direct kernel boot');
    // --boot image never looks at the kernel, even one that could not be booted directly.
    const imgOnly = join(dir, 'img-only');
    mkdirSync(imgOnly, { recursive: true });
    writeFileSync(join(imgOnly, 'loader.img'), readFileSync(join(dir, 'kernel', 'loader.img')));
    expect(run([img, '--boot', 'image'], { OSV_KERNEL: imgOnly }).code).toBe(0);
  });

  it('OSV_KERNEL naming a loader.img boots the loader-stripped.elf beside it; an empty one counts as unset', () => {
    const viaImg = run([join(dir, '.osv', 'rec.img')], { OSV_KERNEL: join(dir, 'kernel', 'loader.img') });
    expect(viaImg.code, viaImg.stderr).toBe(0);
    expect(viaImg.stdout).toContain(`-kernel ${join(dir, 'kernel', 'loader-stripped.elf')} `);
    const empty = run([join(dir, '.osv', 'rec.img')], { OSV_KERNEL: '' });
    expect(empty.code, empty.stderr).toBe(0);
    expect(empty.stdout).toContain(`-kernel ${join(dir, 'kernel', 'loader-stripped.elf')} `);
  });

  it('a record from an older osv-up is named, with the fix', () => {
    const img = join(dir, 'old.img');
    copyFileSync(join(dir, '.osv', 'rec.img'), img);
    writeFileSync(`${img}.build.json`, JSON.stringify({ version: 2, cmdline: '--rootfs=rofs --verbose /hello' }));
    const r = run([img], { OSV_KERNEL: '' });
    expect(r.code).toBe(125);
    expect(r.stderr).toContain(`hint: ${img}.build.json is from an older osv-up: rebuild the image with \`osv build\``);
  });

  it('--gdb PORT [--gdb-wait] and --vnc DISPLAY add the debugging devices; bad values are usage errors', () => {
    const r = run(['--gdb', '1234', '--gdb-wait', '--vnc', '3']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(' -gdb tcp:127.0.0.1:1234 -S -vnc 127.0.0.1:3 -device VGA');
    expect(r.stdout).toContain(' -display none ');
    expect(run([]).stdout).not.toMatch(/-gdb|-vnc/);
    const wait = run(['--gdb-wait']);
    expect(wait.code).toBe(125);
    expect(wait.stderr.split('\n')[0]).toBe('error: --gdb-wait needs --gdb PORT');
    const port = run(['--gdb', '70000']);
    expect(port.code).toBe(125);
    expect(port.stderr.split('\n')[0]).toBe('error: --gdb must be an integer from 1 to 65535, got "70000"');
  });

  it('an unknown run is a usage error naming the runs there are', () => {
    const r = run(['--run', 'third']);
    expect(r.code).toBe(125);
    expect(r.stderr).toContain('was built from a configuration without a run named "third"');
    expect(r.stderr).toContain('hint: runs: default, second');
  });

  it('OSV_KERNEL naming a directory without a kernel is a clear error', () => {
    const r = run([], { OSV_KERNEL: dir });
    expect(r.code).toBe(125);
    expect(r.stderr.split('\n')[0]).toBe(`error: OSV_KERNEL ${dir} has no OSv kernel`);
  });
});
