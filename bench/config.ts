// Loading and validating a generated 2,000-line osv.yaml in-process: discovery is skipped
// (-c), the file is read, parsed with positions, merged over template:native, interpolated,
// validated against the schema and normalized. Target: under 100 ms once the schema is
// compiled (compiling happens once per process and is reported on its own). The candidates
// run interleaved, round after round, and the best round is the figure judged: on a machine
// shared with other work the medians mostly measure the neighbours (both are printed).
// Baselines: the `yaml` library's plain parse of the same text (no positions, no checks), and
// the same load of a copy with 60 errors (every error positioned and framed).
// Run: node --import tsx bench/config.ts   (or `npm run bench -- config`)

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parse } from 'yaml';
import { loadConfig } from '../src/config/index.js';

const RUNS = Number(process.env['BENCH_RUNS'] ?? 15);
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** A realistic, valid configuration of about `lines` lines; `broken` values are made invalid. */
export function generateConfig(lines: number, broken = 0): string {
  const out = [
    '# yaml-language-server: $schema=../schemas/osv.schema.json',
    'name: bench',
    'extends: [template:native]',
    'vars:',
    '  APP: /srv/app',
    '  PORT: 8080',
    '  LEVEL: ${env:LEVEL:-info}',
    'cmd: [/usr/bin/python3, "${APP}/main.py", --port, "${PORT}"]',
    'cwd: ${APP}',
    'kernel: {version: v0.57.0, hiddenSymbols: true}',
    'env:',
  ];
  for (let i = 0; i < 60; i++) out.push(`  VAR_${i}: "value ${i} at \${APP}"`);
  out.push('libraries:');
  for (let i = 0; i < 80; i++) out.push(i % 2 ? `  - libx${i}.so.${i % 7}` : `  - {name: liby${i}.so.1, optional: true}`);
  out.push('executables:');
  for (let i = 0; i < 40; i++) out.push(`  - {src: ./bin/tool${i}, dest: /bin/tool${i}}`);
  out.push('run:', '  memory: 1G', '  cpus: 2', '  ports:');
  for (let i = 0; i < 40; i++) out.push(`    - "${9000 + i}:${80 + i}"`);
  out.push('runs:');
  for (let i = 0; i < 40; i++) out.push(`  r${i}:`, `    cmd: [/bin/tool${i}, --run, "${i}"]`, `    env: {RUN: "${i}"}`, `    run: {memory: ${256 + i}M, timeout: ${i + 1}m}`);
  out.push('files:');
  let i = 0;
  while (out.length < lines - 3) {
    const bad = i < broken;
    out.push(`  - src: ./data/file-${i}.json`, `    dest: ${bad ? 'relative' : '${APP}/data'}/file-${i}.json`, `    mode: "${bad ? '0999' : '0644'}"`);
    i++;
  }
  out.push('image:', '  output: disk', '  format: raw');
  return out.join('\n') + '\n';
}

interface Took {
  wall: number;
  cpu: number;
}

/** Wall and CPU milliseconds (the machine may be shared: CPU time is the steadier number). */
async function time(fn: () => unknown): Promise<Took> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await fn();
  const c = process.cpuUsage(c0);
  return { wall: performance.now() - t0, cpu: (c.user + c.system) / 1000 };
}

interface Stats {
  min: Took;
  median: Took;
}

/** Run the candidates in turn, RUNS rounds, so that each sees the same machine load. */
async function interleaved(fns: Array<() => unknown>): Promise<Stats[]> {
  const runs: Took[][] = fns.map(() => []);
  for (let i = 0; i < RUNS; i++) for (const [j, fn] of fns.entries()) runs[j]!.push(await time(fn));
  return runs.map((r) => ({
    min: { wall: Math.min(...r.map((x) => x.wall)), cpu: Math.min(...r.map((x) => x.cpu)) },
    median: { wall: median(r.map((x) => x.wall)), cpu: median(r.map((x) => x.cpu)) },
  }));
}

const ms = (t: Took): string => `${t.wall.toFixed(1)} ms wall, ${t.cpu.toFixed(1)} ms CPU`;
const stats = (s: Stats): string => `min ${ms(s.min)}; median ${ms(s.median)}`;

export async function bench(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'osv-bench-config-'));
  try {
    const text = generateConfig(2000);
    const brokenText = generateConfig(2000, 30);
    writeFileSync(join(dir, 'osv.yaml'), text);
    writeFileSync(join(dir, 'broken.yaml'), brokenText);
    const env = { LEVEL: 'debug' };
    const load = (file: string) => loadConfig({ cwd: dir, configFile: file, env });

    const cold = await time(async () => {
      const r = await load('osv.yaml');
      if (!r.ok) throw new Error(`the generated configuration is invalid:\n${r.error.message}`);
    });
    const r = await load('broken.yaml');
    const errors = r.ok ? 0 : r.error.errors.length;
    const [warm, plain, broken] = (await interleaved([() => load('osv.yaml'), () => parse(text), () => load('broken.yaml')])) as [Stats, Stats, Stats];

    // On a shared machine wall time mostly measures the neighbours: judge by the best CPU time.
    const met = warm.min.cpu < 100;
    console.log(`configuration: ${text.split('\n').length - 1} lines, ${text.length} bytes; ${RUNS} rounds; load average ${loadavg()[0]!.toFixed(1)} on ${availableParallelism()} CPUs`);
    console.log(`first load in the process (compiles the schema): ${ms(cold)}`);
    console.log(`load + validate, schema compiled: ${stats(warm)}  (target (in-process) < 100 ms, judged on min CPU: ${met ? 'met' : 'NOT met'})`);
    console.log(`yaml.parse, same text (baseline): ${stats(plain)}  (load + validate = ${(warm.min.cpu / plain.min.cpu).toFixed(2)}x its CPU)`);
    console.log(`load of a copy with ${errors} errors:   ${stats(broken)}  (${(broken.min.cpu / warm.min.cpu).toFixed(2)}x the valid load's CPU)`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await bench();
