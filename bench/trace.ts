// `osv trace` overhead: a program run under the loader's tracing and strace (and the report
// built from the logs) against the same program run bare, which is the natural baseline.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { kernelSonames } from '../src/resolve/kernel-libraries.js';
import { EMPTY_PLAN, trace } from '../src/trace/index.js';

const RUNS = 5;
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function one(label: string, argv: [string, ...string[]], useStrace: boolean): Promise<void> {
  const bare: number[] = [];
  const traced: number[] = [];
  let findings = 0;
  for (let i = 0; i < RUNS; i++) {
    let t = performance.now();
    spawnSync(argv[0], argv.slice(1), { stdio: 'ignore' });
    bare.push(performance.now() - t);
    t = performance.now();
    const r = await trace({ argv, cwd: process.cwd(), useStrace, stdout: 'stderr', plan: EMPTY_PLAN, kernelSonames: kernelSonames('x86_64', false) });
    traced.push(performance.now() - t);
    findings = r.findings.length;
  }
  const b = median(bare);
  const tr = median(traced);
  console.log(`${label.padEnd(52)} bare ${b.toFixed(0).padStart(5)} ms   traced ${tr.toFixed(0).padStart(5)} ms   ratio ${(tr / b).toFixed(1)}x   (${findings} findings)`);
}

export async function bench(): Promise<void> {
  const strace = existsSync('/usr/bin/strace');
  if (existsSync('/usr/bin/python3')) {
    const py: [string, ...string[]] = ['/usr/bin/python3', '-c', 'import json, ssl, decimal, sqlite3'];
    await one('python3 import json,ssl,decimal,sqlite3 (ld)', py, false);
    if (strace) await one('python3 import json,ssl,decimal,sqlite3 (ld+strace)', py, true);
  }
  if (existsSync('/usr/bin/node') && strace) await one('node -e require("https") (ld+strace)', ['/usr/bin/node', '-e', 'require("https")'], true);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await bench();
