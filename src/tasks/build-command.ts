// `osv build`'s action: load the configuration, build, print the outcome.

import { ExitCode, OsvError } from '../diagnostics/error.js';
import { unwrap } from '../diagnostics/result.js';
import type { ImageFormat, ImageOutput } from '../config/types.js';
import type { Config, RunConfig } from '../config/types.js';
import { build, formatBytes, type BuildOutcome } from './build.js';
import { realDeps } from './deps.js';
import { progressReporter, reportMode, type ReportMode } from './report.js';

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

export function oneOf<T extends string>(flag: string, v: string | undefined, allowed: readonly T[]): T | undefined {
  if (v === undefined || (allowed as readonly string[]).includes(v)) return v as T | undefined;
  throw new OsvError({ code: 'build.usage', message: `${flag} must be one of ${allowed.join(', ')}; got "${v}"`, exitCode: ExitCode.usage });
}

/** Load the configuration, select the run, build: what `osv build` and `osv up` share. */
export async function buildFromFlags(
  opts: BuildCommandOptions & { cwd?: string },
  env: NodeJS.ProcessEnv,
  extra: { alwaysCheck?: boolean; reporterOut?: { write(s: string): unknown } } = {},
): Promise<{ config: Config; run: { name: string; run: RunConfig }; outcome: BuildOutcome; mode: ReportMode }> {
  const { loadConfig, checkRunName } = await import('../config/index.js');
  const loaded = await loadConfig({ cwd: opts.cwd ?? process.cwd(), ...(opts.config ? { configFile: opts.config } : {}), env });
  if (!loaded.ok) throw loaded.error;
  const config = loaded.value;
  const run = unwrap(checkRunName(config, opts.run));
  const output = oneOf<ImageOutput>('--output', opts.output, ['disk', 'bootable']);
  const format = oneOf<ImageFormat>('--format', opts.format, ['raw', 'qcow2']);
  const mode = reportMode({ ...(opts.json ? { json: true } : {}), ...(opts.quiet ? { quiet: true } : {}) }, env);
  const outcome = await build({
    config,
    run: run.name,
    ...(output ? { output } : {}),
    ...(format ? { format } : {}),
    ...(opts.out ? { outPath: opts.out } : {}),
    ...(opts.check === false ? { noCheck: true } : {}),
    ...(opts.force ? { force: true } : {}),
    ...(extra.alwaysCheck ? { alwaysCheck: true } : {}),
    env,
    reporter: progressReporter(mode, extra.reporterOut),
    ...(await realDeps()),
  });
  return { config, run, outcome, mode };
}

export async function buildCommand(opts: BuildCommandOptions, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const { outcome, mode } = await buildFromFlags(opts, env);
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
