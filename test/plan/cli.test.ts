// `osv plan`, `osv manifest` and `osv why` as a user runs them: the built CLI in a project dir.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildProject, type Project } from './fixture.js';
import { hasGcc, tempDir } from './helpers.js';
import { lacks } from '../helpers/skip.js';
import { runOsv } from '../helpers/osv.js';

const run = (cwd: string, ...args: string[]) => runOsv(args, { cwd, env: { ...process.env, NO_COLOR: '1', OSV_KERNEL: '' } });

describe.skipIf(lacks('osv plan / manifest / why', [hasGcc, 'gcc is not installed (it compiles the fixtures)']))('osv plan / manifest / why', () => {
  let t: ReturnType<typeof tempDir>;
  let p: Project;
  beforeAll(() => {
    t = tempDir('osv-plan-cli-');
    p = buildProject(t.path);
    writeFileSync(
      join(p.dir, 'osv.yaml'),
      [
        'name: demo',
        'cmd: [./app, "hello world"]',
        'env:',
        '  MODE: "a b"',
        'libraries:',
        '  - ./plugin.so',
        'files:',
        '  - src: ./data',
        '    dest: /srv',
        '    exclude: ["**/*.log"]',
        'runs:',
        '  list:',
        '    cmd: [ls, -a, /]',
        '',
      ].join('\n'),
    );
  });
  afterAll(() => t.cleanup());

  it('plan prints the table, totals and the exact boot command line', () => {
    const r = run(p.dir, 'plan');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Plan for "demo": x86_64, rofs root, disk image (raw)');
    expect(r.stdout).toMatch(/^\/usr\/lib\/libfoo\.so\.1 +\S+ KiB +\S*\/lib\/libfoo\.so\.1 +needed by app$/m);
    expect(r.stdout).toMatch(/^\/srv\/ +\S+ B +\(6 entries below; --all lists them\) +files\[0\]$/m);
    expect(r.stdout).toContain('Boot command line (run "default"):\n  --rootfs=rofs --verbose --env=MODE=a\\ b /app "hello world" !\n');
    expect(r.stdout).toContain('  list: --rootfs=rofs --verbose --env=MODE=a\\ b /ls -a / !');
    expect(r.stdout).toMatch(/^Totals: \d+ files/m);
  });

  it('plan warns about a symlink in a files tree that points outside it, and says what it copies (issue #20)', () => {
    const r = run(p.dir, 'plan');
    expect(r.stdout).toContain(`${p.data}/link-out -> ../outside.txt points outside ${p.data}: ${p.outside} is copied to /srv/link-out; exclude the link (files[].exclude) if that is not meant`);
  });

  it('plan --all lists tree members; --run selects the run; --json is the whole plan', () => {
    expect(run(p.dir, 'plan', '--all').stdout).toMatch(/^\/srv\/link-in +- +-> a\.txt +files\[0\]$/m);
    const sel = run(p.dir, 'plan', '--run', 'list');
    expect(sel.stdout).toContain('Boot command line (run "list"):\n  --rootfs=rofs --verbose --env=MODE=a\\ b /ls -a / !\n');
    const j = JSON.parse(run(p.dir, 'plan', '--json').stdout) as { run: { cmdline: string }; entries: Array<{ guest: string; content?: string }> };
    expect(j.run.cmdline).toBe('--rootfs=rofs --verbose --env=MODE=a\\ b /app "hello world" !');
    expect(j.entries.find((e) => e.guest === '/etc/hosts')?.content).toBe('127.0.0.1 localhost osv.local\n');
  });

  it('plan errors are rendered with their position and exit 1', () => {
    const bad = join(p.dir, 'bad.yaml');
    writeFileSync(bad, 'cmd: [./app]\nlibraries:\n  - libdoesnotexist.so.7\n');
    const r = run(p.dir, 'plan', '-c', bad);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^\S*bad\.yaml:3:\d+: error: library libdoesnotexist\.so\.7 not found \(libraries\[0\]/m);
    expect(r.stderr).toContain('  tried:');
    const unknown = run(p.dir, 'plan', '--run', 'nope');
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toContain('nope');
  });

  it('a sysroot that is not a directory is an error at its key, not an internal ENOTDIR or ELOOP', () => {
    const bad = join(p.dir, 'sysroot.yaml');
    writeFileSync(join(p.dir, 'not-a-dir'), 'x');
    execFileSync('ln', ['-sf', 'sysroot-loop', join(p.dir, 'sysroot-loop')]);
    for (const [target, what] of [['not-a-dir', 'is a regular file'], ['sysroot-loop', 'is a symbolic link to nothing (dangling, or a loop of links)']] as const) {
      writeFileSync(bad, `cmd: [/bin/ls]\nsysroot: ${target}\n`);
      const r = run(p.dir, 'plan', '-c', bad);
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toContain(`${bad}:2:10: error: sysroot: ${join(p.dir, target)} ${what}; the sysroot must be a directory`);
      expect(r.stderr).not.toContain('internal error');
    }
  });

  it('a cmd or env word OSv cannot parse (non-ASCII) fails at plan time, in plan and in osv test', () => {
    const bad = join(p.dir, 'cafe.yaml');
    writeFileSync(bad, 'cmd: [./app, "caf\u00e9"]\n');
    const plan = run(p.dir, 'plan', '-c', bad);
    expect(plan.code).toBe(1);
    expect(plan.stderr).toMatch(/cafe\.yaml:1:\d+: error: cmd\[1\] "café" contains "é" \(U\+00E9\), which OSv cannot take/);
    expect(plan.stderr).toContain('use ASCII in cmd');
    // osv test resolves the kernel before planning: any x86_64 executable ELF passes for one here,
    // since the plan fails before anything boots.
    const kernel = join(t.path, 'kernel.elf');
    execFileSync('gcc', ['-no-pie', '-o', kernel, '-x', 'c', '-'], { input: 'int main(void) { return 0; }\n' });
    writeFileSync(bad, `kernel:\n  path: ${kernel}\ncmd: [./app]\nenv:\n  SPACE: "a\u00a0b"\n`);
    const test = run(p.dir, 'test', '--config', bad);
    expect(test.code).toBe(1);
    expect(test.stderr).toContain('env.SPACE "a\u00a0b" contains "\u00a0" (U+00A0)');
  });

  it('a /proc source is a clear error naming the entry (exit 1), not an internal error from walking /proc (issue #14)', () => {
    const kernel = join(t.path, 'kernel-proc.elf');
    execFileSync('gcc', ['-no-pie', '-o', kernel, '-x', 'c', '-'], { input: 'int main(void) { return 0; }\n' });
    const bad = join(p.dir, 'proc.yaml');
    writeFileSync(bad, `kernel: {path: ${kernel}}\ncmd: [./app]\nfiles: [{src: /proc/self/root, dest: /x}]\n`);
    for (const command of ['plan', 'build']) {
      const r = run(p.dir, command, '--config', bad);
      expect(r.code, `${command}: ${r.stderr}`).toBe(1);
      expect(r.stderr).toMatch(/proc\.yaml:3:\d+: error: files\[0\]: \/proc\/self\/root is in \/proc, a pseudo file system/);
      expect(r.stderr).toContain('hint: copy what the program needs to a regular file or directory first');
      expect(r.stderr).not.toContain('internal error');
    }
  });

  it('manifest -o writes the manifest and its generated files; OSv syntax throughout', () => {
    const out = join(t.path, 'append.manifest');
    const r = run(p.dir, 'manifest', '-o', out);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`wrote ${out}`);
    const text = readFileSync(out, 'utf8');
    expect(text).toContain(`/app: ${p.app}\n`);
    expect(text).toContain(`/etc/fstab: ${out}.files/etc/fstab\n`);
    expect(text).toContain('/srv/link-in: ->a.txt\n');
    expect(text).toContain('/srv/empty: /\n');
    expect(readFileSync(`${out}.files/etc/fstab`, 'utf8')).toMatch(/^\/dev\/vblk0\.1 +\/ +rofs +defaults 0 0$/m);
    expect(existsSync(`${out}.files/etc/hosts`)).toBe(true);
  });

  it('manifest -o never deletes a FILE.files/ it did not write; its own it replaces (issue #20)', () => {
    const out = join(t.path, 'shared-data');
    mkdirSync(`${out}.files`);
    writeFileSync(join(`${out}.files`, 'precious.txt'), 'mine\n');
    const r = run(p.dir, 'manifest', '-o', out);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${out}.files already exists and was not written by osv manifest`);
    expect(readFileSync(join(`${out}.files`, 'precious.txt'), 'utf8')).toBe('mine\n');
    rmSync(`${out}.files`, { recursive: true });
    for (let i = 0; i < 2; i++) {
      const ok = run(p.dir, 'manifest', '-o', out);
      expect(ok.code, ok.stderr).toBe(0);
    }
    expect(existsSync(join(`${out}.files`, 'etc', 'hosts'))).toBe(true);
  });

  it('manifest -o into a missing directory is a clear error', () => {
    const r = run(p.dir, 'manifest', '-o', join(t.path, 'no', 'such', 'dir', 'm'));
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/^error: cannot write \S+\/no\/such\/dir\/m: ENOENT/m);
  });

  it('manifest to stdout shows generated files as comments', () => {
    const r = run(p.dir, 'manifest');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('# /etc/hosts (generated, 30 bytes; write the manifest with -o FILE to get it as a file):\n#   127.0.0.1 localhost osv.local\n');
  });

  it('why explains a library, a kernel library, and a path that is not there', () => {
    const lib = run(p.dir, 'why', '/usr/lib/libbar.so.1');
    expect(lib.code).toBe(0);
    expect(lib.stdout).toBe(
      [
        `/usr/lib/libbar.so.1: file, ${lib.stdout.split(', ')[1] ?? ''}, copied from ${p.libbar}`,
        '  needed (DT_NEEDED) by plugin.so, found by the runpath rule',
        `      libraries[0] (${p.dir}/osv.yaml:6:5)`,
        '  needed (DT_NEEDED) by libfoo.so.1, found by the runpath rule',
        '    load chain: app -> libfoo.so.1',
        `      cmd[0] (${p.dir}/osv.yaml:2:7)`,
        '',
      ].join('\n'),
    );
    expect(run(p.dir, 'why', 'libc.so.6').stdout).toBe('libc.so.6 is not in the image: libc.so.6 is provided by the OSv kernel (needed by app)\n');
    const missing = run(p.dir, 'why', '/usr/lib/libnope.so');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('error: /usr/lib/libnope.so is not in the image');
    for (const target of ['', '  ']) {
      const empty = run(p.dir, 'why', target);
      expect([empty.code, empty.stdout, empty.stderr]).toEqual([2, '', `error: the path is ${target === '' ? 'empty' : 'blank'}\n  hint: give a path in the image (/usr/lib/libssl.so.3) or a library name (libssl.so.3)\n`]);
    }
  });
});
