// The resolver against the tools people use for the same job: lddtree (what OSv's
// manifest_from_host.sh runs) and ldd, on curl, python3 and git.
//   in-process: resolveClosure, median of warm runs (a fresh resolver each run: no path or ELF
//   memo survives; only the parsed ld.so.cache is reused) and the first, cold run.
//   whole process: `node bin/osv.js resolve curl` vs `lddtree curl` (needs `npm run build`).
// Targets: curl's in-process closure under 10 ms; the whole osv process >= 3x faster than lddtree.
// Run: node --import tsx bench/resolve.ts   (or `npm run bench -- resolve`)

import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { nodeHostFs } from '../src/hostfs.js';
import { resolveClosure } from '../src/resolve/index.js';
import type { ResolveOptions } from '../src/resolve/types.js';
import { EXTRA_CA, withoutExtraCa } from './node-env.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
// /usr/bin/python3 itself: the python3 first on PATH may be a pyenv shim (a shell script).
const PROGRAMS = ['/usr/bin/curl', '/usr/bin/python3', '/usr/bin/git'];
const RUNS = 30;
const WARMUP = 20;
const PROCESS_RUNS = 9;
// lddtree is a Python script; a pyenv shim first on PATH can break it, so the system python.
const ENV = { ...process.env, PATH: `/usr/bin:/bin:${process.env['PATH'] ?? ''}` };

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const ms = (x: number): string => `${x.toFixed(x < 10 ? 2 : 1)} ms`;

const hasTime = existsSync('/usr/bin/time');

interface Timing {
  /** Median wall-clock milliseconds. */
  wall: number;
  /** Median user+system CPU milliseconds (steadier than wall time on a busy machine). */
  cpu: number | undefined;
}

function timeProcess(cmd: string, args: string[], env: NodeJS.ProcessEnv = ENV): Timing | undefined {
  const walls: number[] = [];
  const cpus: number[] = [];
  for (let i = 0; i <= PROCESS_RUNS; i++) {
    const argv = hasTime ? ['-f', '@@%U %S', cmd, ...args] : args;
    const t0 = performance.now();
    const r = spawnSync(hasTime ? '/usr/bin/time' : cmd, argv, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    const t = performance.now() - t0;
    const err = r.stderr?.toString() ?? '';
    if (r.status !== 0) {
      console.log(`  ${cmd} ${args.join(' ')} failed (${r.error?.message ?? err.trim().split('\n').pop()})`);
      return undefined;
    }
    if (i === 0) continue; // run 0 warms the page cache
    walls.push(t);
    const m = /@@([\d.]+) ([\d.]+)/.exec(err);
    if (m) cpus.push((Number(m[1]) + Number(m[2])) * 1000);
  }
  return { wall: median(walls), cpu: cpus.length ? median(cpus) : undefined };
}

const show = (t: Timing | undefined): string => (t === undefined ? 'n/a' : `${ms(t.wall)}${t.cpu !== undefined ? ` (cpu ${ms(t.cpu)})` : ''}`);
const ratio = (theirs: Timing | undefined, ours: Timing): string => {
  if (theirs === undefined) return 'n/a';
  const w = theirs.wall / ours.wall;
  const c = theirs.cpu !== undefined && ours.cpu ? theirs.cpu / ours.cpu : undefined;
  return `${w.toFixed(1)}x wall${c !== undefined ? `, ${c.toFixed(1)}x cpu` : ''}`;
};

export async function bench(): Promise<void> {
  const options: ResolveOptions = { arch: 'x86_64', sysroot: '/', libraryPath: [], hiddenSymbols: false };
  const hasLddtree = spawnSync('lddtree', ['--help'], { env: ENV }).status === 0;
  if (!hasLddtree) console.log('note: lddtree (pax-utils) is not installed; only ldd is compared');
  console.log('resolve: in-process closure vs lddtree and ldd (processes), median of runs');
  for (const prog of PROGRAMS) {
    if (!existsSync(prog)) {
      console.log(`  skipped ${prog}: not installed`);
      continue;
    }
    const first0 = performance.now();
    const r = resolveClosure([{ path: prog }], options, nodeHostFs);
    const first = performance.now() - first0;
    if (!r.ok) throw r.error;
    for (let i = 0; i < WARMUP; i++) resolveClosure([{ path: prog }], options, nodeHostFs);
    const walls: number[] = [];
    const cpus: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      resolveClosure([{ path: prog }], options, nodeHostFs);
      walls.push(performance.now() - t0);
      const c = process.cpuUsage(c0);
      cpus.push((c.user + c.system) / 1000);
    }
    const ours: Timing = { wall: median(walls), cpu: median(cpus) };
    const lddtree = hasLddtree ? timeProcess('lddtree', [prog]) : undefined;
    const ldd = timeProcess('ldd', [prog]);
    const libs = r.value.objects.length - 1;
    console.log(
      `  ${prog.padEnd(16)} ${String(libs).padStart(3)} libraries  osv in-process ${show(ours)}, first run ${ms(first)}` +
        (prog.endsWith('/curl') ? ` (target < 10 ms: ${ours.wall < 10 ? 'met' : 'MISSED'})` : '') +
        `\n      lddtree ${show(lddtree)}: ${ratio(lddtree, ours)} slower;  ldd ${show(ldd)}: ${ratio(ldd, ours)} slower`,
    );
  }

  const cli = join(ROOT, 'bin', 'osv.js');
  if (!existsSync(join(ROOT, 'dist', 'cli', 'main.js'))) {
    console.log('  skipped whole-process comparison: dist/ is not built (run `npm run build`)');
    return;
  }
  const osvProc = timeProcess(process.execPath, [cli, 'resolve', '/usr/bin/curl']);
  const nodeFloor = timeProcess(process.execPath, ['-e', '0']);
  const lddtreeProc = hasLddtree ? timeProcess('lddtree', ['/usr/bin/curl']) : undefined;
  if (osvProc === undefined) return;
  const wallRatio = lddtreeProc === undefined ? undefined : lddtreeProc.wall / osvProc.wall;
  console.log(
    `  whole process: osv resolve curl ${show(osvProc)}; node -e 0 alone ${show(nodeFloor)}; lddtree curl ${show(lddtreeProc)}\n` +
      `      osv is ${ratio(lddtreeProc, osvProc)} faster than lddtree` +
      (wallRatio === undefined ? '' : ` (target >= 3x wall: ${wallRatio >= 3 ? 'met' : 'MISSED'})`),
  );
  const plain = withoutExtraCa(ENV);
  if (plain) {
    const osv2 = timeProcess(process.execPath, [cli, 'resolve', '/usr/bin/curl'], plain);
    const floor2 = timeProcess(process.execPath, ['-e', '0'], plain);
    if (osv2 && floor2) {
      const r2 = lddtreeProc === undefined ? undefined : lddtreeProc.wall / osv2.wall;
      console.log(
        `  ${EXTRA_CA} is set here, and every Node.js process parses that bundle at start-up. Without it:\n` +
          `      osv resolve curl ${show(osv2)}; node -e 0 alone ${show(floor2)}; osv is ${ratio(lddtreeProc, osv2)} faster than lddtree` +
          (r2 === undefined ? '' : ` (target >= 3x wall: ${r2 >= 3 ? 'met' : 'MISSED'})`),
      );
    }
  }
  const load = existsSync('/proc/loadavg') ? readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ') : 'n/a';
  console.log(`  (load average during the run: ${load}; on a busy machine compare the cpu ratios)`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await bench();
