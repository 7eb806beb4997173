// The program's exit status and the verdict's failure paths on a real OSv kernel, through the
// CLI as users run it: `osv up` and `osv run` exit with the program's status (docker run's
// contract), `osv test` passes only on status 0. Needs OSV_KERNEL, QEMU and gcc; each one
// missing skips with the reason printed.

import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasGcc, hasTool } from '../helpers/tools.js';
import { childrenOf, waitFor } from './helpers/cli-env.js';
import { OSV, runOsv, type OsvResult } from '../helpers/osv.js';

const kernel = process.env['OSV_KERNEL'];
const reason = !kernel ? 'OSV_KERNEL is not set (an OSv kernel directory or loader-stripped.elf)' : !hasTool('qemu-system-x86_64') ? 'qemu-system-x86_64 is not installed' : !hasGcc ? 'gcc is not installed' : undefined;
if (reason) console.warn(`skipped: exit-status boot tests: ${reason}`);

const PROG = `#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
int main(int argc, char **argv) {
  const char *m = argc > 1 ? argv[1] : "ok";
  printf("mode %s\\n", m);
  fflush(stdout);
  if (!strcmp(m, "exit3")) exit(3);
  if (!strcmp(m, "ret2")) return 2;
  if (!strcmp(m, "abort")) abort();
  if (!strcmp(m, "hang")) for (;;) sleep(1);
  if (!strcmp(m, "flood")) { /* 2 MiB in one line, then its end: a progress bar or a binary dump */
    static char x[65536];
    memset(x, 'x', sizeof x);
    for (int i = 0; i < 32; i++) fwrite(x, 1, sizeof x, stdout);
    printf("\\nflood done\\n");
  }
  return 0;
}
`;

