// `osv push` of the python example against `skopeo copy` of an equivalent OCI layout (the same
// blobs, written by `osv push oci:`) to the same kind of registry. Each measurement gets a fresh
// docker-registry (new storage, new port), so neither tool can skip or mount a blob it pushed
// in an earlier round (both remember where blobs went, keyed by registry host and port).
// osv runs as users run it: bin/osv, the command npm installs, which starts Node without
// NODE_EXTRA_CA_CERTS and has osv read the bundle at its first HTTPS connection (src/net/trust.ts).
// Two osv cases: warm (the build is up to date and its layers were made before: what a push
// after `osv build` costs) and cold (the image cache's layers cleared, so the kernel and the disk
// are tarred and gzip'd again; the build itself is still up to date).
// Target: warm `osv push` no slower than `skopeo copy`. Also measured: both against a registry as
// far away as one across a network (bench/delay-proxy.cjs adds DISTANT_MS each way), where the
// number of round trips one after another counts more than a process's start.
// Fairness: both tools start as fresh processes and push the same blobs (skopeo's layout is what
// osv push wrote; skopeo copies its compressed layers as they are, and a warm osv push reuses its
// compressed layers too). Within a round the order of osv and skopeo alternates, so that load
// moving during a round does not always favour the same side. Where NODE_EXTRA_CA_CERTS is set
// (a Node.js process started with it parses that bundle at start-up; skopeo, a Go program, does
// not read it) the warm push is also measured as `node bin/osv.js` (Node started with it) and
// without it. The floors: `node -e 0` (with and without it) and `skopeo --version`.
// CPU: each tool's process (and its children) as the kernel counts it, user + system (Linux:
// /proc/self/stat's cutime and cstime, in clock ticks, of the waited-for child): on a shared
// machine it moves less with the load than the wall time does. The registry's CPU is not counted.
// Run: OSV_KERNEL=... npm run bench -- push   (after `npm run build`; needs docker-registry, skopeo)

import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, startRegistry } from '../test/helpers/registry.js';
import { EXTRA_CA, OSV_COMMAND, withoutExtraCa, withThisNode } from './node-env.js';

const ROOT = join(import.meta.dirname, '..');
const OSV = join(ROOT, 'bin', 'osv.js');
const RUNS = Number(process.env['BENCH_RUNS'] ?? 5);
/** The one-way delay of the distant registry (bench/delay-proxy.cjs): a round trip of 20 ms, a registry in the same region. */
const DISTANT_MS = 10;
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const TICKS = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

/** ms of CPU used by this process's waited-for children so far (user + system). */
function childrenCpu(): number {
  const fields = readFileSync('/proc/self/stat', 'utf8').replace(/^.*\) /s, '').split(' ');
  // After "pid (comm) ": state is field 3, so cutime (16) and cstime (17) are at 13 and 14.
  return ((Number(fields[13]) + Number(fields[14])) * 1000) / TICKS;
}

/** The CPU ms of the last command timed (see childrenCpu). */
let lastCpu = 0;

