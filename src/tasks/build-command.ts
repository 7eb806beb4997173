// `osv build`'s action: load the configuration, build, print the outcome.

import { unwrap } from '../diagnostics/result.js';
import type { Config, ImageFormat, ImageOutput, RunConfig } from '../config/types.js';
import { nodeHostFs } from '../hostfs.js';
import { build, type BuildOutcome } from './build.js';
import { toolVersion } from '../version.js';
import { RecordingHostFs } from './fingerprint.js';
import { noopBuild, noopPath, recordingEnv, writeNoop } from './noop.js';
import { realDeps } from './deps.js';
import { printBuildOutcome, printPlanWarnings, progressReporter, reportMode, type ReportMode } from './report.js';
import { oneOf, optional } from '../cli/flag-values.js';

export interface BuildCommandOptions {
  config?: string;
  run?: string;
  out?: string;
  format?: string;
  output?: string;
  check?: boolean;
  force?: boolean;
  locked?: boolean;
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
    ...(opts.locked ? { locked: true } : {}),
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

export async function buildCommand(opts: BuildCommandOptions, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const noop = await noopBuild(opts, env);
  const { outcome, mode } = noop ? { outcome: noop.outcome, mode: modeOf(opts, env) } : await buildFromFlags(opts, env);
  printPlanWarnings(outcome, mode);
  printBuildOutcome(outcome, opts, mode);
}
