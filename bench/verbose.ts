// What `--verbose` costs at boot. osv-up adds it to every command line so that OSv prints the
// program's exit status; it also makes OSv print its debug log. Whole process against whole
// process: the same QEMU command (the C example, direct kernel boot under TCG) with and
// without `--verbose`, in paired runs, timed to the program's first line and to QEMU's exit.
// Needs OSV_KERNEL (a real OSv kernel).
// Run: node --import tsx bench/verbose.ts   (after `npm run build`)

import { spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const ROOT = join(import.meta.dirname, '..');
const OSV = join(ROOT, 'bin', 'osv.js');
const RUNS = Number(process.env['BENCH_RUNS'] ?? 9);
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Milliseconds from spawn to the program's first line and to QEMU's exit. */
function boot(argv: string[], cwd: string): Promise<{ first: number; end: number }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(argv[0]!, argv.slice(1), { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    let first: number | undefined;
    child.stdout.on('data', (d: Buffer) => {
      text += d.toString('latin1');
      if (first === undefined && /Hello from OSv!/.test(text)) first = performance.now() - t0;
    });
    child.on('close', (code) => (first === undefined || code !== 0 ? reject(new Error(`boot failed (${code}):\n${text}`)) : resolve({ first, end: performance.now() - t0 })));
  });
}

export async function bench(): Promise<void> {
  if (!process.env['OSV_KERNEL']) {
    console.log('skipped: OSV_KERNEL is not set (a real OSv kernel is needed to boot the C example)');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'osv-bench-verbose-'));
  try {
    cpSync(join(ROOT, 'examples', 'hello-c'), dir, { recursive: true });
    if (spawnSync('make', ['-s'], { cwd: dir }).status !== 0) throw new Error('make failed in the C example');
    const dry = spawnSync(process.execPath, [OSV, 'up', '-q', '--dry-run', '--json'], { cwd: dir, encoding: 'utf8', env: { ...process.env, CI: '1' } });
    if (dry.status !== 0) throw new Error(`osv up --dry-run failed:\n${dry.stderr}`);
    const loud = (JSON.parse(dry.stdout) as { command: string[] }).command;
    const at = loud.indexOf('-append') + 1;
    if (at === 0 || !loud[at]!.includes(' --verbose ')) throw new Error(`the planned command line has no --verbose: ${loud[at]}`);
    const quiet = loud.map((a, i) => (i === at ? a.replace(' --verbose ', ' ') : a));
    const ratios = { first: [] as number[], end: [] as number[] };
    const with_ = { first: [] as number[], end: [] as number[] };
    const without = { first: [] as number[], end: [] as number[] };
    for (let i = 0; i < RUNS; i++) {
      // Alternate the order so that a slow moment of the machine does not favour one side.
      let a, b;
      if (i % 2 === 0) {
        a = await boot(loud, dir);
        b = await boot(quiet, dir);
      } else {
        b = await boot(quiet, dir);
        a = await boot(loud, dir);
      }
      with_.first.push(a.first);
      with_.end.push(a.end);
      without.first.push(b.first);
      without.end.push(b.end);
      ratios.first.push(a.first / b.first);
      ratios.end.push(a.end / b.end);
    }
    console.log(`C example under TCG, QEMU started directly, ${RUNS} paired runs (whole process against whole process), medians:`);
    console.log(`  to the first line:  --verbose ${median(with_.first).toFixed(0)} ms, without ${median(without.first).toFixed(0)} ms  (median ratio ${median(ratios.first).toFixed(3)}x)`);
    console.log(`  to QEMU's exit:     --verbose ${median(with_.end).toFixed(0)} ms, without ${median(without.end).toFixed(0)} ms  (median ratio ${median(ratios.end).toFixed(3)}x)`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await bench();
