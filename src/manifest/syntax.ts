// OSv manifest line syntax (facts doc §1.1, §1.2, §9): which lines count, the `": "` split,
// `${NAME}` module variables and `%(name)s` host-path variables. No file system access here.

import { OsvError } from '../diagnostics/error.js';

/** A mapping line as written, after skipping blanks, comments and `[manifest]`. */
export interface ManifestLine {
  guest: string;
  /** Host side, before `%(name)s` substitution. */
  host: string;
  /** 1-based line number. */
  line: number;
}

const SKIP = /^[ \t]*(?:#.*)?$/;

/**
 * Split manifest text into mapping lines. `dollarVars` expands `${NAME}` (what OSv's module.py
 * does for module manifests); without it `${...}` stays literal, as OSv's image scripts leave it.
 */
export function parseManifestText(text: string, file: string, dollarVars?: Record<string, string | undefined>): { lines: ManifestLine[]; errors: OsvError[] } {
  const lines: ManifestLine[] = [];
  const errors: OsvError[] = [];
  const raw = text.split('\n');
  raw.forEach((rawLine, i) => {
    const lineNo = i + 1;
    let line = rawLine.replace(/\s+$/, '');
    if (SKIP.test(line) || line.replace(/^[ \t]+/, '') === '[manifest]') return;
    const where = { file, line: lineNo, column: 1 };
    if (dollarVars) {
      let missing: string | undefined;
      line = line.replace(/\$\{([^}]*)\}/g, (whole, name: string) => {
        const v = dollarVars[name];
        if (v === undefined) missing ??= name;
        return v ?? whole;
      });
      if (missing !== undefined) {
        errors.push(
          new OsvError({
            code: 'manifest.undefined-variable',
            message: `undefined variable \${${missing}} in ${file}:${lineNo}`,
            source: where,
            hint: missing === 'OSV_BASE' ? 'set vars.OSV_BASE (or the OSV_BASE environment variable) to an OSv source tree' : `known variables: ${Object.keys(dollarVars).filter((k) => dollarVars[k] !== undefined).join(', ')}`,
          }),
        );
        return;
      }
    }
    const sep = line.indexOf(': ');
    if (sep < 0) {
      errors.push(
        new OsvError({
          code: 'manifest.syntax',
          message: `${file}:${lineNo}: expected "GUEST: HOST" (a colon followed by a space), got "${line.trim()}"`,
          source: where,
          hint: 'write the guest path, ": ", then the host path, "->target" or a directory',
        }),
      );
      return;
    }
    // OSv splits at most twice on ": " and drops a third part: the host side ends at a second ": ".
    const rest = line.slice(sep + 2);
    const second = rest.indexOf(': ');
    lines.push({ guest: line.slice(0, sep).trim(), host: (second < 0 ? rest : rest.slice(0, second)).trim(), line: lineNo });
  });
  return { lines, errors };
}

/**
 * Python `%`-formatting of a host path with `%(name)s` variables: `%%` is a literal `%`, and
 * any other `%` is an error (OSv's scripts raise on it too).
 */
export function substitutePercent(host: string, vars: Record<string, string>): { ok: true; value: string } | { ok: false; reason: string } {
  let bad: string | undefined;
  const value = host.replace(/%(%|\(([^)]*)\)s|.?)/g, (whole, what: string, name: string | undefined) => {
    if (what === '%') return '%';
    if (name !== undefined) {
      const v = vars[name];
      if (v !== undefined) return v;
      bad ??= `undefined variable %(${name})s (known: ${Object.keys(vars).join(', ') || 'none'})`;
      return whole;
    }
    bad ??= `"${whole}" is not %(name)s; write %% for a literal %`;
    return whole;
  });
  return bad === undefined ? { ok: true, value } : { ok: false, reason: bad };
}

/** The inverse for writing: a host path or link target as OSv's `%` formatting will read it. */
export const escapePercent = (s: string): string => s.replace(/%/g, '%%');
