// Planning python3 with its standard library, measured two ways that are never compared
// with each other:
//   in-process: plan() in this process (target: under 150 ms), against the bare cost of
//   visiting the same tree here (readdir + lstat of every entry);
//   whole process: `node bin/osv.js plan` of a project shipping the same image, against `find`
//   walking the same tree and `node -e 0` (needs `npm run build`).
// Minimums are shown too: on a loaded machine they are the steadiest figure.
// Run: node --import tsx bench/plan.ts   (or `npm run bench -- plan`)
import { existsSync, lstatSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Config } from '../src/config/types.js';
import { plan } from '../src/plan/index.js';
import { copy, makeConfig } from '../test/plan/helpers.js';
import { ratio, show, timeProcess } from './process.js';

const ROOT = join(import.meta.dirname, '..');

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
  const ms = (x: number) => `${x.toFixed(1)} ms`;
  console.log(`plan python3 + ${STDLIB}: ${entries} entries (${files} files), ${visited} tree entries visited`);
  console.log('in-process (this process, 20 runs):');
  console.log(`  plan():                  median ${ms(p.median)}, min ${ms(p.min)}, first (cold) ${ms(p.first)}`);
  console.log(`  target (in-process): plan() < 150 ms, median: ${p.median < 150 ? 'met' : 'MISSED'}`);
  console.log(`  bare readdir+lstat walk: median ${ms(w.median)}, min ${ms(w.min)}   plan/walk = ${(p.median / w.median).toFixed(2)}x (min/min ${(p.min / w.min).toFixed(2)}x)`);

  if (!existsSync(join(ROOT, 'dist', 'start.cjs'))) {
    console.log('whole process: skipped, dist/ is not built (run `npm run build`)');
    return;
  }
  const project = mkdtempSync(join(tmpdir(), 'osv-bench-plan-'));
  try {
    writeFileSync(join(project, 'osv.yaml'), `name: python3\ncmd: [${PYTHON}, -c, "print(6*7)"]\nfiles:\n  - {src: ${STDLIB}, dest: ${STDLIB}}\n`);
    const opts = { cwd: project, env: { ...process.env, ...env, OSV_KERNEL: '' }, runs: 9 };
    const osv = timeProcess(process.execPath, [join(ROOT, 'bin', 'osv.js'), 'plan', '--json'], opts);
    const find = timeProcess('find', [STDLIB, '-printf', '%s %p\n'], opts);
    const floor = timeProcess(process.execPath, ['-e', '0'], opts);
    console.log('whole process (each a new process, median of 9 runs):');
    console.log(`  osv plan --json:         ${show(osv)}`);
    console.log(`  find -printf, same tree: ${show(find)}   osv plan takes ${ratio(osv, find)} find's time`);
    console.log(`  node -e 0 (Node.js start): ${show(floor)}`);
  } finally {
    rmSync(project, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await bench();
