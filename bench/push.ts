// `osv push` of the python example against `skopeo copy` of an equivalent OCI layout (the same
// blobs, written by `osv push oci:`) to the same kind of registry. Each measurement gets a fresh
// docker-registry (new storage, new port), so neither tool can skip or mount a blob it pushed
// in an earlier round (both remember where blobs went, keyed by registry host and port).
// Two osv cases: warm (the build is up to date and its layers were made before: what a push
// after `osv build` costs) and cold (the image cache's layers cleared, so the kernel and the disk
// are tarred and gzip'd again; the build itself is still up to date).
// Target: warm `osv push` no slower than `skopeo copy`.
// Run: OSV_KERNEL=... npm run bench -- push   (after `npm run build`; needs docker-registry, skopeo)

import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRegistry } from '../test/helpers/registry.js';

const ROOT = join(import.meta.dirname, '..');
const OSV = join(ROOT, 'bin', 'osv.js');
const RUNS = Number(process.env['BENCH_RUNS'] ?? 5);
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function run(argv: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): string {
  const r = spawnSync(argv[0]!, argv.slice(1), { cwd: opts.cwd, env: opts.env ?? process.env, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`${argv.join(' ')} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** ms of `argv` against a registry started for it alone. */
async function timedAgainstFreshRegistry(argv: (host: string) => string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<number> {
  const reg = await startRegistry();
  try {
    const t = performance.now();
    run(argv(reg.host), opts);
    return performance.now() - t;
  } finally {
    await reg.stop();
  }
}

export async function bench(): Promise<void> {
  for (const tool of ['docker-registry', 'skopeo']) {
    if (spawnSync(tool, ['--version'], { stdio: 'ignore' }).status !== 0) {
      console.log(`skipped: ${tool} is not installed`);
      return;
    }
  }
  const kernel = process.env['OSV_KERNEL'];
  if (!kernel) {
    console.log('skipped: OSV_KERNEL is not set (the python example is built with a real OSv kernel)');
    return;
  }
  if (spawnSync('python3', ['--version'], { stdio: 'ignore' }).status !== 0) {
    console.log('skipped: the python example ships this host\'s python3, which is not installed');
    return;
  }
  const work = mkdtempSync(join(tmpdir(), 'osv-bench-push-'));
  try {
    const project = join(work, 'python-hello');
    cpSync(join(ROOT, 'examples', 'python-hello'), project, { recursive: true });
    const env = { ...process.env, XDG_CACHE_HOME: join(work, 'cache'), OSV_KERNEL: kernel, CI: '1' };
    // The equivalent layout: the same image, written by osv push (which builds the disk first).
    const layout = join(work, 'layout');
    const digest = (JSON.parse(run([process.execPath, OSV, 'push', `oci:${layout}:1`, '--json'], { cwd: project, env })) as { digest: string; blobs: Array<{ role: string; size: number }> });
    const sizes = digest.blobs.map((b) => `${b.role} ${(b.size / 2 ** 20).toFixed(1)} MiB`).join(', ');
    console.log(`image ${digest.digest.slice(0, 19)}: ${sizes} (disk ${(statSync(join(project, '.osv', 'python-hello.qcow2')).size / 2 ** 20).toFixed(0)} MiB qcow2)`);
    const push = (host: string): string[] => [process.execPath, OSV, 'push', `${host}/bench/python:1`, '-q'];
    const skopeo = (host: string): string[] => ['skopeo', 'copy', '-q', '--dest-tls-verify=false', `oci:${layout}:1`, `docker://${host}/bench/python:1`];
    const warm: number[] = [];
    const cold: number[] = [];
    const tool: number[] = [];
    const noop: number[] = [];
    // Paired rounds: the machine is shared, and its load moves by the minute.
    for (let i = 0; i < RUNS; i++) {
      warm.push(await timedAgainstFreshRegistry(push, { cwd: project, env }));
      rmSync(join(work, 'cache', 'osv-up', 'oci', 'built-layers'), { recursive: true, force: true });
      cold.push(await timedAgainstFreshRegistry(push, { cwd: project, env }));
      tool.push(await timedAgainstFreshRegistry(skopeo));
      // The part of a push that is the build's up-to-date check (what `osv build` does when nothing changed).
      const t = performance.now();
      run([process.execPath, OSV, 'build', '--output', 'disk', '--format', 'qcow2', '-q'], { cwd: project, env });
      noop.push(performance.now() - t);
    }
    const ratio = median(warm.map((w, i) => w / tool[i]!));
    console.log(`${RUNS} paired rounds (medians; the ratio is the median of each round's ratio), each against a fresh registry:`);
    console.log(`  skopeo copy oci:LAYOUT docker://…     ${(median(tool) / 1000).toFixed(2)} s`);
    console.log(`  osv push (warm: layers made before)   ${(median(warm) / 1000).toFixed(2)} s   (${ratio.toFixed(2)}x skopeo; target <= 1.0x: ${ratio <= 1.0 ? 'met' : 'NOT met'})`);
    console.log(`  osv push (cold: layers tarred+gzip'd) ${(median(cold) / 1000).toFixed(2)} s   (${median(cold.map((c, i) => c / tool[i]!)).toFixed(2)}x skopeo)`);
    console.log(`  of which the build check (no-op osv build, a process of its own) ${(median(noop) / 1000).toFixed(2)} s; warm push minus it: ${(median(warm.map((w, i) => w - noop[i]!)) / 1000).toFixed(2)} s`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
