// `osv check` on the python3 plan (python3 and its standard library tree, as the python
// examples ship it), measured two ways that are never compared with each other:
//   whole process: what a user waits for `node bin/osv.js check` in a project, the kernel's
//   symbols and the objects' already cached on disk, against `osv plan` of the same project (the check's own
//   share is the difference) and `node -e 0` (needs `npm run build`);
//   in-process: checkPlan in this process after warm-up runs (what `osv build` and `osv up`
//   spend on it), the objects read from their files (and once from the object cache), against
//   reading the kernel's symbols and planning the same image here.
// Target: (in-process, warm, kernel symbols cached) under 50 ms.
// Kernel: $OSV_KERNEL (a loader-stripped.elf or a directory holding one), else /tmp/osv-kernel;
// without one, a stand-in kernel compiled here (the check then does the same work on the image).
// Run: node --import tsx bench/check.ts   (or `npm run bench -- check`)

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { checkPlan } from '../src/check/check.js';
import { readKernelExports } from '../src/check/kernel-symbols.js';
import { fileObjectCache, noObjectCache } from '../src/check/object-cache.js';
import { fileSymbolCache, noSymbolCache } from '../src/check/symbol-cache.js';
import type { Config } from '../src/config/types.js';
import { nodeHostFs } from '../src/hostfs.js';
import { sha256File } from '../src/kernel/hash.js';
import type { KernelBundle } from '../src/kernel/types.js';
import { plan } from '../src/plan/index.js';
import { copy, makeConfig } from '../test/plan/helpers.js';
import { EXTRA_CA } from './node-env.js';
import { show, timeProcess } from './process.js';

const ROOT = join(import.meta.dirname, '..');
const PYTHON = '/usr/bin/python3';
const STDLIB = '/usr/lib/python3.11';
const RUNS = 15;

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Wall and CPU milliseconds of `fn`, median of RUNS after a few warm-up runs (JIT). */
function time(fn: () => void): { wall: number; cpu: number } {
  for (let i = 0; i < 5; i++) fn();
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const c = process.cpuUsage();
    const t = performance.now();
    fn();
    wall.push(performance.now() - t);
    const d = process.cpuUsage(c);
    cpu.push((d.user + d.system) / 1000);
  }
  return { wall: median(wall), cpu: median(cpu) };
}

function kernelElf(): string | undefined {
  for (const p of [process.env['OSV_KERNEL'], '/tmp/osv-kernel'].filter((x): x is string => !!x)) {
    const st = fs.statSync(p, { throwIfNoEntry: false });
    if (st?.isFile()) return p;
    const inDir = join(p, 'loader-stripped.elf');
    if (st?.isDirectory() && fs.existsSync(inDir)) return inDir;
  }
  return undefined;
}

/** A stand-in kernel exporting a few libc functions (no OSv kernel on this machine). */
function standInKernel(dir: string): string {
  const c = join(dir, 'kernel.c');
  fs.writeFileSync(c, ['malloc', 'free', 'memcpy', 'puts', '__libc_start_main'].map((n) => `void ${n}(void) {}`).join('\n') + '\nvoid _start(void) {}\n');
  const dep = join(dir, 'dep.c');
  fs.writeFileSync(dep, 'void dep(void) {}\n');
  const sh = (args: string[]): void => {
    const r = spawnSync('gcc', args, { stdio: 'inherit' });
    if (r.status !== 0) throw new Error(`gcc ${args.join(' ')} failed`);
  };
  sh(['-shared', '-fPIC', dep, '-o', join(dir, 'libdep.so')]);
  const out = join(dir, 'loader-stripped.elf');
  sh(['-no-pie', '-rdynamic', '-nostdlib', '-fno-builtin', c, '-o', out, `-L${dir}`, '-Wl,--no-as-needed', '-l:libdep.so']);
  return out;
}

/** The python3 image: the program and its standard library tree (as the python templates ship it). */
const pythonConfig = (): Config => makeConfig({ dir: '/bench', name: 'python-bench', cmd: [PYTHON, '-c', 'print(1)'], files: [copy(STDLIB, STDLIB)] });

