// The resolver against the tools people use for the same job: lddtree (what OSv's
// manifest_from_host.sh runs) and ldd, on curl, python3 and git.
//   in-process: resolveClosure, median of warm runs (a fresh resolver each run) and the first run.
//   whole process: `node bin/osv.js resolve curl` vs `lddtree curl` (needs `npm run build`).
// Targets: curl's in-process closure under 10 ms; the whole osv process >= 3x faster than lddtree.
// Run: node --import tsx bench/resolve.ts   (or `npm run bench -- resolve`)

import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { nodeHostFs } from '../src/hostfs.js';
import { resolveClosure } from '../src/resolve/index.js';
import type { ResolveOptions } from '../src/resolve/types.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
// /usr/bin/python3 itself: the python3 first on PATH may be a pyenv shim (a shell script).
const PROGRAMS = ['/usr/bin/curl', '/usr/bin/python3', '/usr/bin/git'];
const RUNS = 15;
const PROCESS_RUNS = 9;
// lddtree is a Python script; a pyenv shim first on PATH can break it, so the system python.
const ENV = { ...process.env, PATH: `/usr/bin:/bin:${process.env['PATH'] ?? ''}` };

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const ms = (x: number): string => `${x.toFixed(x < 10 ? 2 : 1)} ms`;

function timeProcess(cmd: string, args: string[]): number | undefined {
  const times: number[] = [];
  for (let i = 0; i <= PROCESS_RUNS; i++) {
    const t0 = performance.now();
    const r = spawnSync(cmd, args, { env: ENV, stdio: ['ignore', 'ignore', 'pipe'] });
    const t = performance.now() - t0;
    if (r.status !== 0) {
      console.log(`  ${cmd} ${args.join(' ')} failed (${r.error?.message ?? r.stderr.toString().trim().split('\n').pop()})`);
      return undefined;
    }
    if (i > 0) times.push(t); // run 0 warms the page cache
  }
  return median(times);
}

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
    const times: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const t0 = performance.now();
      resolveClosure([{ path: prog }], options, nodeHostFs);
      times.push(performance.now() - t0);
    }
    const ours = median(times);
    const lddtree = hasLddtree ? timeProcess('lddtree', [prog]) : undefined;
    const ldd = timeProcess('ldd', [prog]);
    const libs = r.value.objects.length - 1;
    const ratio = (x: number | undefined): string => (x === undefined ? 'n/a' : `${(x / ours).toFixed(1)}x`);
    console.log(
      `  ${prog.padEnd(16)} ${String(libs).padStart(3)} objects  osv ${ms(ours)} (first run ${ms(first)})  ` +
        `lddtree ${lddtree === undefined ? 'n/a' : ms(lddtree)} (${ratio(lddtree)} slower)  ldd ${ldd === undefined ? 'n/a' : ms(ldd)} (${ratio(ldd)} slower)` +
        (prog.endsWith('/curl') ? `  target < 10 ms: ${ours < 10 ? 'met' : 'MISSED'}` : ''),
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
  const ratio = lddtreeProc === undefined ? undefined : lddtreeProc / osvProc;
  console.log(
    `  whole process: osv resolve curl ${ms(osvProc)} (node -e 0 alone ${nodeFloor === undefined ? 'n/a' : ms(nodeFloor)}), ` +
      `lddtree curl ${lddtreeProc === undefined ? 'n/a' : ms(lddtreeProc)}: ` +
      (ratio === undefined ? 'no lddtree' : `${ratio.toFixed(1)}x faster, target >= 3x: ${ratio >= 3 ? 'met' : 'MISSED'}`),
  );
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await bench();
