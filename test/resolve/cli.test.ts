// `osv resolve` end to end (the command module on a commander program, in this process):
// manifest_from_host.sh's format and modes, --json, --explain, -w, and its errors.

import { Command } from 'commander';
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isMainThread } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { command } from '../../src/cli/commands/resolve.js';
import { reportFailure } from '../../src/cli/render.js';
import * as C from '../../src/elf/constants.js';
import { craftElf } from '../elf/craft.js';
import { lacks } from '../helpers/skip.js';

const LIB = '/lib/x86_64-linux-gnu';
const present = ['/usr/bin/ls', `${LIB}/libselinux.so.1`, `${LIB}/libssl.so.3`, `${LIB}/libz.so.1`].every(existsSync);
if (!present) console.warn('skipped: this machine lacks ls, libselinux, libssl or libz in the places this test expects');

interface Run {
  code: number;
  out: string;
  err: string;
}

// What the command prints, captured: it writes through src/output.ts (by file descriptor).
const printed = vi.hoisted(() => ({ out: '', err: '' }));
vi.mock('../../src/output.js', () => ({
  writeStdout: (s: string) => void (printed.out += s),
  writeStderr: (s: string) => void (printed.err += s),
  printLine: (s: string) => void (printed.out += s.endsWith('\n') ? s : s + '\n'),
  onStdoutError: () => undefined,
}));

/** Run `osv resolve ...` through commander in this process, capturing its output. */
async function osv(args: string[], env: Record<string, string> = {}): Promise<Run> {
  const program = new Command('osv').exitOverride().configureOutput({ writeOut: () => {}, writeErr: () => {} });
  command.register(program);
  printed.out = '';
  printed.err = '';
  const saved = { ...process.env };
  Object.assign(process.env, env);
  let code = 0;
  try {
    await program.parseAsync(['resolve', ...args], { from: 'user' });
  } catch (e) {
    code = reportFailure(e, args.includes('--json'));
  } finally {
    for (const k of Object.keys(env)) delete process.env[k];
    Object.assign(process.env, saved);
  }
  return { code, out: printed.out, err: printed.err };
}