let dir = '';
const gcc = (out: string, src: string, args: string[] = []): void => {
  writeFileSync(`${out}.c`, src);
  const r = spawnSync('gcc', ['-o', out, `${out}.c`, ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
};

beforeAll(() => {
  if (reason) return;
  dir = mkdtempSync(join(tmpdir(), 'osv-status-boot-'));
  gcc(join(dir, 'prog'), PROG);
  // A program that reads a variable of libdata.so, and a libdata.so without it.
  mkdirSync(join(dir, 'lib'));
  mkdirSync(join(dir, 'stub'));
  gcc(join(dir, 'lib', 'libdata.so'), 'int shared_value = 42;\n', ['-shared', '-fPIC', '-Wl,-soname,libdata.so']);
  gcc(join(dir, 'stub', 'libdata.so'), 'int other_value = 1;\n', ['-shared', '-fPIC', '-Wl,-soname,libdata.so']);
  gcc(join(dir, 'usedata'), '#include <stdio.h>\nextern int shared_value;\nint main(void) { printf("value %d\\n", shared_value); return 0; }\n', [`-L${join(dir, 'lib')}`, '-ldata']);
  // A program that needs libgone.so, which the image does not have.
  gcc(join(dir, 'lib', 'libgone.so'), 'int gone(void) { return 1; }\n', ['-shared', '-fPIC', '-Wl,-soname,libgone.so']);
  gcc(join(dir, 'usegone'), 'int gone(void);\nint main(void) { return gone(); }\n', [`-L${join(dir, 'lib')}`, '-lgone']);
  writeFileSync(
    join(dir, 'osv.yaml'),
    [
      'name: status',
      'cmd: [./prog, ok]',
      'runs:',
      '  exit3: { cmd: [./prog, exit3] }',
      '  ret2: { cmd: [./prog, ret2] }',
      '  abort: { cmd: [./prog, abort] }',
      '  hang: { cmd: [./prog, hang] }',
      '  flood: { cmd: [./prog, flood] }',
      'files:',
      // Copied bare (resolve: false), so that the guest meets what the plan would have caught.
      '  - { src: ./usedata, dest: /usedata, resolve: false }',
      '  - { src: ./usegone, dest: /usegone, resolve: false }',
      '  - { src: ./stub/libdata.so, dest: /usr/lib/libdata.so, resolve: false }',
      '',
    ].join('\n'),
  );
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function osv(args: string[], timeoutMs = 120_000): OsvResult {
  const env: NodeJS.ProcessEnv = { ...process.env, OSV_KERNEL: kernel };
  delete env['CI'];
  return runOsv(args, { cwd: dir, timeout: timeoutMs, env, input: '', maxBuffer: 64 * 2 ** 20 });
}

describe.runIf(!reason)('the program\'s exit status on a real kernel', () => {
  // [run, what it prints, osv up / osv run exit code, osv test's reason]
  const CASES: Array<[string, string, number, string]> = [
    ['default', 'mode ok', 0, 'osv: passed: the program exited with status 0'],
    ['exit3', 'mode exit3', 3, 'error: the program exited with status 3'],
    ['ret2', 'mode ret2', 2, 'error: /prog returned with status 2'],
    ['abort', 'mode abort', 126, 'error: the guest aborted'],
  ];
  for (const [run, line, code, verdict] of CASES) {
    it(`${run}: osv up and osv run exit ${code}; osv test ${code === 0 ? 'passes' : 'exits 4'}`, { timeout: 240_000 }, () => {
      const up = osv(['up', '--run', run, '-q']);
      expect([up.code, up.stderr]).toEqual([code, expect.any(String)]);
      // The console is the program's: no debug lines, LF line endings in a pipe.
      expect(up.stdout).toMatch(new RegExp(`^${line}$`, 'm'));
      expect(up.stdout).not.toMatch(/\r|VFS: |ROFS: |Powering off|program exited|returned \d/);
      expect(up.stderr).not.toContain('passed');
      const run2 = osv(['run', '--run', run]);
      expect(run2.code).toBe(code);
      const test = osv(['test', '--run', run, '-q']);
      expect(test.code).toBe(code === 0 ? 0 : 4);
      expect(test.stderr).toContain(verdict);
    });
  }

  it('2 MiB without a newline reaches the console whole, and osv test still judges the run (the scanner is linear)', { timeout: 240_000 }, () => {
    const test = osv(['test', '--run', 'flood', '-q', '--expect', '^flood done$']);
    expect(test.code, test.stderr).toBe(0);
    expect(test.stderr).toContain('osv: passed: the program exited with status 0');
    // Every byte arrives (OSv may print a line of its own in the middle, e.g. "random: device unblocked.").
    expect(test.stdout.match(/x+/g)?.join('').length).toBe(2 * 1024 * 1024);
  });

  it('a data symbol no library in the image defines: osv test quotes the line, osv up exits 126', { timeout: 120_000 }, () => {
    const test = osv(['test', '-q', '-e', '--rootfs=rofs /usedata']);
    expect(test.code).toBe(4);
    expect(test.stderr).toMatch(/error: symbol shared_value .*\(needed by \/usedata\): console line \d+: "\/usedata: failed looking up symbol shared_value/);
    expect(osv(['up', '-q', '-e', '--rootfs=rofs /usedata']).code).toBe(126);
  });

  it('a library missing from the image: the failure names it', { timeout: 120_000 }, () => {
    const test = osv(['test', '-q', '-e', '--rootfs=rofs /usegone']);
    expect(test.code).toBe(4);
    expect(test.stdout).toContain('could not load libgone.so');
    expect(test.stderr).toContain('hint: OSv could not load libgone.so, which the program needs');
    expect(osv(['up', '-q', '-e', '--rootfs=rofs /usegone']).code).toBe(126);
  });

  it('a program OSv cannot find: osv up exits 127, osv test 4', { timeout: 120_000 }, () => {
    expect(osv(['up', '-q', '-e', '--rootfs=rofs /nonexistent']).code).toBe(127);
    const test = osv(['test', '-q', '-e', '--rootfs=rofs /nonexistent']);
    expect(test.code).toBe(4);
    expect(test.stderr).toContain('error: OSv could not load /nonexistent');
  });

  it('QEMU killed from outside (as the OOM killer would) fails, although the program never ended', { timeout: 120_000 }, async () => {
    osv(['build', '--run', 'hang', '-q']);
    const env = { ...process.env, OSV_KERNEL: kernel };
    const child = spawn(process.execPath, [OSV, 'test', '--run', 'hang', '-q', '--timeout', '100'], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    const done = new Promise<number | null>((res) => child.on('close', (code) => res(code)));
    await waitFor('the program\'s first line', () => (out.includes('mode hang') ? true : undefined), 60_000);
    const [qemu] = await waitFor('QEMU', () => {
      const pids = childrenOf(child.pid!, 'qemu-system');
      return pids.length > 0 ? pids : undefined;
    });
    process.kill(qemu!, 'SIGKILL');
    expect(await done).toBe(4);
    expect(err).toContain('error: QEMU was killed by SIGKILL');
  });
});

// The python standard library copied as plain files (no template): the ELF modules in it get
// their libraries (libcrypto for _hashlib, libssl for _ssl), as manifest_from_host.sh -r does.
const stdlib = (() => {
  const r = spawnSync('readlink', ['-f', '/usr/bin/python3'], { encoding: 'utf8' });
  const v = /python(3\.\d+)$/.exec(r.stdout.trim())?.[1];
  return v && existsSync(`/usr/lib/python${v}/lib-dynload`) ? v : undefined;
})();
if (!reason && !stdlib) console.warn('skipped: python stdlib boot test: no Debian python3 with /usr/lib/python3.X/lib-dynload');
it.runIf(!reason && stdlib)('the python stdlib copied as plain files runs `import hashlib, ssl`', { timeout: 240_000 }, () => {
  const py = mkdtempSync(join(tmpdir(), 'osv-stdlib-boot-'));
  try {
    writeFileSync(
      join(py, 'osv.yaml'),
      [
        `cmd: [/usr/bin/python${stdlib}, -c, "import hashlib, ssl; print('stdlib', hashlib.sha256(b'osv').hexdigest()[:12], ssl.OPENSSL_VERSION.split()[0])"]`,
        'env: { PYTHONHOME: /usr }',
        'files:',
        `  - { src: /usr/lib/python${stdlib}/, dest: /usr/lib/python${stdlib}/, exclude: [test, "**/__pycache__", idlelib, tkinter, turtledemo] }`,
        '',
      ].join('\n'),
    );
    const r = runOsv(['test', '-q'], { cwd: py, timeout: 200_000, env: { ...process.env, OSV_KERNEL: kernel } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^stdlib 5148d04a6c78 OpenSSL$/m);
  } finally {
    rmSync(py, { recursive: true, force: true });
  }
});

