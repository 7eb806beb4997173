// `from:` cold and warm: a ~70 MB (compressed) Debian-based image in a local registry, built
// into an OSv image by `osv build`, against `skopeo copy` + `umoci unpack` of the same image
// and against the floor, `tar -xzf` of its layers. No public registry is reachable here, so the
// image is made from this host's Debian files: python3.11 with its libraries and standard
// library, GCC's /usr/lib/gcc and perl's modules, in four layers (umoci, default gzip).
// Targets: cold `osv build` <= 1.5x the tar floor; the warm no-op build within 20 ms of a
// host-based no-op build (the python3 example).
// Run: npm run bench -- from   (after `npm run build`; needs docker-registry, skopeo, umoci)

import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addProgram, debianSkeleton } from '../test/helpers/image-rootfs.js';
import { push, startRegistry, umociImage } from '../test/helpers/registry.js';

const ROOT = join(import.meta.dirname, '..');
const OSV = join(ROOT, 'bin', 'osv.js');
const RUNS = Number(process.env['BENCH_RUNS'] ?? 3);
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function time(argv: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): number {
  const t = performance.now();
  const r = spawnSync(argv[0]!, argv.slice(1), { cwd: opts.cwd, env: opts.env ?? process.env, encoding: 'utf8', maxBuffer: 64 << 20 });
  const ms = performance.now() - t;
  if (r.status !== 0) throw new Error(`${argv.join(' ')} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  return ms;
}

const copyTree = (from: string, root: string): void => cpSync(from, join(root, from), { recursive: true, verbatimSymlinks: true });

export async function bench(): Promise<void> {
  for (const tool of ['docker-registry', 'skopeo', 'umoci', 'gcc']) {
    if (spawnSync(tool, ['--version'], { stdio: 'ignore' }).status !== 0) {
      console.log(`skipped: ${tool} is not installed`);
      return;
    }
  }
  const python = '/usr/bin/python3.11';
  if (!existsSync(python) || !existsSync('/usr/lib/python3.11/os.py')) {
    console.log('skipped: the image is made from this host\'s python3.11 (Debian 12), which is not installed');
    return;
  }
  const work = mkdtempSync(join(tmpdir(), 'osv-bench-from-'));
  const reg = await startRegistry();
  try {
    const steps = [
      (r: string) => (debianSkeleton(r), addProgram(r, python, '/usr/bin/python3.11')),
      (r: string) => copyTree('/usr/lib/python3.11', r),
      (r: string) => existsSync('/usr/lib/gcc/x86_64-linux-gnu/12') && copyTree('/usr/lib/gcc/x86_64-linux-gnu/12', r),
      (r: string) => existsSync('/usr/share/perl') && copyTree('/usr/share/perl', r),
    ].map((f) => (r: string) => void f(r));
    const t0 = performance.now();
    const img = umociImage(work, 'py', steps, { cmd: ['/usr/bin/python3.11', '-c', 'print("hello")'], env: ['PATH=/usr/bin'] });
    push(img.ref, reg, 'bench/python:1');
    const blobs = join(img.layout, 'blobs', 'sha256');
    const index = JSON.parse(readFileSync(join(img.layout, 'index.json'), 'utf8')) as { manifests: Array<{ digest: string }> };
    const manifest = JSON.parse(readFileSync(join(blobs, index.manifests[0]!.digest.slice(7)), 'utf8')) as { layers: Array<{ digest: string; size: number }> };
    const compressed = manifest.layers.reduce((s, l) => s + l.size, 0);
    console.log(`image: ${manifest.layers.length} layers, ${(compressed / 2 ** 20).toFixed(1)} MiB compressed (made from this host's files in ${((performance.now() - t0) / 1000).toFixed(1)} s; no public registry is reachable here)`);

    // The floor: every layer extracted with tar -xzf, in order, into one directory.
    const floor: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const out = join(work, `floor-${i}`);
      mkdirSync(out);
      const t = performance.now();
      for (const l of manifest.layers) execFileSync('tar', ['-xzf', join(blobs, l.digest.slice(7)), '-C', out]);
      floor.push(performance.now() - t);
      rmSync(out, { recursive: true, force: true });
    }
    // skopeo copy from the registry + umoci unpack (what OSv's own recipe and most tools do).
    const tools: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const layout = join(work, `skopeo-${i}`);
      const bundle = join(work, `bundle-${i}`);
      const t = performance.now();
      time(['skopeo', 'copy', '-q', '--src-tls-verify=false', `docker://${reg.host}/bench/python:1`, `oci:${layout}:t`]);
      time(['umoci', 'unpack', '--rootless', '--image', `${layout}:t`, bundle]);
      tools.push(performance.now() - t);
      rmSync(layout, { recursive: true, force: true });
      rmSync(bundle, { recursive: true, force: true });
    }

    // Cold osv build: empty cache, no previous image; the python stdlib shipped.
    const kernel = join(work, 'loader-stripped.elf');
    execFileSync('gcc', ['-static', '-x', 'c', '-o', kernel, '-'], { input: 'int main(void){return 0;}\n' });
    const project = join(work, 'project');
    mkdirSync(project);
    writeFileSync(
      join(project, 'osv.yaml'),
      `name: py\nfrom: ${reg.host}/bench/python:1\nfiles:\n  - {src: /usr/lib/python3.11, dest: /usr/lib/python3.11, exclude: ["**/__pycache__", test/**, idlelib/**, tkinter/**, turtledemo/**, ensurepip/**, lib2to3/**]}\n`,
    );
    const env = { ...process.env, XDG_CACHE_HOME: join(work, 'cache'), OSV_KERNEL: kernel, CI: '1' };
    const build = [process.execPath, OSV, 'build', '-q', '--no-check'];
    const cold: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      rmSync(join(work, 'cache'), { recursive: true, force: true });
      rmSync(join(project, '.osv'), { recursive: true, force: true });
      cold.push(time(build, { cwd: project, env }));
    }
    const imageBytes = statSync(join(project, '.osv', 'py.img')).size;
    // Warm: the no-op build of this project, against the host-based python3 example's.
    const host = join(work, 'host-project');
    cpSync(join(ROOT, 'examples', 'python-hello'), host, { recursive: true });
    time(build, { cwd: host, env });
    const noopFrom: number[] = [];
    const noopHost: number[] = [];
    for (let i = 0; i < 9; i++) {
      noopFrom.push(time(build, { cwd: project, env }));
      noopHost.push(time(build, { cwd: host, env }));
    }
    const f = median(floor);
    const c = median(cold);
    const s = median(tools);
    const nf = median(noopFrom);
    const nh = median(noopHost);
    const layers = readdirSync(join(work, 'cache', 'osv-up', 'oci', 'blobs', 'sha256')).length;
    console.log(`medians of ${RUNS} runs:`);
    console.log(`  tar -xzf of the layers (floor)     ${(f / 1000).toFixed(2)} s`);
    console.log(`  skopeo copy + umoci unpack         ${(s / 1000).toFixed(2)} s   (${(s / f).toFixed(2)}x the floor)`);
    console.log(`  cold osv build (pull + plan + image of ${(imageBytes / 2 ** 20).toFixed(0)} MiB)  ${(c / 1000).toFixed(2)} s   (${(c / f).toFixed(2)}x the floor; target <= 1.5x: ${c <= 1.5 * f ? 'met' : 'NOT met'}; ${layers} blobs cached)`);
    console.log(`  no-op build, from: image           ${nf.toFixed(0)} ms`);
    console.log(`  no-op build, host files (python3)  ${nh.toFixed(0)} ms   (difference ${(nf - nh).toFixed(0)} ms; target within 20 ms: ${Math.abs(nf - nh) <= 20 ? 'met' : 'NOT met'})`);
  } finally {
    await reg.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await bench();
