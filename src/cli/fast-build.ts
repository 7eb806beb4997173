// `osv build` when nothing has changed: the command people run most, answered before the CLI
// proper is loaded. The start (start.ts) asks it first, from one CommonJS file with it
// (dist/start.cjs), so such a build never loads commander (it requires node:child_process),
// Node's ES-module loader or its streams: together about half of the process's own time.
// Node's util.parseArgs reads the same flag table commander is given (tasks/flags.ts). Whatever
// it does not take exactly as commander would (help, a flag out of place, a usage error) goes on
// to the build's own bundle, as does a build that is not up to date; that reports every error.

import { BUILD_FLAGS } from '../tasks/flags.js';
import { noopBuild, type NoopFlags } from '../tasks/noop.js';
import { printBuildOutcome } from '../tasks/report.js';
import { flushed } from '../output.js';
import { parseCommandArgs } from './command-args.js';

export type BuildArgs = NoopFlags & { config?: string; force?: boolean; json?: boolean; quiet?: boolean; dir?: string };

/**
 * `osv [-C DIR] build [build flags]` as commander would read it, or undefined for anything else.
 * Values come out as commander's: camelCase names, `--no-check` as `check: false`.
 */
export function parseBuildArgs(args: string[]): BuildArgs | undefined {
  return parseCommandArgs(args, 'build', BUILD_FLAGS)?.options as BuildArgs | undefined;
}

/** True when the build was up to date and has been reported; false: run the full CLI. */
export async function fastBuild(argv: string[]): Promise<boolean> {
  const args = parseBuildArgs(argv.slice(2));
  if (!args) return false;
  // -C as commander applies it, so that relative paths in the records resolve the same; on a
  // miss the full CLI applies it again, from where osv started.
  const started = process.cwd();
  let noop;
  try {
    if (args.dir !== undefined) process.chdir(args.dir);
    noop = await noopBuild(args, process.env);
  } catch {
    noop = undefined; // the full path meets the same problem and reports it
  }
  if (!noop) {
    process.chdir(started);
    return false;
  }
  // Only --json and --quiet change the last word; reportMode would also look at process.stderr,
  // whose stream costs as much as process.stdout's (output.ts).
  printBuildOutcome(noop.outcome, args, args.quiet ? 'quiet' : 'plain');
  await flushed();
  return true;
}