export async function bench(): Promise<void> {
  if (!fs.existsSync(PYTHON) || !fs.existsSync(join(STDLIB, 'os.py'))) {
    console.log(`skipped: ${PYTHON} or ${STDLIB} is not on this machine`);
    return;
  }
  const tmp = fs.mkdtempSync(join(tmpdir(), 'osv-bench-check-'));
  try {
    let elf = kernelElf();
    const real = elf !== undefined;
    if (!elf) {
      if (spawnSync('gcc', ['--version']).status !== 0) {
        console.log('skipped: no OSv kernel ($OSV_KERNEL, /tmp/osv-kernel) and no gcc to build a stand-in');
        return;
      }
      elf = standInKernel(tmp);
    }
    const kernel: KernelBundle = { elf, sha256: sha256File(elf), origin: 'path', hiddenSymbols: false };
    const p = plan(pythonConfig(), { env: process.env });
    if (!p.ok) throw p.error;
    const cache = fileSymbolCache(join(tmp, 'symbols'));
    // The objects read from their files each time, unless a line says otherwise.
    const objects = noObjectCache;
    const first = checkPlan(p.value, kernel, nodeHostFs, { cache, objects });
    if (!first.ok) throw first.error;

    // As a new `osv check` process sees it: the cache file read and parsed again each time.
    const cached = time(() => void checkPlan(p.value, kernel, nodeHostFs, { cache: fileSymbolCache(join(tmp, 'symbols')), objects }));
    // The same cache object again (plan, build and up in one process): the parsed file is kept.
    const memo = time(() => void checkPlan(p.value, kernel, nodeHostFs, { cache, objects }));
    const uncached = time(() => void checkPlan(p.value, kernel, nodeHostFs, { cache: noSymbolCache, objects }));
    // The objects' symbols from the object cache too (filled by the first run), read as a new process reads them.
    const objectsDir = join(tmp, 'objects');
    checkPlan(p.value, kernel, nodeHostFs, { cache, objects: fileObjectCache(objectsDir) });
    const kept = time(() => void checkPlan(p.value, kernel, nodeHostFs, { cache: fileSymbolCache(join(tmp, 'symbols')), objects: fileObjectCache(objectsDir) }));
    const kernelRead = time(() => void readKernelExports(nodeHostFs, elf, kernel.sha256));
    const planning = time(() => void plan(pythonConfig(), { env: process.env }));
    const r = first.value;
    const ms = (x: { wall: number; cpu: number }): string => `${x.wall.toFixed(1)} ms wall, ${x.cpu.toFixed(1)} ms CPU`;
    console.log(`kernel: ${real ? elf : `stand-in (${elf})`}, ${r.kernel.symbols} exports`);
    console.log(`plan: ${p.value.entries.length} entries; checked ${r.totals.objects} ELF objects, ${r.totals.needs} needed symbols`);
    console.log(`result: ${r.summary}`);

    if (!fs.existsSync(join(ROOT, 'dist', 'start.cjs'))) console.log('whole process: skipped, dist/ is not built (run `npm run build`)');
    else {
      // The same image as a project: osv.yaml, the kernel in OSV_KERNEL, the symbol cache filled once.
      const project = join(tmp, 'project');
      fs.mkdirSync(project);
      fs.writeFileSync(join(project, 'osv.yaml'), `name: python-bench\ncmd: [${PYTHON}, -c, "print(1)"]\nfiles:\n  - {src: ${STDLIB}, dest: ${STDLIB}}\n`);
      const env: NodeJS.ProcessEnv = { ...process.env, OSV_KERNEL: elf, XDG_CACHE_HOME: join(tmp, 'cache'), NO_COLOR: '1' };
      const cli = join(ROOT, 'bin', 'osv.js');
      // Exit 1 is a check that found errors (a stand-in kernel lacks most of libc): the same work.
      const opts = { env, cwd: project, runs: 9, ok: [0, 1] };
      const check = timeProcess(process.execPath, [cli, 'check'], opts);
      const planned = timeProcess(process.execPath, [cli, 'plan'], opts);
      const floor = timeProcess(process.execPath, ['-e', '0'], opts);
      console.log('whole process (each a new process, median of 9 runs; kernel symbols and objects cached on disk):');
      console.log(`  osv check                    ${show(check)}   <- what a user waits for \`osv check\``);
      console.log(`  osv plan, same project       ${show(planned)}${check && planned ? `   (the check's own share: ${(check.wall - planned.wall).toFixed(0)} ms wall)` : ''}`);
      console.log(`  node -e 0 (Node.js start)    ${show(floor)}${env[EXTRA_CA] ? ` (${EXTRA_CA} is set: every Node.js process parses that bundle at start-up)` : ''}`);
    }

    console.log(`in-process (checkPlan in this process, median of ${RUNS} runs after 5 warm-ups):`);
    console.log(`  check, kernel symbols cached:   ${ms(cached)}`);
    console.log(`  target (in-process, warm, cached): < 50 ms: ${cached.wall < 50 ? 'met' : 'NOT met'}`);
    console.log(`  ... cache kept in the process: ${ms(memo)}  (${(memo.wall / cached.wall).toFixed(2)}x)`);
    console.log(`  ... objects from their cache:  ${ms(kept)}  (${(kept.wall / cached.wall).toFixed(2)}x; a new process, whose code is cold, gains more: bench/startup.ts)`);
    console.log(`  check, kernel symbols uncached: ${ms(uncached)}  (${(uncached.wall / cached.wall).toFixed(2)}x the cached check)`);
    console.log(`  reading the kernel's symbols:   ${ms(kernelRead)}`);
    console.log(`  planning the same image:        ${ms(planning)}  (the check costs ${(cached.wall / planning.wall).toFixed(2)}x the planning)`);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await bench();
