// `osv build`'s action: load the configuration, build, print the outcome.

import { unwrap } from '../diagnostics/result.js';
import type { ImageFormat, ImageOutput } from '../config/types.js';
import type { Config, RunConfig } from '../config/types.js';
import { resolve } from 'node:path';
import { discoverConfig } from '../config/discover.js';
import { nodeHostFs } from '../hostfs.js';
import { build, formatBytes, toolVersion, type BuildOutcome } from './build.js';
import { RecordingHostFs } from './fingerprint.js';
import { noopHit, noopPath, recordingEnv, writeNoop } from './noop.js';
import { useRun, type BuildRecord, type RecordedRun } from '../image/record.js';
import { realDeps } from './deps.js';
import { progressReporter, reportMode, type ReportMode } from './report.js';
import { oneOf, optional } from '../cli/flag-values.js';

export interface BuildCommandOptions {
  config?: string;
  run?: string;
  out?: string;
  format?: string;
  output?: string;
  check?: boolean;
  force?: boolean;
  json?: boolean;
  quiet?: boolean;
}


export const modeOf = (opts: BuildCommandOptions, env: NodeJS.ProcessEnv): ReportMode =>
  reportMode({ ...(opts.json ? { json: true } : {}), ...(opts.quiet ? { quiet: true } : {}) }, env);

/** Load the configuration, select the run, build: what `osv build` and `osv up` share. */
export async function buildFromFlags(
  opts: BuildCommandOptions & { cwd?: string },
  env: NodeJS.ProcessEnv,
  extra: { alwaysCheck?: boolean; reporterOut?: { write(s: string): unknown } } = {},
): Promise<{ config: Config; run: { name: string; run: RunConfig }; outcome: BuildOutcome; mode: ReportMode }> {
  const cwd = opts.cwd ?? process.cwd();
  const { loadConfig, checkRunName } = await import('../config/index.js');
  // What the configuration step reads is recorded for the next no-op build (noop.ts).
  const configReads = new RecordingHostFs(nodeHostFs);
  const envReads = recordingEnv(env);
  const loaded = await loadConfig({ cwd, ...(opts.config ? { configFile: opts.config } : {}), env: envReads.env, fs: configReads });
  if (!loaded.ok) throw loaded.error;
  const config = loaded.value;
  const run = unwrap(checkRunName(config, opts.run));
  const output = optional(opts.output, (v) => oneOf<ImageOutput>('--output', v, ['disk', 'bootable']));
  const format = optional(opts.format, (v) => oneOf<ImageFormat>('--format', v, ['raw', 'qcow2']));
  const mode = modeOf(opts, env);
  const outcome = await build({
    config,
    run: run.name,
    ...(output ? { output } : {}),
    ...(format ? { format } : {}),
    ...(opts.out ? { outPath: opts.out } : {}),
    ...(opts.check === false ? { noCheck: true } : {}),
    ...(opts.force ? { force: true } : {}),
    ...(extra.alwaysCheck ? { alwaysCheck: true } : {}),
    env: envReads.env,
    reporter: progressReporter(mode, extra.reporterOut),
    ...(await realDeps()),
  });
  writeNoop(noopPath(config.file, opts, toolVersion()), {
    image: outcome.image,
    output: outcome.output,
    format: outcome.format,
    config,
    run: run.name,
    key: outcome.key,
    kernel: outcome.kernel,
    configReads,
    env: envReads.read(),
    discovered: opts.config === undefined,
    cwd,
  });
  return { config, run, outcome, mode };
}

/** The last build, when nothing it read has changed, found without loading the configuration. */
export async function noopBuild(opts: BuildCommandOptions, env: NodeJS.ProcessEnv): Promise<{ outcome: BuildOutcome; record: BuildRecord; run: RecordedRun } | undefined> {
  if (opts.force) return undefined;
  const started = performance.now();
  const cwd = process.cwd();
  const file = opts.config !== undefined ? resolve(cwd, opts.config) : await discoverConfig(cwd);
  if (file === undefined) return undefined;
  const hit = noopHit(noopPath(file, opts, toolVersion()), env);
  if (!hit) return undefined;
  const { front, record, run } = hit;
  // A run the symbol check has not passed yet takes the full path, which checks it.
  if (opts.check !== false && !run.checked) return undefined;
  useRun(front.image, record, run.name);
  const outcome: BuildOutcome = {
    image: front.image,
    output: front.output as ImageOutput,
    format: front.format as ImageFormat,
    cmdline: run.cmdline,
    kernel: record.kernel,
    key: record.key,
    upToDate: true,
    fromRecords: true,
    totals: record.totals,
    ms: Math.round(performance.now() - started),
  };
  return { outcome, record, run };
}

export async function buildCommand(opts: BuildCommandOptions, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const noop = await noopBuild(opts, env);
  const { outcome, mode } = noop ? { outcome: noop.outcome, mode: modeOf(opts, env) } : await buildFromFlags(opts, env);
  if (opts.json) {
    const { plan: _plan, check, ...rest } = outcome;
    process.stdout.write(JSON.stringify({ ok: true, ...rest, ...(check ? { check: { summary: check.summary, totals: check.totals } } : {}) }, null, 2) + '\n');
    return;
  }
  if (mode === 'quiet') return;
  const what = outcome.upToDate ? 'up to date' : 'built';
  process.stdout.write(
    `${outcome.image}: ${what} (${outcome.output}, ${outcome.format}; ${outcome.totals.files} files, ${formatBytes(outcome.totals.bytes)}) in ${outcome.ms} ms\n` +
      `command line: ${outcome.cmdline}\n`,
  );
}
