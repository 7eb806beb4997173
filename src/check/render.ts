// A check report as terminal text: the summary line, then one line per finding (errors
// first); with `verbose`, every missing symbol of every object with its version and binding.

import { byName, objectLabel } from './report.js';
import type { BindClass, CheckReport, MissingSymbol } from './types.js';

export interface RenderOptions {
  verbose?: boolean;
  /** Colour helpers (identity by default). */
  red?: (s: string) => string;
  yellow?: (s: string) => string;
  dim?: (s: string) => string;
}

const id = (s: string): string => s;

const bindText: Record<BindClass, string> = {
  copy: 'COPY relocation (the loader aborts)',
  tls: 'TLS relocation (the loader aborts)',
  load: 'bound at load (GLOB_DAT/64)',
  plt: 'PLT (JUMP_SLOT)',
  none: 'no relocation',
};

function symbolLine(m: MissingSymbol): string {
  const v = m.version !== undefined ? `@${m.version}${m.from ? ` (${m.from})` : ''}` : '';
  const offered = m.offered ? `; defined only as ${m.offered.join(', ')}` : '';
  return `${m.severity === 'error' ? 'E' : 'W'} ${m.name}${v}  ${m.kind}, ${bindText[m.bind]}${offered}`;
}

export function renderCheck(report: CheckReport, opts: RenderOptions = {}): string {
  const red = opts.red ?? id;
  const yellow = opts.yellow ?? id;
  const dim = opts.dim ?? id;
  const lines = [report.summary];
  for (const f of report.errors) lines.push(`${red('error')}: ${f.message}`);
  for (const f of report.warnings) lines.push(`${yellow('warning')}: ${f.message}`);
  if (opts.verbose) {
    for (const r of report.perObject) {
      if (r.missing.length === 0 && r.stubs.length === 0 && r.missingLibraries.length === 0) continue;
      lines.push('', `${objectLabel(r)}  ${dim(`${r.guest} <- ${r.host}; ${r.role}${r.declared ? `, ${r.declared}` : ''}`)}`);
      for (const l of r.missingLibraries) lines.push(`  library ${l}: not in the image`);
      // By name, as the findings list them (the symbol table's order means nothing to a reader).
      for (const m of [...r.missing].sort(byName)) lines.push(`  ${symbolLine(m)}`);
      for (const s of [...r.stubs].sort(byName)) lines.push(`  stub ${s.name}: ${s.effect}`);
    }
  } else if (report.errors.length + report.warnings.length > 0) {
    lines.push(dim('(--verbose lists every symbol; --json gives all of it)'));
  }
  return lines.join('\n');
}