describe.runIf(present)('osv resolve', () => {
  let tmp = '';
  beforeAll(() => {
    tmp = mkdtempSync(join(tmpdir(), 'osv-resolve-cli-'));
  });
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('prints manifest_from_host.sh’s format, with the PIE label and libselinux kept', async () => {
    const r = await osv(['/usr/bin/ls']);
    expect(r.code).toBe(0);
    expect(r.out).toBe(
      [
        '# (PIE) Position Independent Executable',
        '/ls: /usr/bin/ls',
        '# --------------------',
        '# Dependencies        ',
        '# --------------------',
        `/usr/lib/libpcre2-8.so.0: ${LIB}/libpcre2-8.so.0`,
        `/usr/lib/libselinux.so.1: ${LIB}/libselinux.so.1`,
        '# --------------------',
        '',
      ].join('\n'),
    );
  });

  it('lists the kernel libraries too with --no-kernel-filter', async () => {
    const r = await osv(['--no-kernel-filter', '/usr/bin/ls']);
    expect(r.out).toContain(`/usr/lib/libc.so.6: ${LIB}/libc.so.6\n`);
    expect(r.out).toContain('/usr/lib/ld-linux-x86-64.so.2: /lib64/ld-linux-x86-64.so.2\n');
  });

  it('-l finds a library by soname; -i makes a missing one silent', async () => {
    const r = await osv(['-l', 'libssl.so.3']);
    expect(r.out.split('\n').slice(0, 2)).toEqual(['# Shared library', `/usr/lib/libssl.so.3: ${LIB}/libssl.so.3`]);
    expect(r.out).toContain(`/usr/lib/libcrypto.so.3: ${LIB}/libcrypto.so.3`);
    const none = await osv(['-l', '-i', 'libosv-none.so.1']);
    expect(none).toEqual({ code: 0, out: '', err: '' });
    const fail = await osv(['-l', 'libosv-none.so.1']);
    expect(fail.code).toBe(1);
    expect(fail.err).toContain('could not find the library libosv-none.so.1');
    expect(fail.err).toContain(`tried ${LIB}/libosv-none.so.1`);
  });

  it('--json carries the closure with provenance', async () => {
    const r = await osv(['--json', '/usr/bin/ls']);
    const j = JSON.parse(r.out) as { ok: boolean; mode: string; closure: { objects: Array<{ soname: string; rule: string; chain: string[]; providedByKernel: boolean }> } };
    expect(j.ok).toBe(true);
    expect(j.mode).toBe('file');
    const pcre = j.closure.objects.find((o) => o.soname === 'libpcre2-8.so.0')!;
    expect(pcre).toMatchObject({ rule: 'ld.so.cache', chain: ['ls', 'libselinux.so.1'], providedByKernel: false });
    expect(j.closure.objects.find((o) => o.soname === 'libc.so.6')!.providedByKernel).toBe(true);
  });

  it('--explain shows the tree, the rule and the kernel libraries', async () => {
    const r = await osv(['--explain', '/usr/bin/ls']);
    expect(r.out).toMatch(/^ls => \/usr\/bin\/ls \[PIE, by path\] interpreter \/lib64\/ld-linux-x86-64.so.2\n/);
    expect(r.out).toMatch(/├─ libselinux\.so\.1 => .*\[ld\.so\.cache\]/);
    expect(r.out).toMatch(/│  ├─ libpcre2-8\.so\.0 => /);
    expect(r.out).toMatch(/libc\.so\.6 => .*provided by the OSv kernel, not shipped/);
    expect(r.out).toContain('2 libraries to ship, 2 provided by the OSv kernel, 0 missing');
  });

  it('directory mode: the ** line, -R, and with -r the libraries its .so files need', async () => {
    const dir = join(tmp, 'app');
    mkdirSync(join(dir, 'lib'), { recursive: true });
    copyFileSync(`${LIB}/libssl.so.3`, join(dir, 'lib', 'libssl.so.3'));
    writeFileSync(join(dir, 'lib', 'notes.so.txt'), 'not a library');
    expect((await osv([dir])).out).toBe(`/**: ${dir}/**\n`);
    expect((await osv(['-R', dir, 'lib'])).out).toBe(`${dir}/lib/**: ${dir}/lib/**\n`);
    const r = await osv(['-r', dir]);
    expect(r.out.split('\n')).toEqual([`/**: ${dir}/**`, '# --------------------', '# Dependencies        ', '# --------------------', `/usr/lib/libcrypto.so.3: ${LIB}/libcrypto.so.3`, '# --------------------', '']);
  });

  it.skipIf(lacks('osv resolve -w', [isMainThread, 'process.chdir() is not available in a worker thread (where Stryker runs the tests)']))('-w writes .osv/append.manifest and append_cmdline in the current directory', async () => {
    const cwd = process.cwd();
    process.chdir(tmp);
    try {
      const r = await osv(['-w', '/usr/bin/ls']);
      expect(readFileSync(join(tmp, '.osv', 'append.manifest'), 'utf8')).toBe(r.out);
      expect(readFileSync(join(tmp, '.osv', 'append_cmdline'), 'utf8')).toBe('/ls --help\n');
    } finally {
      process.chdir(cwd);
    }
  });

  it('refuses a static executable, a non-ELF file and a script found on PATH, with hints', async () => {
    const stat = join(tmp, 'static');
    writeFileSync(stat, craftElf({ cls: 64, le: true, type: C.ET_EXEC }));
    const s = await osv([stat]);
    expect(s.code).toBe(1);
    expect(s.err).toContain(`${stat} is a statically linked executable`);
    const txt = await osv(['/etc/hostname']);
    expect(txt.code).toBe(1);
    expect(txt.err).toContain('not an ELF file');
    const bin = join(tmp, 'shims');
    mkdirSync(bin, { recursive: true });
    writeFileSync(join(bin, 'ls'), '#!/bin/sh\nexec /usr/bin/ls "$@"\n');
    chmodSync(join(bin, 'ls'), 0o755);
    const shim = await osv(['ls'], { PATH: `${bin}:/usr/bin` });
    expect(shim.code).toBe(1);
    expect(shim.err).toContain(`${bin}/ls (found on PATH for ls) is not an ELF program`);
    expect(shim.err).toContain('osv resolve /usr/bin/ls');
    const json = await osv(['--json', '/etc/hostname']);
    expect(JSON.parse(json.out)).toMatchObject({ ok: false, errors: [{ code: 'elf.bad-magic' }] });
  });

  it('names what a device or a FIFO is instead of calling it missing (and does not open it: a FIFO would block)', async () => {
    const fifo = join(tmp, 'fifo');
    execFileSync('mkfifo', [fifo]);
    for (const [target, what] of [[fifo, 'a FIFO (named pipe)'], ['/dev/null', 'a character device']] as const) {
      const r = await osv([target]);
      expect(r.code).toBe(1);
      expect(r.err).toBe(`error: ${target} is ${what}: neither a program, a library nor a directory\n  hint: give a compiled program, a shared library or a directory\n`);
    }
  });

  it('--sysroot that is a file, a FIFO or a symlink loop is a usage error saying so (not "does not exist in the sysroot"; the FIFO is never opened)', async () => {
    const base = join(tmp, 'not-sysroots');
    mkdirSync(base);
    writeFileSync(join(base, 'file'), 'x');
    execFileSync('mkfifo', [join(base, 'fifo')]);
    execFileSync('ln', ['-s', 'loop', join(base, 'loop')]);
    for (const [name, what] of [['file', 'is a regular file'], ['fifo', 'is a FIFO (named pipe)'], ['loop', 'is a symbolic link to nothing (dangling, or a loop of links)'], ['absent', 'does not exist']] as const) {
      const r = await osv(['--sysroot', join(base, name), '/usr/bin/ls']);
      expect(r.code, name).toBe(2);
      expect(r.err).toBe(`error: --sysroot ${join(base, name)} ${what}; the sysroot must be a directory\n  hint: give the root directory of a file tree (an unpacked root file system), or leave --sysroot out to resolve in /\n`);
    }
  });

  it('an empty or blank target (or subdirectory) is a usage error, not the current directory', async () => {
    for (const args of [[''], ['-l', ''], ['  '], ['-r', '']]) {
      const r = await osv(args);
      expect(r.code, JSON.stringify(args)).toBe(2);
      expect(r.out).toBe('');
      expect(r.err).toBe(`error: the target is ${args.at(-1) === '' ? 'empty' : 'blank'}\n  hint: give an ELF file, a directory, a program name on PATH, or a library soname with -l\n`);
    }
    const sub = await osv([tmp, '']);
    expect(sub.code).toBe(2);
    expect(sub.err).toBe(`error: the subdirectory is empty\n  hint: name a subdirectory of ${tmp}, or leave it out\n`);
  });

  it('a missing library is an error listing the chain and every path tried', async () => {
    const lib = join(tmp, 'libneeds.so');
    writeFileSync(lib, craftElf({ cls: 64, le: true, soname: 'libneeds.so', needed: ['libosv-absent.so.7'] }));
    const r = await osv([lib]);
    expect(r.code).toBe(1);
    expect(r.err).toContain('a library is missing: libosv-absent.so.7');
    expect(r.err).toContain('libosv-absent.so.7, needed by libneeds.so; tried:');
    expect(r.err).toContain(`${LIB}/libosv-absent.so.7`);
    const opt = await osv(['--optional', 'libosv-absent.so.7', lib]);
    expect(opt.code).toBe(0);
    expect(opt.err).toContain('note: optional library libosv-absent.so.7 not found');
  });
});
