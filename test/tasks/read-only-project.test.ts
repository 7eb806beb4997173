// A project directory the user cannot write to (a checkout owned by someone else, a read-only
// mount): `osv build` and `osv up` say so, naming the directory and what to do, instead of an
// internal EACCES from creating .osv/; with -o elsewhere they need no .osv/ at all.
// Run as an unprivileged user: as root every directory is writable (root switches to nobody
// with setpriv for it).

import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { which } from '../../src/which.js';
import { OSV } from '../helpers/osv.js';
import { lacks } from '../helpers/skip.js';

const kernel = process.env['OSV_KERNEL'];
const root = process.getuid?.() === 0;
const setpriv = root ? which('setpriv') : undefined;

describe.skipIf(
  lacks('a read-only project directory', [kernel, 'OSV_KERNEL is not set (the kernel osv build reads)'], [!root || setpriv, 'running as root without setpriv (util-linux) to run as nobody']),
)('a read-only project directory', () => {
  // Made when the tests run, not when they are collected (a skipped suite leaves nothing behind).
  let work: string;
  let project: string;
  let out: string;
  let env: NodeJS.ProcessEnv;
  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'osv-ro-project-'));
    chmodSync(work, 0o755);
    project = join(work, 'app');
    out = join(work, 'out');
    const cache = join(work, 'cache');
    mkdirSync(project);
    writeFileSync(join(project, 'osv.yaml'), 'name: ro\ncmd: [/bin/true]\n');
    chmodSync(project, 0o555);
    for (const d of [out, cache]) {
      mkdirSync(d);
      chmodSync(d, 0o777);
    }
    env = { PATH: process.env['PATH'], HOME: work, XDG_CACHE_HOME: cache, OSV_KERNEL: kernel, NO_COLOR: '1', CI: '1' };
  });
  afterAll(() => {
    chmodSync(join(work, 'app'), 0o755);
    rmSync(work, { recursive: true, force: true });
  });
  /** `osv ARGS` in the project, as nobody (root switches with setpriv). */
  const osv = (args: string[]) => {
    const argv = [OSV, ...args];
    const r = root
      ? spawnSync(setpriv!, ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, ...argv], { cwd: project, env, encoding: 'utf8', timeout: 120_000 })
      : spawnSync(process.execPath, argv, { cwd: project, env, encoding: 'utf8', timeout: 120_000 });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr, out: `${r.stdout}\n${r.stderr}` };
  };

  it('osv build and osv up -n name the directory and the way out, not an internal EACCES', () => {
    for (const args of [['build'], ['up', '-n']]) {
      const r = osv(args);
      expect(r.code, r.out).toBe(args[0] === 'up' ? 125 : 1);
      expect(r.stderr).toContain(`error: cannot create ${project}/.osv, where the image goes by default: the project directory ${project} is not writable (EACCES)`);
      expect(r.stderr).toContain(`hint: make ${project} writable, or write the image to a writable directory: -o DIR/ro.img`);
      expect(r.stderr).not.toContain('internal error');
    }
  });

  it('with -o elsewhere the build needs no .osv/: the image and its record go beside the output', () => {
    const r = osv(['build', '-o', join(out, 'x.img')]);
    expect(r.code, r.out).toBe(0);
    expect(existsSync(join(out, 'x.img.build.json'))).toBe(true);
    const again = osv(['build', '-o', join(out, 'x.img')]);
    expect([again.code, again.stdout]).toEqual([0, expect.stringContaining('up to date')]);
    const up = osv(['up', '-n', '-o', join(out, 'y.img')]);
    expect(up.code, up.out).toBe(0);
    expect(up.stdout).toContain(join(out, 'y.img'));
    expect(existsSync(join(project, '.osv'))).toBe(false);
  });

  it('an existing .osv/ the user cannot write to: the hint says so (it said nothing after EACCES)', () => {
    chmodSync(project, 0o777);
    mkdirSync(join(project, '.osv'), { mode: 0o755 });
    chmodSync(join(project, '.osv'), 0o555);
    try {
      const r = osv(['build']);
      expect(r.code, r.out).not.toBe(0);
      expect(r.stderr).toContain(`error: cannot create a temporary file beside ${project}/.osv/ro.img: EACCES`);
      expect(r.stderr).toContain(`hint: ${project}/.osv is not writable for this user: fix its permissions, or write the image elsewhere with -o PATH`);
    } finally {
      rmSync(join(project, '.osv'), { recursive: true, force: true });
      chmodSync(project, 0o555);
    }
  });
});
