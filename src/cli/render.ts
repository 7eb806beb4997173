// The only place that turns errors into terminal text.

import { OsvError, OsvErrors, ExitCode, formatSource } from '../diagnostics/error.js';
import { imagePaths } from '../plan/render.js';

export const useColor = (): boolean =>
  !process.env['NO_COLOR'] && process.env['TERM'] !== 'dumb' && Boolean(process.stderr.isTTY);

const paint = (code: string, s: string): string => (useColor() ? `\x1b[${code}m${s}\x1b[0m` : s);
export const red = (s: string): string => paint('31', s);
export const yellow = (s: string): string => paint('33', s);
export const dim = (s: string): string => paint('2', s);
export const bold = (s: string): string => paint('1', s);
export const green = (s: string): string => paint('32', s);

export function renderError(e: OsvError): string {
  const where = e.source ? `${formatSource(e.source)}: ` : '';
  const lines = [`${where}${red('error')}: ${imagePaths(e.message)}`];
  for (const d of e.details) lines.push(`  ${imagePaths(d)}`);
  if (e.hint) lines.push(`  ${dim('hint:')} ${e.hint}`);
  return lines.join('\n');
}

/** Print any thrown value and return the exit code. Unknown errors are bugs: say so, no stack unless OSV_DEBUG. */
export function reportFailure(e: unknown, json: boolean): number {
  const errors = e instanceof OsvErrors ? e.errors : e instanceof OsvError ? [e] : undefined;
  if (errors) {
    if (json) process.stdout.write(JSON.stringify({ ok: false, errors: errors.map((x) => x.toJSON()) }, null, 2) + '\n');
    else process.stderr.write(errors.map(renderError).join('\n') + '\n');
    return (e as OsvError | OsvErrors).exitCode;
  }
  const msg = e instanceof Error ? e.message : String(e);
  process.stderr.write(`${red('error')}: internal error: ${msg}\n`);
  if (process.env['OSV_DEBUG'] && e instanceof Error && e.stack) process.stderr.write(e.stack + '\n');
  else process.stderr.write(`  ${dim('hint:')} this is a bug in osv-up; run with OSV_DEBUG=1 for details and report it\n`);
  return ExitCode.buildFailed;
}