function run(argv: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): string {
  const r = spawnSync(argv[0]!, argv.slice(1), { cwd: opts.cwd, env: opts.env ?? process.env, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`${argv.join(' ')} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** A proxy to `port` holding everything DISTANT_MS each way (bench/delay-proxy.cjs): the port it listens on, and how to stop it. */
async function delayProxy(port: number): Promise<{ port: number; stop(): void }> {
  const listen = await freePort();
  const child = spawn(process.execPath, [join(import.meta.dirname, 'delay-proxy.cjs'), String(listen), String(port), String(DISTANT_MS)], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((ready, fail) => {
    child.stdout!.once('data', () => ready());
    child.once('exit', (code) => fail(new Error(`bench/delay-proxy.cjs exited (${code})`)));
  });
  return { port: listen, stop: () => child.kill() };
}

/** ms of `argv` against a registry started for it alone (with `distant`, behind a delaying proxy). */
async function timedAgainstFreshRegistry(argv: (host: string) => string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; distant?: boolean } = {}): Promise<number> {
  const reg = await startRegistry();
  const proxy = opts.distant ? await delayProxy(reg.port) : undefined;
  try {
    const c = childrenCpu();
    const t = performance.now();
    run(argv(proxy ? `127.0.0.1:${proxy.port}` : reg.host), opts);
    const ms = performance.now() - t;
    lastCpu = childrenCpu() - c;
    return ms;
  } finally {
    proxy?.stop();
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
    const env = { ...withThisNode(process.env), XDG_CACHE_HOME: join(work, 'cache'), OSV_KERNEL: kernel, CI: '1' };
    // The equivalent layout: the same image, written by osv push (which builds the disk first).
    const layout = join(work, 'layout');
    const digest = (JSON.parse(run([process.execPath, OSV, 'push', `oci:${layout}:1`, '--json'], { cwd: project, env })) as { digest: string; blobs: Array<{ role: string; size: number }> });
    const sizes = digest.blobs.map((b) => `${b.role} ${(b.size / 2 ** 20).toFixed(1)} MiB`).join(', ');
    console.log(`image ${digest.digest.slice(0, 19)}: ${sizes} (disk ${(statSync(join(project, '.osv', 'python-hello.qcow2')).size / 2 ** 20).toFixed(0)} MiB qcow2)`);
    const push = (host: string): string[] => [OSV_COMMAND, 'push', `${host}/bench/python:1`, '-q'];
    const pushViaNode = (host: string): string[] => [process.execPath, OSV, 'push', `${host}/bench/python:1`, '-q'];
    const skopeo = (host: string): string[] => ['skopeo', 'copy', '-q', '--dest-tls-verify=false', `oci:${layout}:1`, `docker://${host}/bench/python:1`];
    const plain = withoutExtraCa(env);
    const warm: number[] = [];
    const warmPlain: number[] = [];
    const warmViaNode: number[] = [];
    const cold: number[] = [];
    const tool: number[] = [];
    const noop: number[] = [];
    const nodeFloor: number[] = [];
    const nodeFloorPlain: number[] = [];
    const toolFloor: number[] = [];
    const distant: number[] = [];
    const distantTool: number[] = [];
    const cpu = { tool: [] as number[], warm: [] as number[], warmPlain: [] as number[], warmViaNode: [] as number[], nodeFloor: [] as number[], nodeFloorPlain: [] as number[], toolFloor: [] as number[] };
    const timed = (argv: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): number => {
      const c = childrenCpu();
      const t = performance.now();
      run(argv, opts);
      const ms = performance.now() - t;
      lastCpu = childrenCpu() - c;
      return ms;
    };
    // Paired rounds: the machine is shared, and its load moves by the minute.
    for (let i = 0; i < RUNS; i++) {
      const skopeoRound = async (): Promise<void> => {
        tool.push(await timedAgainstFreshRegistry(skopeo));
        cpu.tool.push(lastCpu);
      };
      if (i % 2 === 1) await skopeoRound();
      warm.push(await timedAgainstFreshRegistry(push, { cwd: project, env }));
      cpu.warm.push(lastCpu);
      if (plain) {
        warmPlain.push(await timedAgainstFreshRegistry(push, { cwd: project, env: plain }));
        cpu.warmPlain.push(lastCpu);
        warmViaNode.push(await timedAgainstFreshRegistry(pushViaNode, { cwd: project, env }));
        cpu.warmViaNode.push(lastCpu);
      }
      if (i % 2 === 0) await skopeoRound();
      rmSync(join(work, 'cache', 'osv-up', 'oci', 'built-layers'), { recursive: true, force: true });
      cold.push(await timedAgainstFreshRegistry(push, { cwd: project, env }));
      // The part of a push that is the build's up-to-date check (what `osv build` does when nothing changed).
      noop.push(timed([process.execPath, OSV, 'build', '--output', 'disk', '--format', 'qcow2', '-q'], { cwd: project, env }));
      nodeFloor.push(timed([process.execPath, '-e', '0'], { env }));
      cpu.nodeFloor.push(lastCpu);
      if (plain) {
        nodeFloorPlain.push(timed([process.execPath, '-e', '0'], { env: plain }));
        cpu.nodeFloorPlain.push(lastCpu);
      }
      toolFloor.push(timed(['skopeo', '--version']));
      cpu.toolFloor.push(lastCpu);
      // The same push to a registry across a network: each round trip 2 x DISTANT_MS longer.
      if (i % 2 === 1) distantTool.push(await timedAgainstFreshRegistry(skopeo, { distant: true }));
      distant.push(await timedAgainstFreshRegistry(push, { cwd: project, env, distant: true }));
      if (i % 2 === 0) distantTool.push(await timedAgainstFreshRegistry(skopeo, { distant: true }));
    }
    const s = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;
    const ratio = (xs: number[]): number => median(xs.map((w, i) => w / tool[i]!));
    console.log(`${RUNS} paired rounds (medians; a ratio is the median of each round's ratio), each push against a fresh registry:`);
    console.log(`  skopeo copy oci:LAYOUT docker://…     ${s(median(tool))}`);
    console.log(`  osv push (warm: layers made before)   ${s(median(warm))}   (${ratio(warm).toFixed(2)}x skopeo; target <= 1.0x: ${ratio(warm) <= 1.0 ? 'met' : 'NOT met'})${plain ? `   [${EXTRA_CA} set]` : ''}`);
    if (plain) {
      console.log(`    the same without ${EXTRA_CA}   ${s(median(warmPlain))}   (${ratio(warmPlain).toFixed(2)}x skopeo; target <= 1.0x: ${ratio(warmPlain) <= 1.0 ? 'met' : 'NOT met'})`);
      console.log(`    as node bin/osv.js (Node parses ${EXTRA_CA} at start)   ${s(median(warmViaNode))}   (${ratio(warmViaNode).toFixed(2)}x skopeo)`);
    }
    console.log(`  osv push (cold: layers tarred+gzip'd) ${s(median(cold))}   (${ratio(cold).toFixed(2)}x skopeo)`);
    console.log(`  of which the build check (no-op osv build, a process of its own) ${s(median(noop))}; warm push minus it: ${s(median(warm.map((w, i) => w - noop[i]!)))}`);
    console.log(`  floors: node -e 0 ${s(median(nodeFloor))}${plain ? ` (${s(median(nodeFloorPlain))} without ${EXTRA_CA})` : ''}; skopeo --version ${s(median(toolFloor))}`);
    // bin/osv starts Node without the bundle: its floor is node -e 0 without it.
    const floorOfCommand = plain ? nodeFloorPlain : nodeFloor;
    console.log(`  warm push minus node -e 0${plain ? ` (without ${EXTRA_CA}, as bin/osv starts it)` : ''}: ${s(median(warm.map((w, i) => w - floorOfCommand[i]!)))}; skopeo copy minus skopeo --version: ${s(median(tool.map((w, i) => w - toolFloor[i]!)))}`);
    const distantRatio = median(distant.map((w, i) => w / distantTool[i]!));
    console.log(`  a registry ${DISTANT_MS} ms away (a proxy delays each way; round trip ${2 * DISTANT_MS} ms): skopeo copy ${s(median(distantTool))}, osv push (warm) ${s(median(distant))} (${distantRatio.toFixed(2)}x skopeo)`);
    console.log(`CPU (user + system of the tool's process, medians): skopeo copy ${s(median(cpu.tool))}; osv push (warm) ${s(median(cpu.warm))} (${(median(cpu.warm) / median(cpu.tool)).toFixed(2)}x)${plain ? `, without ${EXTRA_CA} ${s(median(cpu.warmPlain))} (${(median(cpu.warmPlain) / median(cpu.tool)).toFixed(2)}x), as node bin/osv.js ${s(median(cpu.warmViaNode))}` : ''}`);
    console.log(`  floors: node -e 0 ${s(median(cpu.nodeFloor))}${plain ? ` (${s(median(cpu.nodeFloorPlain))} without ${EXTRA_CA})` : ''}; skopeo --version ${s(median(cpu.toolFloor))}`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
