// The resolver against the tools people use for the same job: lddtree (what OSv's
// manifest_from_host.sh runs) and ldd, on curl, python3 and git. Two separate comparisons,
// never mixed (a warm in-process run against a fresh process measures Node.js's start-up):
//   whole process: `node bin/osv.js resolve PROG` vs `lddtree PROG` vs `ldd PROG`, each a new
//   process, median of runs (needs `npm run build`);
//   in-process: resolveClosure, median of warm runs (a fresh resolver each run: no path or ELF
//   memo survives; only the parsed ld.so.cache is reused) and the first, cold run; no other
//   tool runs in this process, so these figures stand alone.
// Targets: (whole process) osv resolve curl >= 3x faster than lddtree curl, wall;
//          (in-process) curl's closure under 10 ms.
// Run: node --import tsx bench/resolve.ts   (or `npm run bench -- resolve`)

import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { nodeHostFs } from '../src/hostfs.js';
import { resolveClosure } from '../src/resolve/index.js';
import type { ResolveOptions } from '../src/resolve/types.js';
import { EXTRA_CA, withoutExtraCa } from './node-env.js';
import { median, ms, ratio, show, timeProcess, type Timing } from './process.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
// /usr/bin/python3 itself: the python3 first on PATH may be a pyenv shim (a shell script).
const PROGRAMS = ['/usr/bin/curl', '/usr/bin/python3', '/usr/bin/git'];
const RUNS = 30;
const WARMUP = 20;
const PROCESS_RUNS = 9;
// lddtree is a Python script; a pyenv shim first on PATH can break it, so the system python.
const ENV = { ...process.env, PATH: `/usr/bin:/bin:${process.env['PATH'] ?? ''}` };
const proc = (cmd: string, args: string[], env: NodeJS.ProcessEnv = ENV): Timing | undefined => timeProcess(cmd, args, { env, runs: PROCESS_RUNS });

export async function bench(): Promise<void> {
  const options: ResolveOptions = { arch: 'x86_64', sysroot: '/', libraryPath: [], hiddenSymbols: false };
  const hasLddtree = spawnSync('lddtree', ['--help'], { env: ENV }).status === 0;
  if (!hasLddtree) console.log('note: lddtree (pax-utils) is not installed; only ldd is compared');
  const programs = PROGRAMS.filter((p) => {
    if (!existsSync(p)) console.log(`  skipped ${p}: not installed`);
    return existsSync(p);
  });

  const cli = join(ROOT, 'bin', 'osv.js');
  if (!existsSync(join(ROOT, 'dist', 'start.cjs'))) {
    console.log('whole process: skipped, dist/ is not built (run `npm run build`)');
  } else {
    console.log(`whole process: each command a new process, median of ${PROCESS_RUNS} runs`);
    const floor = proc(process.execPath, ['-e', '0']);
    console.log(`  node -e 0 (the floor of any Node.js command) ${show(floor)}`);
    let curl: { osv: Timing; lddtree: Timing | undefined } | undefined;
    for (const prog of programs) {
      const osv = proc(process.execPath, [cli, 'resolve', prog]);
      const lddtree = hasLddtree ? proc('lddtree', [prog]) : undefined;
      const ldd = proc('ldd', [prog]);
      if (osv === undefined) continue;
      if (prog.endsWith('/curl')) curl = { osv, lddtree };
      const vsLddtree = lddtree ? `;  lddtree ${show(lddtree)}: ${ratio(lddtree, osv)} osv's time` : '';
      console.log(`  ${prog.padEnd(16)} osv resolve ${show(osv)}${vsLddtree};  ldd ${show(ldd)}: ${ratio(ldd, osv)} osv's time`);
    }
    if (curl?.lddtree) {
      const w = curl.lddtree.wall / curl.osv.wall;
      console.log(`  target (whole process): osv resolve curl >= 3x faster than lddtree curl, wall: ${w.toFixed(1)}x, ${w >= 3 ? 'met' : 'MISSED'}`);
    }
    const plain = withoutExtraCa(ENV);
    if (plain && curl) {
      const osv2 = proc(process.execPath, [cli, 'resolve', '/usr/bin/curl'], plain);
      const floor2 = proc(process.execPath, ['-e', '0'], plain);
      if (osv2 && floor2) {
        const r2 = curl.lddtree === undefined ? undefined : curl.lddtree.wall / osv2.wall;
        console.log(
          `  ${EXTRA_CA} is set here, and every Node.js process parses that bundle at start-up. Without it (whole process):\n` +
            `      osv resolve curl ${show(osv2)}; node -e 0 ${show(floor2)}${curl.lddtree ? `; lddtree curl: ${ratio(curl.lddtree, osv2)} osv's time` : ''}` +
            (r2 === undefined ? '' : ` (target >= 3x wall: ${r2 >= 3 ? 'met' : 'MISSED'})`),
        );
      }
    }
  }

  console.log(`in-process: resolveClosure in this process, median of ${RUNS} warm runs after ${WARMUP} warm-ups, and the first (cold) run`);
  for (const prog of programs) {
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
    console.log(`  ${prog.padEnd(16)} ${String(r.value.objects.length - 1).padStart(3)} libraries  warm ${show(ours)}, first run ${ms(first)}`);
    if (prog.endsWith('/curl')) console.log(`  target (in-process): curl's closure < 10 ms, warm: ${ours.wall < 10 ? 'met' : 'MISSED'}`);
  }
  const load = existsSync('/proc/loadavg') ? readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ') : 'n/a';
  console.log(`  (load average during the run: ${load}; on a busy machine compare the cpu ratios)`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await bench();
