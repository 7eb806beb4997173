// Shared by the `osv run` CLI tests: the built CLI, tiny guests, and process inspection.

import { type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { which } from '../../../src/run/binaries.js';
import { writePartition } from '../../../src/image/mbr.js';
import { buildFakeKernel, hasGcc, tempDir } from './fake-guest.js';

export { OSV } from '../../helpers/osv.js';
export const qemu = which('qemu-system-x86_64');
export const canRun = Boolean(qemu) && hasGcc;

export interface CliFixture {
  dir: string;
  /** A guest that prints "Hello from C code" and powers off. */
  hello: string;
  /** The same, exiting with status 3. */
  exit3: string;
  /** A guest that prints "waiting" and halts. */
  hang: string;
  /** A guest that prints "tick" again and again, never ending. */
  chatty: string;
  /** A raw image of 1 MiB: a partition table (root in slot 2, as osv build writes it), then zeros. */
  disk: string;
  env: NodeJS.ProcessEnv;
}

/** What OSv v0.57 prints around the program when booted with --verbose (a few of its debug lines). */
export const VERBOSE_HEAD = 'OSv v0.57.0 (fake)\n2 CPUs detected\nVFS: mounting rofs at /rofs\nBooted up in 0.00 ms\n';
export const VERBOSE_END = 'VFS: unmounting /dev\nROFS: hit ratio is 93.10%\nPowering off.\n';

export function cliFixture(): CliFixture {
  const dir = tempDir();
  // With the debug lines a --verbose OSv prints, so that a clean power-off tells status 0.
  const hello = buildFakeKernel(dir, 'hello', { head: VERBOSE_HEAD, echo: true, tail: `Hello from C code\n${VERBOSE_END}`, end: 'reset' });
  const exit3 = buildFakeKernel(dir, 'exit3', { head: VERBOSE_HEAD, echo: true, tail: `Hello from C code\nprogram exited with status 3\n${VERBOSE_END}`, end: 'reset' });
  const hang = buildFakeKernel(dir, 'hang', { head: VERBOSE_HEAD, echo: true, tail: 'waiting\n', end: 'halt' });
  const chatty = buildFakeKernel(dir, 'chatty', { head: VERBOSE_HEAD, echo: true, tail: 'tick\n', end: 'repeat' });
  const disk = join(dir, 'app.img');
  const image = Buffer.alloc(1024 * 1024);
  writePartition(image, { slot: 2, start: 512, size: image.length - 512 });
  writeFileSync(disk, image);
  const env: NodeJS.ProcessEnv = { ...process.env, XDG_CACHE_HOME: join(dir, 'cache') };
  delete env['OSV_KERNEL'];
  return { dir, hello, exit3, hang, chatty, disk, env };
}

/** Processes whose parent is `ppid` and whose name starts with `prefix`. */
export function childrenOf(ppid: number, prefix: string): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const ppidOf = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppidOf === ppid && comm.startsWith(prefix)) pids.push(Number(name));
    } catch {
      /* exited meanwhile */
    }
  }
  return pids;
}

export async function waitFor<T>(what: string, f: () => T | undefined, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export const exited = (c: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> =>
  new Promise((res) => c.on('close', (code, signal) => res({ code, signal })));

export function collect(c: ChildProcess): { out: string; err: string } {
  const o = { out: '', err: '' };
  c.stdout!.on('data', (d: Buffer) => (o.out += d.toString()));
  c.stderr!.on('data', (d: Buffer) => (o.err += d.toString()));
  return o;
}
