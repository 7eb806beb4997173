// Provenance as text: one line per reason, for conflicts, `osv plan` and `osv why`.

import { formatSource } from '../diagnostics/error.js';
import type { Provenance } from './types.js';

const at = (s: { file: string; line: number; column: number } | undefined): string => (s ? ` (${formatSource(s)})` : '');

/** One line: where the entry was declared, or why it was pulled in. */
export function describeProvenance(p: Provenance): string {
  switch (p.kind) {
    case 'config':
      return `${p.key}${p.detail ? `, ${p.detail}` : ''}${at(p.source)}`;
    case 'module':
      return `module ${p.module}${p.key ? ` ${p.key}` : ''}${p.detail ? `, ${p.detail}` : ''}${at(p.source)}`;
    case 'needed': {
      const root = p.declaredBy ? ` [${describeProvenance(p.declaredBy)}]` : '';
      return `needed by ${[...p.chain].join(' -> ')} (found by ${p.rule})${root}`;
    }
    case 'skeleton':
      return `OSv skeleton: ${p.reason}`;
    case 'kernel':
      return `kernel bundle: ${p.reason}`;
    case 'parent':
      return `parent directory of ${p.of}`;
  }
}

/** A short label for tables: the config key, the needing object, `skeleton`... */
export function shortProvenance(p: Provenance): string {
  switch (p.kind) {
    case 'config':
      return p.key;
    case 'module':
      return `module ${p.module}`;
    case 'needed':
      return `needed by ${p.by}`;
    case 'skeleton':
      return 'skeleton';
    case 'kernel':
      return 'kernel';
    case 'parent':
      return 'parent dir';
  }
}

/**
 * The chain for `osv why`: the reason itself, then what caused that reason, down to the
 * declaration in a file. Each line is indented one step deeper than the one before.
 */
export function provenanceChain(p: Provenance): string[] {
  const lines: string[] = [];
  if (p.kind === 'needed') {
    lines.push(`needed (DT_NEEDED) by ${p.by}, found by the ${p.rule} rule`);
    if (p.chain.length > 1) lines.push(`load chain: ${p.chain.join(' -> ')}`);
    if (p.tried.length > 0) lines.push(`tried before the hit: ${p.tried.join(', ')}`);
    if (p.declaredBy) lines.push(...provenanceChain(p.declaredBy).map((l) => `  ${l}`));
    return lines;
  }
  return [describeProvenance(p)];
}
