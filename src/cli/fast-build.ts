// `osv build` when nothing has changed: the command people run most, answered before the CLI
// proper is loaded. The start (start.ts) asks it first, from one CommonJS file with it
// (dist/start.cjs), so such a build never loads commander (it requires node:child_process),
// Node's ES-module loader or its streams: together about half of the process's own time.
// Node's util.parseArgs reads the same flag table commander is given (tasks/flags.ts). Whatever
// it does not take exactly as commander would (help, a flag out of place, a usage error) goes on
// to the build's own bundle, as does a build that is not up to date; that reports every error.

import { parseArgs, type ParseArgsConfig } from 'node:util';
import { BUILD_FLAGS, GLOBAL_FLAGS, type FlagSpec } from '../tasks/flags.js';
import { noopBuild, type NoopFlags } from '../tasks/noop.js';
import { printBuildOutcome } from '../tasks/report.js';

type Options = NonNullable<ParseArgsConfig['options']>;

/** "-o, --out <path>" -> its long name, short letter and whether it takes a value. */
function optionOf([flags]: FlagSpec): { long: string; short?: string; value: boolean } {
  const m = /^(?:-([A-Za-z]), )?--([a-z][a-z-]*)( <[a-z]+>)?$/.exec(flags);
  if (!m) throw new Error(`flag table: cannot read "${flags}"`);
  return { long: m[2]!, ...(m[1] ? { short: m[1] } : {}), value: m[3] !== undefined };
}

function parseOptions(specs: readonly FlagSpec[]): Options {
  const out: Options = {};
  for (const spec of specs) {
    const o = optionOf(spec);
    out[o.long] = { type: o.value ? 'string' : 'boolean', ...(o.short ? { short: o.short } : {}) };
  }
  return out;
}

const camel = (name: string): string => name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

export type BuildArgs = NoopFlags & { config?: string; force?: boolean; json?: boolean; quiet?: boolean; dir?: string };

/**
 * `osv [-C DIR] build [build flags]` as commander would read it, or undefined for anything else.
 * Values come out as commander's: camelCase names, `--no-check` as `check: false`.
 */
export function parseBuildArgs(args: string[]): BuildArgs | undefined {
  const globals = parseOptions(GLOBAL_FLAGS);
  const locals = parseOptions(BUILD_FLAGS);
  let parsed;
  try {
    parsed = parseArgs({ args, options: { ...globals, ...locals }, allowPositionals: true, strict: true, tokens: true });
  } catch {
    return undefined;
  }
  const positional = parsed.tokens.filter((t) => t.kind !== 'option');
  if (positional.length !== 1 || positional[0]!.kind !== 'positional' || positional[0]!.value !== 'build') return undefined;
  const at = positional[0]!.index;
  const out: Record<string, string | boolean> = {};
  for (const t of parsed.tokens) {
    if (t.kind !== 'option') continue;
    // Commander takes the program's options on either side of the command word, the
    // command's only after it.
    if (!(t.name in globals) && t.index < at) return undefined;
    if (t.name.startsWith('no-')) out[camel(t.name.slice(3))] = false;
    else out[camel(t.name)] = t.value ?? true;
  }
  return out as BuildArgs;
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
  return true;
}
