// `osv build` as a process: an unchanged project is found up to date from the build records
// alone (no configuration loaded); any change to what the configuration or the plan read
// (a config file, an environment variable it used, PATH, the kernel) takes the full path.

import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { probed } from '../helpers/loaded-files.js';
import { lacks } from '../helpers/skip.js';
import { hasGcc, hasTool, onPath } from '../helpers/tools.js';
import { buildFakeKernel } from '../run/helpers/fake-guest.js';
import { runOsv } from '../helpers/osv.js';

const hasQemu = hasTool('qemu-system-x86_64');
if (!hasGcc) console.warn('skipped: no-op build tests: gcc is not installed (it builds the program and the stand-in kernel)');
if (hasGcc && !onPath('python3')) console.warn('skipped: the no-op build\'s output to a full non-blocking pipe: python3 is not installed (it makes the pipe)');

let dir: string;
let env: NodeJS.ProcessEnv;

interface Outcome {
  upToDate: boolean;
  fromRecords?: boolean;
  reason?: string;
  cmdline: string;
}

function build(extraEnv: NodeJS.ProcessEnv = {}, args: string[] = [], cwd = dir): Outcome {
  const r = runOsv(['build', '--json', '--no-check', ...args], { cwd, env: { ...env, ...extraEnv } });
  if (r.code !== 0) throw new Error(`osv build failed (${r.code}): ${r.stderr}`);
  // JSON events (one per line), then the result as one indented document.
  const at = r.stdout.lastIndexOf('\n{\n');
  return JSON.parse(at < 0 ? r.stdout : r.stdout.slice(at + 1)) as Outcome;
}

/** The command line the image's record boots with (what is printed masks ${env:...} values). */
const recordedCmdline = (): string => (JSON.parse(readFileSync(join(dir, '.osv', 'demo.img.build.json'), 'utf8')) as { cmdline: string }).cmdline;

