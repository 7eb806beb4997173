// A FIFO where osv reads a file (the configuration, a kernel, an image, a volume, an OCI
// archive, a program) used to hang the command: open(2) of a FIFO waits for a writer. Each is
// now opened without blocking (src/hostfs.ts openRegularFile) or never opened, and refused
// with what it is. Each command runs with a deadline, so a regression fails instead of hanging.

import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writePartition } from '../../src/image/mbr.js';
import { lacks } from '../helpers/skip.js';
import { runOsv, type OsvResult } from '../helpers/osv.js';

const work = mkdtempSync(join(tmpdir(), 'osv-fifo-inputs-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const fifo = join(work, 'fifo');
const madeFifo = spawnSync('mkfifo', [fifo]).status === 0;
const loop = join(work, 'loop-a');
symlinkSync(join(work, 'loop-b'), loop);
symlinkSync(loop, join(work, 'loop-b'));

/** A project directory holding `yaml` as its osv.yaml (or nothing). */
function project(name: string, yaml?: string): string {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  if (yaml !== undefined) writeFileSync(join(dir, 'osv.yaml'), yaml);
  return dir;
}

const { OSV_KERNEL: _, ...baseEnv } = process.env;
const env = { ...baseEnv, XDG_CACHE_HOME: join(work, 'cache'), NO_COLOR: '1' };

function osv(args: string[], cwd: string, extra: NodeJS.ProcessEnv = {}): OsvResult {
  const r = runOsv(args, { cwd, env: { ...env, ...extra }, timeout: 20_000, input: '' });
  expect(r.signal, `osv ${args.join(' ')} did not end within 20 s`).toBeNull();
  return r;
}

describe.skipIf(lacks('FIFOs given as inputs', [madeFifo, 'mkfifo failed here']))('a FIFO as an input', () => {
  it('osv.yaml itself (found, not named): refused, named', () => {
    const dir = project('config-fifo');
    spawnSync('mkfifo', [join(dir, 'osv.yaml')]);
    const r = osv(['validate'], dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('configuration file osv.yaml is a FIFO (named pipe), not a file');
  });

  it('the kernel, by OSV_KERNEL, kernel.path or --kernel: refused, named', () => {
    const dir = project('kernel-fifo', `cmd: [/bin/true]\nkernel: {path: ${fifo}}\n`);
    const path = osv(['kernel', 'path'], dir);
    expect(path.code).toBe(1);
    expect(path.stderr).toContain(`kernel.path ${fifo} is a FIFO (named pipe), not an OSv kernel`);
    const byEnv = osv(['check'], project('kernel-env', 'cmd: [/bin/true]\n'), { OSV_KERNEL: fifo });
    expect(byEnv.code).not.toBe(0);
    expect(byEnv.stderr).toContain(`OSV_KERNEL ${fifo} is a FIFO (named pipe), not an OSv kernel`);
    // `osv check -k` is named as the flag it is, not as OSV_KERNEL.
    const byFlag = osv(['check', '-k', fifo], project('kernel-flag', 'cmd: [/bin/true]\n'));
    expect(byFlag.code).not.toBe(0);
    expect(byFlag.stderr).toContain(`--kernel ${fifo} is a FIFO (named pipe), not an OSv kernel`);
  });

  it('the image, a volume or an image to inspect: refused, named', () => {
    const dir = project('images');
    const img = join(dir, 'app.img');
    const bytes = Buffer.alloc(64 * 1024);
    writePartition(bytes, { slot: 2, start: 512, size: bytes.length - 512 });
    writeFileSync(img, bytes);
    for (const args of [['run', '-n', fifo], ['run', '-n', '--kernel', '/bin/true', '-e', '/x', '--volume', fifo, img]]) {
      const r = osv(args, dir);
      expect(r.code, r.stderr).toBe(125);
      expect(r.stderr).toContain(`cannot read image ${fifo}: it is a FIFO (named pipe), not a regular file`);
    }
    const inspect = osv(['inspect', fifo], dir);
    expect(inspect.code).toBe(1);
    expect(inspect.stderr).toContain(`cannot open ${fifo}: it is a FIFO (named pipe), not a regular file`);
  });

  it('an oci-archive: to build from, or to pull: refused, named', () => {
    const dir = project('archive', `from: oci-archive:${fifo}\ncmd: [/bin/true]\n`);
    for (const args of [['plan'], ['pull', `oci-archive:${fifo}`]]) {
      const r = osv(args, dir);
      expect(r.code, r.stderr).not.toBe(0);
      expect(r.stderr).toContain(`cannot open ${fifo}: it is a FIFO (named pipe), not a regular file`);
    }
  });

  it('osv init of a FIFO: not taken for a program', () => {
    const dir = project('init');
    const r = osv(['init', '-c', join(dir, 'osv.yaml'), '--', fifo], dir);
    expect(r.out).toContain(`${fifo} is a FIFO (named pipe), not a program`);
  });
});

describe('a loop of symbolic links as an input', () => {
  it('the kernel (--kernel, OSV_KERNEL) and an image: named, not an internal error', () => {
    const dir = project('loops', 'cmd: [/bin/true]\n');
    const run = osv(['run', '-n', loop], dir);
    expect(run.code).toBe(125);
    expect(run.stderr).toContain(`cannot read image ${loop}: it is a loop of symbolic links`);
    const check = osv(['check'], dir, { OSV_KERNEL: loop });
    expect(check.stderr).toContain(`OSV_KERNEL ${loop} is a loop of symbolic links`);
    expect(check.stderr).not.toContain('internal error');
  });

  it('osv.yaml as a link into a loop: said, not "not found"', () => {
    const dir = project('config-loop');
    symlinkSync(loop, join(dir, 'osv.yaml'));
    const r = osv(['validate'], dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('configuration file osv.yaml is a symbolic link to nothing (dangling, or a loop of links)');
  });
});
