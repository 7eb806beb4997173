// The only place that turns errors into terminal text.

import { fstatSync } from 'node:fs';
import { OsvError, OsvErrors, ExitCode, formatSource } from '../diagnostics/error.js';
import { writeStderr, writeStdout } from '../output.js';
import { imagePaths } from '../plan/render.js';

/**
 * Standard error is a terminal: a character device. Not process.stderr.isTTY, which would
 * create the stream (output.ts says why not); /dev/null, also a character device, shows nothing.
 */
function stderrIsTerminal(): boolean {
  try {
    return fstatSync(2).isCharacterDevice();
  } catch {
    return false;
  }
}

export const useColor = (): boolean => !process.env['NO_COLOR'] && process.env['TERM'] !== 'dumb' && stderrIsTerminal();

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
    if (json) writeStdout(JSON.stringify({ ok: false, errors: errors.map((x) => x.toJSON()) }, null, 2) + '\n');
    else writeStderr(errors.map(renderError).join('\n') + '\n');
    return (e as OsvError | OsvErrors).exitCode;
  }
  const msg = e instanceof Error ? e.message : String(e);
  writeStderr(`${red('error')}: internal error: ${msg}\n`);
  if (process.env['OSV_DEBUG'] && e instanceof Error && e.stack) writeStderr(e.stack + '\n');
  else writeStderr(`  ${dim('hint:')} this is a bug in osv-up; run with OSV_DEBUG=1 for details and report it\n`);
  return ExitCode.buildFailed;
}
