// Writing a plan as an OSv manifest (usable as OSv's append.manifest): one line per file and
// symlink, one per empty directory (parents are implied), `%` escaped as `%%` on the host side.
// Generated files (skeleton /etc/fstab, /etc/hosts) have no host file: with `inlineDir` they are
// referenced as <inlineDir><guest path> (the caller writes them there); without it they are
// listed as comments, since a manifest can only point at files. Files of a `from:` image have
// no host file either: with `inlineDir` they are copied there the same way, else listed as comments.

import { OsvError, OsvErrors } from '../diagnostics/error.js';
import type { Result } from '../diagnostics/result.js';
import { err, ok } from '../diagnostics/result.js';
import type { Plan, PlanEntry } from '../plan/types.js';
import { escapePercent } from './syntax.js';

export interface WriteManifestOptions {
  /** Absolute host directory where generated files are (or will be) stored, mirroring guest paths. */
  inlineDir?: string;
  /** Extra comment lines after the header (the boot command line...). */
  notes?: string[];
}

export interface InlineFile {
  guest: string;
  /** Where the manifest says it is: <inlineDir><guest>. */
  host: string;
  /** The bytes: generated, or (`image`) to be read through the planner's view at that path. */
  content: Uint8Array | { image: string };
}

export interface WrittenManifest {
  text: string;
  /** Generated files the caller must write for the manifest to be complete (only with inlineDir). */
  inline: InlineFile[];
  warnings: string[];
}

/** Any host directory maps to an empty guest directory; `/` exists everywhere. */
const DIR_HOST = '/';

export function writeManifest(plan: Pick<Plan, 'name' | 'entries'>, options: WriteManifestOptions = {}): Result<WrittenManifest, OsvErrors> {
  const errors: OsvError[] = [];
  const warnings: string[] = [];
  const inline: InlineFile[] = [];
  const out: string[] = [
    `# OSv manifest of "${plan.name}", written by osv-up from its plan (${plan.entries.length} entries).`,
    '# Directories map to a host directory: OSv creates them empty. Parent directories are implied.',
    ...(options.notes ?? []).map((n) => `# ${n.replace(/[\r\n]+/g, ' ')}`),
    '[manifest]',
  ];
  const comments: string[] = [];
  const hasChild = childSet(plan.entries);
  const check = (e: PlanEntry, hostSide: string, what: string): boolean => {
    const problem = hostProblem(e.guest, hostSide);
    if (problem) errors.push(new OsvError({ code: 'manifest.unwritable', message: `${e.guest}: its ${what} ${problem}`, hint: 'OSv\'s manifest syntax cannot express it: rename the file, or leave it out of `osv manifest` and build with `osv build`' }));
    return problem === undefined;
  };

  for (const e of plan.entries) {
    if (e.kind === 'dir') {
      if (!hasChild.has(e.guest)) out.push(`${e.guest}: ${DIR_HOST}`);
    } else if (e.kind === 'symlink') {
      if (check(e, `->${e.target}`, `link target "${e.target}"`)) out.push(`${e.guest}: ->${escapePercent(e.target)}`);
    } else if (e.content === undefined && e.origin) {
      const host = options.inlineDir !== undefined ? options.inlineDir.replace(/\/+$/, '') + e.guest : undefined;
      if (host === undefined) comments.push(`# ${e.guest}: ${e.origin.path} of the image ${e.origin.image}, layer ${e.origin.layer} (write the manifest with -o FILE to get it as a file)`);
      else if (check(e, host, `image file path ${host}`)) {
        out.push(`${e.guest}: ${escapePercent(host)}`);
        inline.push({ guest: e.guest, host, content: { image: e.host } });
      }
    } else if (e.content === undefined) {
      if (e.host.endsWith('-stripped.so')) warnings.push(`${e.guest}: OSv's image scripts skip host files named *-stripped.so (${e.host}); copy it under another name`);
      if (check(e, e.host, `host path ${e.host}`)) out.push(`${e.guest}: ${escapePercent(e.host)}`);
    } else if (options.inlineDir !== undefined) {
      const host = options.inlineDir.replace(/\/+$/, '') + e.guest;
      if (check(e, host, `generated file path ${host}`)) {
        out.push(`${e.guest}: ${escapePercent(host)}`);
        inline.push({ guest: e.guest, host, content: e.content });
      }
    } else {
      comments.push(`# ${e.guest} (generated, ${e.size} bytes; write the manifest with -o FILE to get it as a file):`);
      for (const l of Buffer.from(e.content).toString('utf8').replace(/\n$/, '').split('\n')) comments.push(`#   ${l}`);
    }
  }
  if (errors.length > 0) return err(new OsvErrors(errors));
  return ok({ text: [...out, ...comments].join('\n') + '\n', inline, warnings });
}

/** Why a host side cannot be written so that OSv reads it back the same, or undefined. */
function hostProblem(guest: string, host: string): string | undefined {
  if (/[\n\r]/.test(host)) return 'contains a line break';
  if (host.includes(': ')) return 'contains ": ", where OSv would cut it';
  if (host !== host.trim()) return 'starts or ends with whitespace, which OSv strips';
  if (!host.startsWith('->') && host.startsWith('!')) return 'starts with "!", which OSv reads as "do not follow symlinks"';
  if (guest.includes('/&/') && host.endsWith('/&')) return 'ends in "/&", which OSv would expand with the guest path';
  if (guest.endsWith('/**') && host.endsWith('/**')) return 'ends in "/**", which OSv would expand as a tree';
  return undefined;
}

/** Guest directories that have at least one entry below them. */
function childSet(entries: PlanEntry[]): Set<string> {
  const s = new Set<string>();
  for (const e of entries) {
    const i = e.guest.lastIndexOf('/');
    if (i > 0) s.add(e.guest.slice(0, i));
    else if (e.guest !== '/') s.add('/');
  }
  return s;
}