describe.skipIf(!hasGcc)('no-op builds from the records', () => {
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'osv-noop-'));
    writeFileSync(join(dir, 'hello.c'), '#include <stdio.h>\nint main(void) { puts("hi"); return 0; }\n');
    execFileSync('gcc', ['-fPIE', '-pie', '-o', join(dir, 'hello'), join(dir, 'hello.c')]);
    mkdirBin();
    // Two stand-ins for loader-stripped.elf (the tests' fake guest, which QEMU boots as it boots
    // OSv's): it echoes the command line it was given, as OSv does, and powers off.
    // With a line of OSv's --verbose log on each side, so that a clean power-off tells status 0.
    for (const k of ['k1', 'k2'])
      buildFakeKernel(join(dir, k), 'loader-stripped', { head: `OSv (fake ${k})\nVFS: mounting rofs at /rofs\n`, echo: true, tail: 'Hello from the fake guest\nPowering off.\n', end: 'reset', elf64: true });
    writeFileSync(join(dir, 'osv.yaml'), 'name: demo\ncmd: [hi, "${env:GREETING:-hello}"]\n');
    env = { PATH: `${join(dir, 'bin')}:/usr/bin:/bin`, HOME: dir, XDG_CACHE_HOME: join(dir, 'cache'), OSV_KERNEL: join(dir, 'k1'), CI: '1' };
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function mkdirBin(): void {
    for (const d of ['bin', 'bin2', 'k1', 'k2']) execFileSync('mkdir', ['-p', join(dir, d)]);
    execFileSync('cp', [join(dir, 'hello'), join(dir, 'bin', 'hi')]);
    execFileSync('cp', [join(dir, 'hello'), join(dir, 'bin2', 'hi')]);
  }

  it('the first build plans; the next one is answered from the records', () => {
    const first = build();
    expect(first.upToDate).toBe(false);
    expect(first.cmdline).toBe('--rootfs=rofs --verbose /hi hello !');
    const second = build();
    expect(second).toMatchObject({ upToDate: true, fromRecords: true, cmdline: '--rootfs=rofs --verbose /hi hello !' });
  });

  it('an environment variable the configuration used changes the build', () => {
    const changed = build({ GREETING: 'bonjour' });
    expect(changed.upToDate).toBe(false);
    // A value from the environment is a secret: the build prints ***, the image gets the value.
    expect(changed.cmdline).toBe('--rootfs=rofs --verbose /hi *** !');
    expect(recordedCmdline()).toBe('--rootfs=rofs --verbose /hi bonjour !');
    expect(build({ GREETING: 'bonjour' }).fromRecords).toBe(true);
  });

  it('PATH, which the planner used to find the program, changes the build', () => {
    const moved = build({ GREETING: 'bonjour', PATH: `${join(dir, 'bin2')}:/usr/bin:/bin` });
    expect(moved.upToDate).toBe(false);
    expect(moved.reason).toBe('$PATH changed');
  });

  it('another kernel changes the build', () => {
    const k = build({ GREETING: 'bonjour', PATH: `${join(dir, 'bin2')}:/usr/bin:/bin`, OSV_KERNEL: join(dir, 'k2') });
    expect(k.upToDate).toBe(false);
  });

  it.skipIf(lacks('osv up from the records', [hasQemu, 'qemu-system-x86_64 is not installed']))(
    'osv up boots an unchanged image from the records (the guest echoes the recorded command line and powers off); --dry-run shows the recorded run settings',
    () => {
      const base = { GREETING: 'bonjour', PATH: `${join(dir, 'bin2')}:/usr/bin:/bin`, OSV_KERNEL: join(dir, 'k2') };
      appendFileSync(join(dir, 'osv.yaml'), 'run: {memory: 256M, cpus: 1}\n');
      expect(build(base).upToDate).toBe(false);
      const image = join(dir, '.osv', 'demo.img');
      const built = statSync(image).mtimeMs;
      const dry = runOsv(['up', '--dry-run', '--json', '--no-check', '-p', '8080:80'], { cwd: dir, env: { ...env, ...base } });
      expect(dry.code, dry.stderr).toBe(0);
      const up = JSON.parse(dry.stdout) as { fromRecords: boolean; command: string[] };
      expect(up.fromRecords).toBe(true);
      const args = up.command.join(' ');
      expect(args).toContain('-m 256');
      expect(args).toContain('-smp 1');
      expect(args).toContain('hostfwd=tcp:127.0.0.1:8080-:80');
      expect(args).toContain('-append --rootfs=rofs --verbose /hi *** !');
      // Now for real: QEMU boots the kernel with the recorded command line and the image as it is.
      const r = runOsv(['up', '--ci', '--no-check', '--accel', 'tcg', '--expect', '^Hello from the fake guest$', '--timeout', '60'], {
        cwd: dir,
        env: { ...env, ...base },
        input: '',
        timeout: 90_000,
      });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain('OSv (fake k2)');
      expect(r.stdout).toContain('Cmdline: --rootfs=rofs --verbose --power-off-on-abort /hi bonjour !\n');
      expect(r.stderr).toContain('osv: passed: the program exited with status 0; /^Hello from the fake guest$/ matched');
      expect(statSync(image).mtimeMs).toBe(built);
    },
  );

  it('one disk image serves every run; a bootable image written over it is not taken for it', () => {
    const base = { GREETING: 'bonjour', PATH: `${join(dir, 'bin2')}:/usr/bin:/bin`, OSV_KERNEL: join(dir, 'k2') };
    appendFileSync(join(dir, 'osv.yaml'), 'runs: {other: {cmd: [hi, other]}}\n');
    // A stand-in loader.img (a boot sector, the kernel ELF at 64 KiB) for the bootable build.
    const loader = Buffer.alloc(128 * 1024);
    loader[510] = 0x55;
    loader[511] = 0xaa;
    loader.write('\x7fELF', 64 * 1024, 'latin1');
    writeFileSync(join(dir, 'k2', 'loader.img'), loader);
    expect(build(base)).toMatchObject({ upToDate: false, cmdline: '--rootfs=rofs --verbose /hi *** !' });
    // Another run of the same disk image: nothing to build, and its own command line.
    expect(build(base, ['--run', 'other'])).toMatchObject({ upToDate: true, cmdline: '--rootfs=rofs --verbose /hi other !' });
    expect(build(base)).toMatchObject({ upToDate: true, fromRecords: true, cmdline: '--rootfs=rofs --verbose /hi *** !' });
    expect(build(base, ['--run', 'other'])).toMatchObject({ upToDate: true, fromRecords: true, cmdline: '--rootfs=rofs --verbose /hi other !' });
    // A bootable image written to the same file: the disk build's records no longer answer.
    const img = join(dir, '.osv', 'demo.img');
    expect(build(base, ['--output', 'bootable', '-o', img, '--force'])).toMatchObject({ upToDate: false });
    expect(build(base)).toMatchObject({ upToDate: false, reason: 'the configuration, kernel or build options changed' });
  });

  it('an edited configuration file changes the build', () => {
    const base = { GREETING: 'bonjour', PATH: `${join(dir, 'bin2')}:/usr/bin:/bin`, OSV_KERNEL: join(dir, 'k2') };
    expect(build(base).fromRecords).toBe(true);
    appendFileSync(join(dir, 'osv.yaml'), 'env: {A: b}\n');
    const edited = build(base);
    expect(edited.upToDate).toBe(false);
    expect(edited.cmdline).toBe('--rootfs=rofs --verbose --env=A=b /hi *** !');
    expect(recordedCmdline()).toBe('--rootfs=rofs --verbose --env=A=b /hi bonjour !');
    expect(build(base).fromRecords).toBe(true);
  });

  const probedBuild = (args: string[], cwd: string, extraEnv: NodeJS.ProcessEnv) => probed(args, { cwd, env: { ...env, ...extraEnv } });

  it('an up-to-date build is answered by the start alone, before commander is loaded, with -C DIR too', () => {
    const base = { GREETING: 'bonjour', PATH: `${join(dir, 'bin2')}:/usr/bin:/bin`, OSV_KERNEL: join(dir, 'k2') };
    const fast = probedBuild(['-C', dir, 'build', '--json', '--no-check'], tmpdir(), base);
    expect(fast.status, fast.errors).toBe(0);
    expect(JSON.parse(fast.stdout)).toMatchObject({ upToDate: true, fromRecords: true, cmdline: '--rootfs=rofs --verbose --env=A=b /hi *** !' });
    expect(fast.own).toEqual(['start.cjs']);
    expect(fast.packages).toEqual([]);
    // The probe does see the CLI where it is used: help is commander's, in the build's bundle.
    const help = probedBuild(['build', '--help'], dir, base);
    expect(help.stdout).toContain('--no-check');
    expect(help.own).toEqual(['start.cjs', 'commands/build.cjs']);
  });

  // A descriptor another program left non-blocking can refuse a write (EAGAIN); output.ts then
  // hands the rest to Node's stream, which the fast path waits for before it exits.
  it.skipIf(!onPath('python3'))('an up-to-date build\'s output reaches a full non-blocking pipe, which is read a second later', () => {
    const base = { GREETING: 'bonjour', PATH: `${join(dir, 'bin2')}:/usr/bin:/bin`, OSV_KERNEL: join(dir, 'k2') };
    build(base);
    const script = [
      'import os, subprocess, sys, time',
      'r, w = os.pipe()',
      'os.set_blocking(w, False)',
      'filled = 0',
      'try:',
      '    while True: filled += os.write(w, b"x" * 4096)',
      'except BlockingIOError: pass',
      'p = subprocess.Popen(sys.argv[1:], stdout=w)',
      'os.close(w)',
      'time.sleep(1)',
      'data = b""',
      'while True:',
      '    chunk = os.read(r, 65536)',
      '    if not chunk: break',
      '    data += chunk',
      'sys.stdout.buffer.write(data[filled:])',
      'sys.exit(p.wait())',
    ].join('\n');
    const out = execFileSync('python3', ['-c', script, process.execPath, join(import.meta.dirname, '..', '..', 'bin', 'osv.js'), 'build', '--json', '--no-check'], { cwd: dir, env: { ...env, ...base }, encoding: 'utf8' });
    expect(JSON.parse(out)).toMatchObject({ upToDate: true, fromRecords: true });
  });

  it('-o naming a directory is a usage error before anything is planned or written (the rename at the end failed)', () => {
    mkdirSync(join(dir, 'outdir'), { recursive: true });
    const r = runOsv(['build', '--no-check', '-o', 'outdir'], { cwd: dir, env });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('error: outdir is a directory: the image is written to a file of that name\n  hint: give a file name, e.g. -o outdir/demo.img\n');
    expect(readdirSync(join(dir, 'outdir'))).toEqual([]);
  });

  it('-C DIR with a relative -o is read from inside DIR, on the fast path as on the full one', () => {
    const base = { GREETING: 'bonjour', PATH: `${join(dir, 'bin2')}:/usr/bin:/bin`, OSV_KERNEL: join(dir, 'k2') };
    for (const sub of ['a', 'b']) mkdirSync(join(dir, sub), { recursive: true });
    const args = ['--config', '../osv.yaml', '-o', 'out.img'];
    expect(build(base, args, join(dir, 'a')).upToDate).toBe(false);
    const fast = probedBuild(['-C', join(dir, 'a'), 'build', '--json', '--no-check', ...args], tmpdir(), base);
    expect(fast.status, fast.errors).toBe(0);
    expect(JSON.parse(fast.stdout)).toMatchObject({ upToDate: true, fromRecords: true, image: 'out.img' });
    expect(fast.own).toEqual(['start.cjs']);
    // The same words in another directory name another image.
    expect(build(base, args, join(dir, 'b')).upToDate).toBe(false);
    expect(existsSync(join(dir, 'b', 'out.img'))).toBe(true);
    // A -C that cannot be entered is commander's usage error, even where the records would answer.
    const missing = probedBuild(['-C', join(dir, 'nowhere'), 'build', '--json', '--no-check', '--config', join(dir, 'osv.yaml')], dir, base);
    expect(missing.status).toBe(2);
    expect(missing.stdout).toContain('no such directory'); // --json: the error is JSON on stdout
    // A file or a loop of links: said in words, not as Node's "ENOTDIR: not a directory, chdir ...".
    writeFileSync(join(dir, 'a-file'), '');
    const file = probedBuild(['-C', join(dir, 'a-file'), 'build', '--no-check', '--config', join(dir, 'osv.yaml')], dir, base);
    expect(file.status).toBe(2);
    expect(file.errors).toContain(`error: -C ${join(dir, 'a-file')}: not a directory`);
  });
});

