// Checks for command-line flag values shared by `osv run`, `osv build` and `osv up`. Kept
// tiny and dependency-free: the no-op build path imports it.

import { ExitCode, OsvError } from '../diagnostics/error.js';
import { err, ok, type Result } from '../diagnostics/result.js';
import { waitProblem } from '../units.js';

const usage = (message: string): OsvError => new OsvError({ code: 'cli.usage', message, exitCode: ExitCode.usage });

/** The value when it is one of `allowed`. */
export function oneOf<T extends string>(flag: string, value: string, allowed: readonly T[]): Result<T> {
  return (allowed as readonly string[]).includes(value) ? ok(value as T) : err(usage(`${flag} must be one of ${allowed.join(', ')}, got "${value}"`));
}

/** A finite number greater than zero. */
export function positive(flag: string, value: string): Result<number> {
  const n = Number(value);
  return n > 0 && Number.isFinite(n) ? ok(n) : err(usage(`${flag} must be a positive number, got "${value}"`));
}

/** Seconds to wait: a positive number that a timer can hold (src/units.ts). */
export function seconds(flag: string, value: string): Result<number> {
  const n = positive(flag, value);
  if (!n.ok) return n;
  const problem = waitProblem(n.value);
  return problem === undefined ? n : err(usage(`${flag} ${value} ${problem}`));
}

/** An optional flag: undefined stays undefined, anything else must pass `check` (else it throws). */
export function optional<T>(value: string | undefined, check: (v: string) => Result<T>): T | undefined {
  if (value === undefined) return undefined;
  const r = check(value);
  if (!r.ok) throw r.error;
  return r.value;
}
