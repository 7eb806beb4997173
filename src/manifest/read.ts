// Reading an OSv manifest into entries, with the meaning OSv's scripts give it (facts doc
// §1.3-§1.5): `**` trees (files only), `/&/` shorthand, `->target` links, `!` (keep a host
// symlink as a link), host directories as empty directories, host symlinks dereferenced with
// OSv's ancestor search for absolute targets, relative host paths against a base directory.
// A later line for the same guest path replaces the earlier one but keeps its position.

import { OsvError, OsvErrors } from '../diagnostics/error.js';
import type { Result } from '../diagnostics/result.js';
import { err, ok } from '../diagnostics/result.js';
import type { HostFs, HostStat } from '../hostfs.js';
import { posix } from 'node:path';
import { normalizeGuestPath } from '../plan/guest-path.js';
import { realpath } from '../plan/host-path.js';
import { parseManifestText, substitutePercent, type ManifestLine } from './syntax.js';

export type ManifestEntry =
  | { kind: 'file'; guest: string; host: string; stat: HostStat; line: number }
  | { kind: 'dir'; guest: string; host: string; line: number }
  | { kind: 'symlink'; guest: string; target: string; line: number };

export interface ReadManifestOptions {
  fs: HostFs;
  /** The manifest's path, for messages. */
  file: string;
  /** Relative host paths are joined to this directory. */
  baseDir: string;
  /** `%(name)s` values (host side only). */
  vars?: Record<string, string>;
  /** `${NAME}` values (module manifests: MODULE_DIR, OSV_BASE); undefined leaves `${...}` literal. */
  dollarVars?: Record<string, string | undefined>;
}

export interface ReadManifestResult {
  entries: ManifestEntry[];
  warnings: string[];
}

const MAX_LINKS = 40;

export function readManifest(text: string, options: ReadManifestOptions): Result<ReadManifestResult, OsvErrors> {
  const { lines, errors } = parseManifestText(text, options.file, options.dollarVars);
  const warnings: string[] = [];
  const byGuest = new Map<string, ManifestEntry>();
  const impliedDirs = new Set<string>(); // every ancestor of a mapped path (may be stale after a replace)
  const put = (e: ManifestEntry): void => {
    // A file or link replacing a directory replaces its whole subtree, as in gen-rofs-img.
    if (e.kind !== 'dir' && impliedDirs.has(e.guest)) {
      for (const g of byGuest.keys()) if (g.startsWith(e.guest + '/')) byGuest.delete(g);
    }
    byGuest.set(e.guest, e);
    for (let i = e.guest.indexOf('/', 1); i > 0; i = e.guest.indexOf('/', i + 1)) impliedDirs.add(e.guest.slice(0, i));
  };
  for (const line of lines) {
    const fail = (message: string, hint: string, code = 'manifest.invalid'): void => {
      errors.push(new OsvError({ code, message: `${options.file}:${line.line}: ${message}`, hint, source: { file: options.file, line: line.line, column: 1 } }));
    };
    expandLine(line, options, put, fail, warnings);
  }
  if (errors.length > 0) return err(new OsvErrors(errors));
  return ok({ entries: [...byGuest.values()], warnings });
}

function expandLine(
  line: ManifestLine,
  options: ReadManifestOptions,
  put: (e: ManifestEntry) => void,
  fail: (message: string, hint: string, code?: string) => void,
  warnings: string[],
): void {
  const sub = substitutePercent(line.host, options.vars ?? {});
  if (!sub.ok) return fail(sub.reason, 'define the variable, or write %% for a literal %', 'manifest.variable');
  let host = sub.value;
  let guest = line.guest;

  if (host.startsWith('->')) {
    const g = checkGuest(guest, fail);
    if (g) put({ kind: 'symlink', guest: g, target: host.slice(2), line: line.line });
    return;
  }
  const noFollow = host.startsWith('!');
  if (noFollow) host = host.slice(1);

  // `/pre/&/suffix: /hostpre/&` means `/pre/suffix: /hostpre/suffix`.
  const amp = guest.indexOf('/&/');
  if (amp >= 0 && host.endsWith('/&')) {
    const suffix = guest.slice(amp + 3);
    guest = guest.slice(0, amp) + '/' + suffix;
    host = host.slice(0, -1) + suffix;
  }
  if (!host.startsWith('/')) host = posix.join(options.baseDir, host);

  if (host.endsWith('-stripped.so')) {
    warnings.push(`${options.file}:${line.line}: skipped ${host}: OSv's scripts skip host files named *-stripped.so`);
    return;
  }

  if (guest.endsWith('/**') && host.endsWith('/**')) {
    const guestRoot = checkGuest(guest.slice(0, -3) || '/', fail);
    if (!guestRoot) return;
    const root = realpath(options.fs, host.slice(0, -3) || '/');
    if (!root.ok || options.fs.stat(root.path)?.kind !== 'dir') {
      return fail(`${host.slice(0, -3)} is not a directory`, 'a "/**" line copies a host directory tree: check the host path', 'manifest.not-found');
    }
    walkFiles(options.fs, root.path, '', (rel, path) => {
      const g = checkGuest(`${guestRoot === '/' ? '' : guestRoot}/${rel}`, fail);
      if (g) mapHost(g, path, noFollow, line, options, put, fail);
    }, (path) => warnings.push(`${options.file}:${line.line}: ${path} is a symlink to a directory; a "/**" copy drops it, as OSv's scripts do`));
    return;
  }
  const g = checkGuest(guest, fail);
  if (g) mapHost(g, host, noFollow, line, options, put, fail);
}

