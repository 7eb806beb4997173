// The runner's overhead: from the command to the program's first console line, `osv run`
// (node bin/osv.js: CLI start-up, accel decision, spawn, console scanning) and the runner
// library in-process (prepareRun + executeRun), against the same QEMU command run by hand.
// The guest is a real OSv when OSV_KERNEL names loader-stripped.elf, else a tiny PVH kernel
// built with gcc that prints the same console (the overhead is the same either way).
// Run: node --import tsx bench/runner.ts

import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { composeDisk } from '../src/image/disk.js';
import { resolveKernelPath } from '../src/kernel/local.js';
import { executeRun, prepareRun, type RunRequest } from '../src/run/runner.js';
import { buildFakeKernel } from '../test/run/helpers/fake-guest.js';

const ROOT = join(import.meta.dirname, '..');
const RUNS = Number(process.env['BENCH_RUNS'] ?? 5);

/** Milliseconds from spawn to the first stdout line after OSv's "Cmdline:" echo. */
function firstLine(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'pipe', 'ignore'], env });
    let text = '';
    let at: number | undefined;
    child.stdout.on('data', (d: Buffer) => {
      text += d.toString('latin1');
      if (at === undefined && FIRST_LINE.test(text)) at = performance.now() - t0;
    });
    child.on('close', () => (at === undefined ? reject(new Error(`no program line from ${argv[0]}:\n${text}`)) : resolve(at)));
  });
}

/** OSv's command-line echo, then one complete non-blank line: the program's first output. */
const FIRST_LINE = /Cmdline: [^\n]*\n[^\n]*\S[^\n]*\n/;

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function guest(dir: string): Promise<{ kernel: string; image: string; what: string }> {
  const image = join(dir, 'hello.img');
  const files = process.env['OSV_KERNEL'] ? resolveKernelPath(process.env['OSV_KERNEL'], 'x86_64', 'OSV_KERNEL') : undefined;
  const osvKernel = files?.ok ? files.value.elf : undefined;
  if (osvKernel) {
    const src = join(dir, 'hello.c');
    writeFileSync(src, '#include <stdio.h>\nint main(void) { printf("Hello from C code\\n"); return 0; }\n');
    execFileSync('gcc', ['-O2', '-fPIE', '-pie', '-o', join(dir, 'hello'), src]);
    const r = await composeDisk({ outPath: image, layout: 'disk', fs: { kind: 'rofs', entries: [{ kind: 'file', guest: '/hello', host: join(dir, 'hello'), size: statSync(join(dir, 'hello')).size }] } });
    if (!r.ok) throw r.error;
    return { kernel: osvKernel, image, what: `OSv (${osvKernel})` };
  }
  writeFileSync(image, Buffer.alloc(1024 * 1024));
  const kernel = buildFakeKernel(dir, 'hello', { head: 'OSv v0.57.0 (stand-in)\n', echo: true, tail: 'Hello from C code\n', end: 'reset' });
  return { kernel, image, what: 'a PVH stand-in kernel (set OSV_KERNEL for a real OSv)' };
}

export async function bench(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'osv-bench-run-'));
  try {
    await measure(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function measure(dir: string): Promise<void> {
  const env = { ...process.env, XDG_CACHE_HOME: join(dir, 'cache') };
  const g = await guest(dir);
  const cmdline = '--rootfs=rofs /hello';
  const request: RunRequest = {
    hypervisor: 'qemu',
    vm: { arch: 'x86_64', boot: { kind: 'kernel', kernel: g.kernel, cmdline, disk: { path: g.image, format: 'raw' } }, memory: 512 * 1024 * 1024, cpus: 2, network: { kind: 'user' }, ports: [], volumes: [] },
    accel: 'auto',
    accelCacheFile: join(dir, 'cache', 'accel.json'),
    env,
  };
  const prep = await prepareRun(request);
  if (!prep.ok) throw prep.error;
  const osvArgv = [process.execPath, join(ROOT, 'bin', 'osv.js'), 'run', g.image, '--kernel', g.kernel, '-e', cmdline];

  const bare: number[] = [];
  const lib: number[] = [];
  const cli: number[] = [];
  await firstLine(prep.value.argv); // warm the page cache
  for (let i = 0; i < RUNS; i++) {
    bare.push(await firstLine(prep.value.argv));
    const t0 = performance.now();
    let at: number | undefined;
    let text = '';
    const p = await prepareRun(request);
    if (!p.ok) throw p.error;
    await executeRun(p.value, {
      stdout: {
        write: (c: Buffer | string) => {
          text += c.toString();
          if (at === undefined && FIRST_LINE.test(text)) at = performance.now() - t0;
          return true;
        },
      },
      stderr: { write: () => true },
    });
    if (at !== undefined) lib.push(at);
    cli.push(await firstLine(osvArgv, env));
  }
  const b = median(bare);
  console.log(`guest: ${g.what}; ${RUNS} runs each, median ms from command to the program's first line`);
  console.log(`  QEMU by hand             ${b.toFixed(0)} ms`);
  console.log(`  runner library           ${median(lib).toFixed(0)} ms  (+${(median(lib) - b).toFixed(0)} ms, ${(median(lib) / b).toFixed(2)}x)`);
  console.log(`  osv run (node bin/osv.js) ${median(cli).toFixed(0)} ms  (+${(median(cli) - b).toFixed(0)} ms, ${(median(cli) / b).toFixed(2)}x; target (whole process, over QEMU by hand): under +300 ms)`);
}

if (import.meta.url === `file://${process.argv[1]}`) await bench();
