// The end of `osv up`, `osv run` and `osv test`: the verdict becomes an exit code and, unless
// --json, at most one line on stderr (or a thrown OsvError, which the CLI renders with its hint).
//
// Two contracts (README, "Exit codes"):
// - CI (`osv test`, `--ci`): 0 only on a pass; 4 for any failure of the guest, a nonzero
//   status included; 130 interrupted.
// - Otherwise, like `docker run`: the program's own exit status when OSv reported it; 125,
//   126 or 127 when there is none (programExitCode).

import { ExitCode, OsvError } from '../diagnostics/error.js';
import { programExitCode, type Verdict } from './verdict.js';

export interface OutcomeOptions {
  ci: boolean;
  json: boolean;
  stderr?: { write(s: string): unknown };
}

/** The exit code for a finished run; throws the failure for the CLI to render where one is due. */
export function runOutcome(v: Verdict, opts: OutcomeOptions): number {
  const stderr = opts.stderr ?? process.stderr;
  const code = opts.ci ? v.exitCode : programExitCode(v);
  const say = (line: string): void => {
    if (!opts.json) stderr.write(`osv: ${line}\n`);
  };
  if (v.ok) {
    if (opts.ci) say(`passed: ${v.reason}`);
    return code;
  }
  if (v.code === 'interrupted') {
    say('interrupted');
    return code;
  }
  if (opts.json) return code;
  // Outside CI a nonzero status is the program's answer, not osv-up's failure: one plain line.
  if (!opts.ci && v.code === 'exit-status' && v.finding) {
    say(v.finding.summary);
    return code;
  }
  throw new OsvError({ code: `run.${v.code}`, message: v.reason, ...(v.hint ? { hint: v.hint } : {}), exitCode: code as ExitCode });
}

/** The program's status for --json (null: OSv did not report it; `verdict.status.why` says why). */
export const exitStatusOf = (v: Verdict): number | null => (v.status.known ? v.status.status : null);