function checkGuest(guest: string, fail: (m: string, h: string, code?: string) => void): string | undefined {
  const n = normalizeGuestPath(guest);
  if (n.ok) return n.path;
  fail(`guest path "${guest}" ${n.reason}`, n.hint, 'manifest.bad-guest-path');
  return undefined;
}

/** One host path at one guest path: a file, an empty directory, or (dangling or `!`) a symlink. */
function mapHost(
  guest: string,
  host: string,
  noFollow: boolean,
  line: ManifestLine,
  options: ReadManifestOptions,
  put: (e: ManifestEntry) => void,
  fail: (message: string, hint: string, code?: string) => void,
): void {
  const fs = options.fs;
  const lst = fs.lstat(host);
  if (!lst) return fail(`host path ${host} does not exist`, 'fix the path, or remove the line', 'manifest.not-found');
  if (lst.kind === 'symlink') {
    if (noFollow) return put({ kind: 'symlink', guest, target: fs.readlink(host), line: line.line });
    const resolved = unsymlink(fs, host);
    // Dangling (or looping, which never exists): kept as a link, like OSv.
    if (resolved === undefined) return put({ kind: 'symlink', guest, target: fs.readlink(host), line: line.line });
    host = resolved;
  }
  const real = realpath(fs, host);
  const st = real.ok ? fs.stat(real.path) : undefined;
  if (!real.ok || !st) return fail(`host path ${host} cannot be resolved`, 'check the path and its symlinks', 'manifest.not-found');
  if (st.kind === 'dir') return put({ kind: 'dir', guest, host: real.path, line: line.line });
  if (st.kind === 'file') return put({ kind: 'file', guest, host: real.path, stat: st, line: line.line });
  fail(`host path ${host} is not a regular file or directory`, 'sockets, devices and FIFOs cannot go into an image', 'manifest.not-a-file');
}

/**
 * OSv's symlink following: a relative target is taken against the link's directory; an
 * absolute target T is looked for as <ancestor>/T from the link's directory up, then as T.
 * Returns undefined for a dangling link (the caller keeps it as a link); a loop never
 * "exists", so it is dangling too.
 */
function unsymlink(fs: HostFs, link: string): string | undefined {
  let p = link;
  for (let hops = 0; fs.lstat(p)?.kind === 'symlink'; hops++) {
    if (hops >= MAX_LINKS) return undefined;
    const target = fs.readlink(p);
    const dir = posix.dirname(p);
    let next: string | undefined;
    if (!target.startsWith('/')) next = posix.join(dir, target);
    else {
      for (let a = dir; ; a = posix.dirname(a)) {
        const c = a === '/' ? target : a + target;
        if (fs.stat(c)) {
          next = c;
          break;
        }
        if (a === '/') break;
      }
    }
    if (next === undefined || !fs.stat(next)) return undefined;
    p = next;
  }
  return p;
}

/** os.walk-like, without following symlinked directories: every non-directory, in byte order. */
function walkFiles(fs: HostFs, dir: string, rel: string, onFile: (rel: string, path: string) => void, onDirLink: (path: string) => void): void {
  for (const name of fs.readdir(dir)) {
    const path = `${dir === '/' ? '' : dir}/${name}`;
    const r = rel === '' ? name : `${rel}/${name}`;
    const st = fs.lstat(path);
    if (st?.kind === 'dir') walkFiles(fs, path, r, onFile, onDirLink);
    else if (st?.kind === 'symlink' && fs.stat(path)?.kind === 'dir') onDirLink(path);
    else onFile(r, path);
  }
}
