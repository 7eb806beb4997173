// The set of entries being planned, keyed by guest path. Adding the same thing twice merges
// the reasons; adding something different at a taken path is an error naming both sides.

import { OsvError, type Source } from '../diagnostics/error.js';
import { compareBytes } from '../hostfs.js';
import { guestAncestors } from './guest-path.js';
import { describeProvenance, shortProvenance } from './provenance.js';
import type { PlanEntry, Provenance } from './types.js';

function sameProvenance(a: Provenance, b: Provenance): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && Buffer.compare(a, b) === 0;
}

/** Two entries that put the same thing at one guest path (so they can be merged). */
function sameContent(a: PlanEntry, b: PlanEntry): boolean {
  if (a.kind !== b.kind) return false;
  if (a.kind === 'symlink' && b.kind === 'symlink') return a.target === b.target;
  if ((a.kind === 'dir' || a.kind === 'file') && a.mode !== undefined && b.kind === a.kind && b.mode !== undefined && a.mode !== b.mode) return false;
  if (a.kind === 'dir') return true;
  if (a.kind === 'file' && b.kind === 'file') {
    if (a.content !== undefined || b.content !== undefined) return a.content !== undefined && b.content !== undefined && sameBytes(a.content, b.content);
    return a.host === b.host;
  }
  return false;
}

/** What an entry puts at its path; modes only when they are what differs. */
function describeEntry(e: PlanEntry, withMode = false): string {
  const mode = withMode && e.kind !== 'symlink' && e.mode !== undefined ? ` (mode ${e.mode.toString(8)})` : '';
  if (e.kind === 'dir') return `a directory${mode}`;
  if (e.kind === 'symlink') return `a symlink to ${e.target}`;
  if (e.content !== undefined) return `generated content (${e.size} bytes)${mode}`;
  return `${e.host}${mode}`;
}

export class EntryTable {
  private readonly entries = new Map<string, PlanEntry>();

  get(guest: string): PlanEntry | undefined {
    return this.entries.get(guest);
  }

  has(guest: string): boolean {
    return this.entries.has(guest);
  }

  /** Add an entry; the same content at the same path merges provenance, anything else is an error. */
  add(entry: PlanEntry): OsvError | undefined {
    if (entry.guest === '/' && entry.kind !== 'dir') return rootError(entry);
    const old = this.entries.get(entry.guest);
    if (!old) {
      this.entries.set(entry.guest, entry);
      return undefined;
    }
    if (!sameContent(old, entry)) return conflictError(old, entry);
    if (old.kind === 'dir' && old.mode === undefined && entry.kind === 'dir' && entry.mode !== undefined) old.mode = entry.mode;
    if (old.kind === 'file' && old.mode === undefined && entry.kind === 'file' && entry.mode !== undefined) old.mode = entry.mode;
    for (const w of entry.why) if (!old.why.some((o) => sameProvenance(o, w))) old.why.push(w);
    return undefined;
  }

  /** A default (skeleton) entry: used only where nothing declared takes the path; same content merges. */
  addDefault(entry: PlanEntry): void {
    const old = this.entries.get(entry.guest);
    if (!old) this.entries.set(entry.guest, entry);
    else if (sameContent(old, entry)) this.add(entry);
  }

  /**
   * Add the missing parent directories and check that no entry sits below a file or symlink.
   * Returns the entries sorted by guest path in byte order (parents sort before children).
   */
  finish(): { entries: PlanEntry[]; errors: OsvError[] } {
    const errors: OsvError[] = [];
    for (const e of [...this.entries.values()]) {
      for (const dir of guestAncestors(e.guest)) {
        const parent = this.entries.get(dir);
        if (!parent) this.entries.set(dir, { guest: dir, kind: 'dir', why: [{ kind: 'parent', of: e.guest }] });
        else if (parent.kind !== 'dir') {
          errors.push(
            new OsvError({
              code: 'plan.not-a-directory',
              message: `${e.guest} cannot be placed in the image: ${dir} is ${describeEntry(parent)}, not a directory`,
              details: [`${dir}: ${parent.why.map(describeProvenance).join('; ')}`, `${e.guest}: ${e.why.map(describeProvenance).join('; ')}`],
              hint: `put one of them somewhere else (a guest path cannot be both a ${parent.kind} and a directory)`,
            }),
          );
          break;
        }
      }
    }
    const entries = [...this.entries.values()].sort((a, b) => compareBytes(a.guest, b.guest));
    return { entries, errors };
  }
}

function conflictError(old: PlanEntry, entry: PlanEntry): OsvError {
  const first = old.why[0];
  const second = entry.why[0];
  const modesDiffer = describeEntry(old) === describeEntry(entry);
  const source = sourceOf(second) ?? sourceOf(first);
  return new OsvError({
    code: 'plan.conflict',
    message: `${entry.guest} is declared twice with different ${modesDiffer ? 'modes' : 'contents'}`,
    details: [
      `${describeEntry(old, modesDiffer)}: ${first ? describeProvenance(first) : 'unknown'}`,
      `${describeEntry(entry, modesDiffer)}: ${second ? describeProvenance(second) : 'unknown'}`,
    ],
    hint: 'give one of them another `dest`, or remove one declaration',
    ...(source ? { source } : {}),
  });
}

/** The root can only be a directory: a file or link there would leave the image without one. */
function rootError(entry: PlanEntry): OsvError {
  const why = entry.why[0];
  const source = sourceOf(why);
  return new OsvError({
    code: 'plan.root',
    message: `${why ? `${shortProvenance(why)}: ` : ''}/ is the image's root directory; it cannot be ${entry.kind === 'symlink' ? `a symlink (to ${entry.target})` : `a file (${describeEntry(entry)})`}`,
    hint: 'give a path below the root, such as /NAME',
    ...(source ? { source } : {}),
  });
}

function sourceOf(p: Provenance | undefined): Source | undefined {
  if (!p) return undefined;
  if (p.kind === 'config' || p.kind === 'module') return p.source;
  if (p.kind === 'needed') return p.declaredBy && sourceOf(p.declaredBy);
  return undefined;
}
