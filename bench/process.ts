// Timing whole processes, for the benchmarks that compare a command with another command:
// fresh processes only, never against a warm in-process figure (bench/resolve.ts says why).

import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export interface Timing {
  /** Median wall-clock milliseconds. */
  wall: number;
  /** Median user+system CPU milliseconds (steadier than wall time on a busy machine); from /usr/bin/time. */
  cpu: number | undefined;
}

export interface ProcessOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Timed runs after one untimed run (which warms the page cache). */
  runs?: number;
  /** Exit statuses that count as a run (default 0 only; `osv check` exits 1 on symbol errors). */
  ok?: number[];
}

const hasTime = existsSync('/usr/bin/time');

export const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
export const ms = (x: number): string => `${x.toFixed(x < 10 ? 2 : 1)} ms`;

/** Medians of `runs` runs of `cmd args` as a new process each; undefined (said why) when it fails. */
export function timeProcess(cmd: string, args: string[], o: ProcessOptions = {}): Timing | undefined {
  const walls: number[] = [];
  const cpus: number[] = [];
  const runs = o.runs ?? 9;
  for (let i = 0; i <= runs; i++) {
    const argv = hasTime ? ['-f', '@@%U %S', cmd, ...args] : args;
    const t0 = performance.now();
    const r = spawnSync(hasTime ? '/usr/bin/time' : cmd, argv, { env: o.env ?? process.env, cwd: o.cwd, stdio: ['ignore', 'ignore', 'pipe'] });
    const t = performance.now() - t0;
    const err = r.stderr?.toString() ?? '';
    if (r.status === null || !(o.ok ?? [0]).includes(r.status)) {
      console.log(`  ${cmd} ${args.join(' ')} failed (${r.error?.message ?? err.trim().split('\n').pop()})`);
      return undefined;
    }
    if (i === 0) continue;
    walls.push(t);
    const m = /@@([\d.]+) ([\d.]+)/.exec(err);
    if (m) cpus.push((Number(m[1]) + Number(m[2])) * 1000);
  }
  return { wall: median(walls), cpu: cpus.length ? median(cpus) : undefined };
}

export const show = (t: Timing | undefined): string => (t === undefined ? 'n/a' : `${ms(t.wall)}${t.cpu !== undefined ? ` (cpu ${ms(t.cpu)})` : ''}`);

/** "2.1x wall, 1.8x cpu": how many times `slow` takes `fast`'s time. */
export const ratio = (slow: Timing | undefined, fast: Timing | undefined): string => {
  if (slow === undefined || fast === undefined) return 'n/a';
  const c = slow.cpu !== undefined && fast.cpu ? slow.cpu / fast.cpu : undefined;
  return `${(slow.wall / fast.wall).toFixed(1)}x wall${c !== undefined ? `, ${c.toFixed(1)}x cpu` : ''}`;
};
