// The error `osv build` (and `osv up --ci`) raise when the check found errors: one OsvError
// whose details are the findings, so the CLI's renderer prints it like any other error.

import { ExitCode, OsvError } from '../diagnostics/error.js';
import type { CheckReport } from './types.js';

/** undefined when the report has no errors. */
export function checkError(report: CheckReport): OsvError | undefined {
  if (report.ok) return undefined;
  return new OsvError({
    code: 'check.failed',
    message: `the symbol check found ${report.errors.length === 1 ? 'an error' : `${report.errors.length} errors`}: the program would fail to start on OSv`,
    details: report.errors.map((f) => f.message),
    hint: 'ship the library that defines them (libraries:, files:), or pass --no-check to build anyway; `osv check --verbose` lists every symbol',
    exitCode: ExitCode.invalidInput,
  });
}