// One disk image serves every run, but the symbol check is strict only for the run it was built
// for: another run reuses the image and is checked before it is reported ready.
describe.skipIf(!hasGcc)('runs sharing one disk image', () => {
  let d: string;
  let denv: NodeJS.ProcessEnv;
  const osv = (args: string[]) => runOsv(args, { cwd: d, env: denv });
  beforeAll(() => {
    d = mkdtempSync(join(tmpdir(), 'osv-noop-runs-'));
    const c = (name: string, text: string): string => (writeFileSync(join(d, `${name}.c`), text), join(d, `${name}.c`));
    execFileSync('gcc', ['-fPIE', '-pie', '-o', join(d, 'hello'), c('hello', '#include <stdio.h>\nint main(void) { puts("hi"); return 0; }\n')]);
    // bprog reads a variable of libd.so, which is gone after linking: a data symbol nobody provides.
    execFileSync('gcc', ['-shared', '-fPIC', '-o', join(d, 'libd.so'), c('d', 'int d = 7;\n')]);
    execFileSync('gcc', ['-fPIE', '-pie', '-o', join(d, 'bprog'), c('bprog', 'extern int d;\nint main(void) { return d; }\n'), `-L${d}`, '-ld']);
    rmSync(join(d, 'libd.so'));
    // A stand-in kernel with a dynamic symbol table (what the check reads), like
    // loader-stripped.elf: an executable that exports its symbols. It lacks libc's functions,
    // which the check only warns about; the missing data symbol is an error.
    execFileSync('mkdir', ['-p', join(d, 'k')]);
    execFileSync('gcc', ['-shared', '-fPIC', '-o', join(d, 'k', 'libkdep.so'), c('kdep', 'void kdep(void) {}\n')]);
    execFileSync('gcc', ['-no-pie', '-rdynamic', '-nostdlib', '-o', join(d, 'k', 'loader-stripped.elf'), c('kernel', 'void kfunc(void) {}\nvoid _start(void) {}\n'), `-L${join(d, 'k')}`, '-Wl,--no-as-needed', '-l:libkdep.so']);
    writeFileSync(join(d, 'osv.yaml'), 'name: runs\ncmd: [./hello]\nlibraries: [{name: libd.so, optional: true}]\nruns:\n  b: {cmd: [./bprog]}\n');
    denv = { PATH: '/usr/bin:/bin', HOME: d, XDG_CACHE_HOME: join(d, 'cache'), OSV_KERNEL: join(d, 'k'), CI: '1' };
  });
  afterAll(() => rmSync(d, { recursive: true, force: true }));

  it('a run the image was not checked for is checked before it counts as up to date', () => {
    const first = osv(['build', '-q']);
    expect(first.code, first.stderr).toBe(0);
    const b = osv(['build', '-q', '--run', 'b']);
    expect(b.code).not.toBe(0);
    expect(b.stderr).toMatch(/symbol check found/);
    expect(osv(['up', '--dry-run', '--run', 'b']).code).not.toBe(0);
    // The default run stays checked and up to date, from the records.
    const again = osv(['build', '--json']);
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout.slice(again.stdout.lastIndexOf('\n{\n') + 1))).toMatchObject({ upToDate: true, fromRecords: true, cmdline: '--rootfs=rofs --verbose /hello !' });
  });

  it('a configuration whose top level has no cmd is not answered with a named run\'s command line', () => {
    writeFileSync(join(d, 'osv.yaml'), 'name: runs\nruns:\n  web: {cmd: [./hello, web]}\n');
    expect(osv(['build', '-q', '--run', 'web']).code).toBe(0);
    const plain = osv(['build', '-q']);
    expect(plain.code).not.toBe(0);
    expect(plain.stderr).toContain('there is no cmd: nothing to run');
  });
});
