// The text form of a trace report: findings grouped by why they matter, then what was left
// out and why, then what --write would do (or did).

import { posix } from 'node:path';
import { bold, dim, yellow } from '../cli/render.js';
import { REASONS, type Category } from './classify.js';
import type { Finding, TraceReport } from './index.js';

/** Quote a word for a POSIX shell when it needs it. */
export function shellQuote(w: string): string {
  return /^[\w@%+=:,./-]+$/.test(w) ? w : `'${w.replace(/'/g, `'\\''`)}'`;
}

/** At most this many paths per group in text; --json lists every one. */
const PER_GROUP = 15;

function describeExit(r: TraceReport): string {
  const secs = (r.elapsedMs / 1000).toFixed(2);
  if (r.stoppedBy === 'duration') return `ran ${secs} s and was stopped (--duration)`;
  if (r.stoppedBy === 'interrupt') return `ran ${secs} s and was stopped (interrupted)`;
  if (r.exit.signal) return `ran ${secs} s and was killed by ${r.exit.signal}`;
  return `ran ${secs} s and exited with status ${r.exit.code}`;
}

function line(f: Finding): string {
  if (f.kind === 'library') {
    const name = f.request && !f.request.includes('/') ? `${f.request}  ${dim(f.path)}` : f.path;
    const by = f.by ? dim(`  (${f.category === 'needed' || f.category === 'dlopen-closure' ? 'needed by' : 'loaded by'} ${posix.basename(f.by) || f.by})`) : '';
    return name + by;
  }
  const suffix = f.kind === 'directory' ? '/' : '';
  return f.hostPath !== f.path ? `${f.path}${suffix}  ${dim('-> ' + f.hostPath)}` : f.path + suffix;
}

function group(out: string[], title: string, items: Finding[]): void {
  if (!items.length) return;
  out.push('', bold(`${title} (${items.length}):`));
  const byCat = new Map<Category, Finding[]>();
  for (const f of items) byCat.set(f.category, [...(byCat.get(f.category) ?? []), f]);
  for (const [cat, fs] of byCat) {
    out.push(`  ${yellow(REASONS[cat])}`);
    for (const f of fs.slice(0, PER_GROUP)) out.push(`    ${line(f)}`);
    if (fs.length > PER_GROUP) out.push(dim(`    ... and ${fs.length - PER_GROUP} more (--json lists all)`));
  }
}

export interface RenderContext {
  /** The configuration compared against, or why there was none. */
  planSource: string;
  /** Set after --write: the file, how many entries were added, and what they are. */
  wrote?: { file: string; added: number; summary?: string };
}

export function renderReport(r: TraceReport, ctx: RenderContext): string {
  const out: string[] = [];
  const cmd = [r.program, ...r.args].map(shellQuote).join(' ');
  out.push(`${bold('osv trace')}: ${cmd}`);
  out.push(dim(`  ${describeExit(r)}; traced with the loader (LD_DEBUG)${r.strace ? ' and strace' : ''}; compared with ${ctx.planSource}`));
  for (const n of r.notes) out.push(`  ${yellow('note:')} ${n}`);

  const toAdd = r.findings.filter((f) => f.add);
  const derived = r.findings.filter((f) => !f.add);
  group(out, 'Libraries the plan lacks', toAdd.filter((f) => f.kind === 'library'));
  group(out, 'Files the plan lacks', toAdd.filter((f) => f.kind !== 'library'));
  group(out, 'Libraries the planner finds itself once their parent is in the plan', derived);
  if (r.programs.length) {
    out.push('', bold(`Programs it started (${r.programs.length}):`), `  ${yellow('OSv runs one program: these will not run in the guest')}`);
    for (const p of r.programs.slice(0, PER_GROUP)) out.push(`    ${p}`);
  }
  if (r.written.length) {
    out.push('', bold(`Files it wrote (${r.written.length}):`), `  ${yellow('rofs is read-only: use filesystem: ext, or write under /tmp')}`);
    for (const p of r.written.slice(0, PER_GROUP)) out.push(`    ${p}`);
    if (r.written.length > PER_GROUP) out.push(dim(`    ... and ${r.written.length - PER_GROUP} more`));
  }
  out.push('');
  if (!toAdd.length) out.push('Nothing to add: the plan has everything the program used while it was traced.');
  else if (ctx.wrote)
    out.push(`Added ${ctx.wrote.added} entr${ctx.wrote.added === 1 ? 'y' : 'ies'} to ${ctx.wrote.file} (comments and formatting kept)${ctx.wrote.summary ? `: ${ctx.wrote.summary}` : ''}.`);
  else out.push(`Add ${toAdd.length === 1 ? 'it' : 'them'} to osv.yaml with: ${bold('osv trace --write -- ' + cmd)}`);
  out.push(dim(`(${r.ignored.length} other paths left out: already planned, provided by OSv, pseudo-files or temporary; --json lists them)`));
  return out.join('\n') + '\n';
}
