// One command's flags read with util.parseArgs, as commander reads them, from the same table
// commander is given (tasks/flags.ts). For the fast paths that answer a command line before the
// CLI proper (and commander, with node:child_process) is loaded: fast-build.ts, fast-push.ts.
// Whatever it does not read exactly as commander would is left to commander (undefined).

import { parseArgs, type ParseArgsConfig } from 'node:util';
import { GLOBAL_FLAGS, type FlagSpec } from '../tasks/flags.js';

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

export interface CommandArgs {
  /** The options as commander gives them: camelCase names, `--no-check` as `check: false`, `-C` as `dir`. */
  options: Record<string, string | boolean>;
  /** The words after the command word. */
  operands: string[];
}

/**
 * `osv [-C DIR] WORD [flags] [operands]` as commander would read it, or undefined for anything
 * else (another command, help, an unknown flag, a flag out of place, more operands than `arity`).
 */
export function parseCommandArgs(args: string[], word: string, flags: readonly FlagSpec[], arity = 0): CommandArgs | undefined {
  const globals = parseOptions(GLOBAL_FLAGS);
  const locals = parseOptions(flags);
  let parsed;
  try {
    parsed = parseArgs({ args, options: { ...globals, ...locals }, allowPositionals: true, strict: true, tokens: true });
  } catch {
    return undefined;
  }
  const positional = parsed.tokens.filter((t) => t.kind !== 'option');
  // `--` (an option-terminator token) is left to commander.
  if (positional.some((t) => t.kind !== 'positional') || positional.length !== 1 + arity) return undefined;
  if (positional[0]!.kind !== 'positional' || positional[0]!.value !== word) return undefined;
  const at = positional[0]!.index;
  const options: Record<string, string | boolean> = {};
  for (const t of parsed.tokens) {
    if (t.kind !== 'option') continue;
    // Commander takes the program's options on either side of the command word, the
    // command's only after it.
    if (!(t.name in globals) && t.index < at) return undefined;
    if (t.name.startsWith('no-')) options[camel(t.name.slice(3))] = false;
    else options[camel(t.name)] = t.value ?? true;
  }
  const operands = positional.slice(1).flatMap((t) => (t.kind === 'positional' ? [t.value] : []));
  return { options, operands };
}
