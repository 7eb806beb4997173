// Planning python3 with its standard library in-process (target: under 150 ms), against the
// natural baseline: the bare cost of visiting the same tree (readdir + lstat of every entry),
// and `find` doing the same walk as a process. Minimums are shown too: on a loaded machine
// they are the steadiest figure.
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Config } from '../src/config/types.js';
import { plan } from '../src/plan/index.js';
import { copy, makeConfig } from '../test/plan/helpers.js';

const PYTHON = '/usr/bin/python3';
const STDLIB = '/usr/lib/python3.11';

// The Config the loader would produce for `cmd: [/usr/bin/python3, ...]` plus the stdlib tree.
const config = (): Config => makeConfig({ name: 'python3', cmd: [PYTHON, '-c', 'print(6*7)'], files: [copy(STDLIB, STDLIB)] });

function walk(dir: string): number {
  let n = 0;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    n++;
    if (lstatSync(p).isDirectory()) n += walk(p);
  }
  return n;
}

function time(runs: number, f: () => void): { median: number; min: number; first: number } {
  const t: number[] = [];
  for (let i = 0; i < runs; i++) {
    const s = performance.now();
    f();
    t.push(performance.now() - s);
  }
  const first = t[0]!;
  t.sort((a, b) => a - b);
  return { median: t[Math.floor(t.length / 2)]!, min: t[0]!, first };
}

export async function bench(): Promise<void> {
  if (!existsSync(PYTHON) || !existsSync(join(STDLIB, 'os.py'))) {
    console.log(`skipped: ${PYTHON} or ${STDLIB} is absent on this machine`);
    return;
  }
  const env = { PATH: '/usr/bin:/bin' };
  let entries = 0;
  let files = 0;
  const p = time(20, () => {
    const r = plan(config(), { env });
    if (!r.ok) throw r.error;
    entries = r.value.entries.length;
    files = r.value.totals.files;
  });
  let visited = 0;
  const w = time(20, () => {
    visited = walk(STDLIB);
  });
  const f = time(5, () => {
    spawnSync('find', [STDLIB, '-printf', '%s %p\n'], { stdio: 'ignore' });
  });
  const ms = (x: number) => `${x.toFixed(1)} ms`;
  console.log(`plan python3 + ${STDLIB} in-process: ${entries} entries (${files} files), ${visited} tree entries visited`);
  console.log(`  plan():                 median ${ms(p.median)}, min ${ms(p.min)}, first (cold) ${ms(p.first)}   target < 150 ms: ${p.median < 150 ? 'met' : 'MISSED'}`);
  console.log(`  bare readdir+lstat walk: median ${ms(w.median)}, min ${ms(w.min)}   plan/walk = ${(p.median / w.median).toFixed(2)}x (min/min ${(p.min / w.min).toFixed(2)}x)`);
  console.log(`  find -printf (process):  median ${ms(f.median)}   plan/find = ${(p.median / f.median).toFixed(2)}x`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await bench();
