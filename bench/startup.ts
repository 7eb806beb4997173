// Every command as a whole process, against `node -e 0` started in the same round: what a user
// waits for, and how much of it is osv's own (the rest is Node.js starting). The commands:
// `osv --version`, `validate`, `config`, `plan`, `manifest` and `check` in a copy of the python
// example, `resolve /usr/bin/curl` (another program when curl is absent; the table says which)
// and an up-to-date `build` (its no-op fast path). Each round runs every command once, each
// right after its own `node -e 0`; the table gives medians over the rounds and the median of the
// paired differences (osv's own share), so that a busy neighbour weighs on both alike. Where
// /usr/bin/time exists, CPU time (user + system, all threads) is given the same way: on a
// loaded machine wall time mostly measures the neighbours, CPU time much less.
// Targets (own share): validate, config, resolve <= 30 ms; plan, manifest <= 120 ms.
// Where NODE_EXTRA_CA_CERTS is set, the whole table is measured a second time without it, and a
// third time as users run osv: bin/osv, which starts Node without the bundle (osv reads it at
// its first HTTPS connection), against `node -e 0` with it, the floor of any Node.js command.
// Run: node --import tsx bench/startup.ts   (or `npm run bench -- startup`; BENCH_RUNS=N rounds)

import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { EXTRA_CA, OSV_COMMAND, withoutExtraCa, withThisNode } from './node-env.js';
import { median } from './process.js';

const ROOT = join(import.meta.dirname, '..');
const OSV = join(ROOT, 'bin', 'osv.js');
const RUNS = Number(process.env['BENCH_RUNS'] ?? 15);
const RESOLVE_CANDIDATES = ['/usr/bin/curl', '/usr/bin/wget', '/usr/bin/git'];

interface Case {
  label: string;
  args: string[];
  /** Extra environment (the no-op build's kernel). */
  env?: NodeJS.ProcessEnv;
  /** Own-share target in ms, when the issue sets one. */
  target?: number;
}

const hasTime = existsSync('/usr/bin/time');

interface Took {
  wall: number;
  /** User + system CPU ms (from /usr/bin/time, 10 ms steps): steadier than wall time on a busy machine. */
  cpu: number | undefined;
}

function run(argv: string[], cwd: string, env: NodeJS.ProcessEnv): Took {
  const cmd = hasTime ? ['/usr/bin/time', '-f', '@@%U %S', ...argv] : argv;
  const t = performance.now();
  const r = spawnSync(cmd[0]!, cmd.slice(1), { cwd, env, stdio: ['ignore', 'ignore', 'pipe'] });
  const wall = performance.now() - t;
  const err = r.stderr.toString();
  if (r.status !== 0) throw new Error(`${argv.join(' ')} failed (${r.status ?? r.signal}): ${err.trim()}`);
  const m = /@@([\d.]+) ([\d.]+)\s*$/.exec(err);
  return { wall, cpu: m ? (Number(m[1]) + Number(m[2])) * 1000 : undefined };
}

interface Row {
  wall: number;
  bare: number;
  own: number;
  cpu?: { osv: number; bare: number; own: number };
}

/** RUNS rounds of every case, each after its own `node -e 0`; one untimed round first. */
function measure(cases: Case[], cwd: string, env: NodeJS.ProcessEnv, osv: string[] = [process.execPath, OSV]): Row[] {
  const walls = cases.map((): Took[] => []);
  const bares = cases.map((): Took[] => []);
  for (let round = 0; round <= RUNS; round++) {
    for (const [i, c] of cases.entries()) {
      const e = { ...env, ...c.env };
      const bare = run([process.execPath, '-e', '0'], cwd, e);
      const wall = run([...osv, ...c.args], cwd, e);
      if (round === 0) continue;
      walls[i]!.push(wall);
      bares[i]!.push(bare);
    }
  }
  const paired = (i: number, f: (t: Took) => number | undefined): { osv: number; bare: number; own: number } | undefined => {
    const osv = walls[i]!.map(f);
    const bare = bares[i]!.map(f);
    if (osv.some((x) => x === undefined) || bare.some((x) => x === undefined)) return undefined;
    return { osv: median(osv as number[]), bare: median(bare as number[]), own: median(osv.map((x, j) => x! - bare[j]!)) };
  };
  return cases.map((_, i) => {
    const w = paired(i, (t) => t.wall)!;
    const cpu = paired(i, (t) => t.cpu);
    return { wall: w.osv, bare: w.bare, own: w.own, ...(cpu ? { cpu } : {}) };
  });
}

