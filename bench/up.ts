// `osv up` of the C example (image already built: the everyday case), from the command to the
// program's first console line, against the same QEMU command started by hand. The difference
// is osv's own overhead (CLI start-up, configuration, the no-op build check, the accel decision,
// console scanning); target under 300 ms. Needs OSV_KERNEL (a real OSv kernel).
// Run: node --import tsx bench/up.ts   (after `npm run build`)

import { spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const ROOT = join(import.meta.dirname, '..');
const OSV = join(ROOT, 'bin', 'osv.js');
const RUNS = Number(process.env['BENCH_RUNS'] ?? 5);
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const FIRST_LINE = /Hello from OSv!/;

/** Milliseconds from spawn to the first console line of the program. */
function firstLine(argv: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(argv[0]!, argv.slice(1), { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    let at: number | undefined;
    const watch = (d: Buffer): void => {
      text += d.toString('latin1');
      if (at === undefined && FIRST_LINE.test(text)) at = performance.now() - t0;
    };
    child.stdout.on('data', watch);
    child.stderr.on('data', watch);
    child.on('close', () => (at === undefined ? reject(new Error(`no program line from ${argv.join(' ')}:\n${text}`)) : resolve(at)));
  });
}

export async function bench(): Promise<void> {
  if (!process.env['OSV_KERNEL']) {
    console.log('skipped: OSV_KERNEL is not set (a real OSv kernel is needed to boot the C example)');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'osv-bench-up-'));
  try {
    cpSync(join(ROOT, 'examples', 'hello-c'), dir, { recursive: true });
    if (spawnSync('make', ['-s'], { cwd: dir }).status !== 0) throw new Error('make failed in the C example');
    const env = { ...process.env, CI: '1' };
    // Build once, and learn the exact QEMU command osv runs.
    const dry = spawnSync(process.execPath, [OSV, 'up', '-q', '--dry-run', '--json'], { cwd: dir, env, encoding: 'utf8' });
    if (dry.status !== 0) throw new Error(`osv up --dry-run failed:\n${dry.stderr}`);
    const qemu = (JSON.parse(dry.stdout) as { command: string[] }).command;
    const byHand: number[] = [];
    const viaOsv: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      byHand.push(await firstLine(qemu, dir, env));
      viaOsv.push(await firstLine([process.execPath, OSV, 'up', '-q'], dir, env));
    }
    const h = median(byHand);
    const o = median(viaOsv);
    console.log(`C example, ${RUNS} runs, medians to the program's first line:`);
    console.log(`  QEMU by hand   ${h.toFixed(0)} ms`);
    console.log(`  osv up         ${o.toFixed(0)} ms   (overhead ${(o - h).toFixed(0)} ms, ${(o / h).toFixed(2)}x; target (whole process, over QEMU by hand) < 300 ms: ${o - h < 300 ? 'met' : 'NOT met'})`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await bench();