/** Targets are for the own share over the same Node start; `against` another floor shows none. */
function table(cases: Case[], rows: Row[], against = false): void {
  const f = (x: number): string => `${x.toFixed(0)} ms`;
  const withCpu = rows.every((r) => r.cpu);
  console.log(`| command | wall | bare node | × bare node | osv's own share | target (own share) |${withCpu ? ' CPU | bare node CPU | own CPU |' : ''}`);
  console.log(`|---|---|---|---|---|---|${withCpu ? '---|---|---|' : ''}`);
  for (const [i, c] of cases.entries()) {
    const r = rows[i]!;
    const target = c.target === undefined || against ? '' : `≤ ${c.target} ms: ${r.own <= c.target ? 'met' : 'NOT met'}`;
    const cpu = withCpu ? ` ${f(r.cpu!.osv)} | ${f(r.cpu!.bare)} | ${f(r.cpu!.own)} |` : '';
    console.log(`| \`osv ${c.label}\` | ${f(r.wall)} | ${f(r.bare)} | ${(r.wall / r.bare).toFixed(2)} | ${f(r.own)} | ${target} |${cpu}`);
  }
}

/** A stand-in for loader-stripped.elf: a `disk` image does not contain the kernel, the build only hashes it. */
function standInKernel(dir: string): string {
  const kernel = join(dir, 'loader-stripped.elf');
  const cc = spawnSync('gcc', ['-static', '-x', 'c', '-o', kernel, '-'], { input: 'int main(void){return 0;}\n' });
  if (cc.status !== 0) throw new Error('gcc -static failed: the stand-in kernel for the no-op build could not be built');
  return kernel;
}

export async function bench(): Promise<void> {
  if (!existsSync(join(ROOT, 'dist', 'start.cjs'))) {
    console.log('skipped: dist/ is not built (run `npm run build`)');
    return;
  }
  const tmp = mkdtempSync(join(tmpdir(), 'osv-bench-startup-'));
  try {
    const dir = join(tmp, 'python-hello');
    cpSync(join(ROOT, 'examples', 'python-hello'), dir, { recursive: true });
    const kernelEnv = { OSV_KERNEL: process.env['OSV_KERNEL'] ?? standInKernel(tmp), CI: '1' };
    const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
    run([process.execPath, OSV, 'build', '-q', '--no-check'], dir, { ...env, ...kernelEnv });
    const resolved = RESOLVE_CANDIDATES.find((p) => existsSync(p));
    const cases: Case[] = [
      { label: '--version', args: ['--version'] },
      { label: 'validate', args: ['validate'], target: 30 },
      { label: 'config', args: ['config'], target: 30 },
      { label: 'plan', args: ['plan'], target: 120 },
      { label: 'manifest', args: ['manifest'], target: 120 },
      { label: 'check', args: ['check'] },
      ...(resolved ? [{ label: `resolve ${resolved}`, args: ['resolve', resolved], target: 30 }] : []),
      { label: 'build (no-op)', args: ['build', '-q', '--no-check'], env: kernelEnv },
    ];
    if (!resolved) console.log(`note: none of ${RESOLVE_CANDIDATES.join(', ')} is installed: resolve is left out`);
    console.log(`python example (${dir}); ${RUNS} rounds, medians; load average ${loadavg().map((x) => x.toFixed(1)).join(' ')} on ${availableParallelism()} CPUs`);
    const plain = withoutExtraCa(env);
    console.log(plain ? `\nwith ${EXTRA_CA}=${env[EXTRA_CA]}:\n` : `\n(${EXTRA_CA} is not set)\n`);
    table(cases, measure(cases, dir, env));
    if (plain) {
      console.log(`\nwithout ${EXTRA_CA}:\n`);
      table(cases, measure(cases, dir, plain));
      console.log(`\nas installed (bin/osv, which starts Node without ${EXTRA_CA}), with ${EXTRA_CA} set; bare node is \`node -e 0\` with it:\n`);
      table(cases, measure(cases, dir, withThisNode(env), [OSV_COMMAND]), true);
    }
    console.log(`\nload average at the end: ${loadavg().map((x) => x.toFixed(1)).join(' ')}`);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await bench();
