// Copying a host directory tree: walked in byte order of names, with `exclude` patterns.
// A symlink inside the tree whose target is also inside the (copied, not excluded) tree stays
// a symlink; any other symlink is followed and copied as what it points to, with a warning
// (a link to /etc copies all of /etc: docs/security.md). Following a link back into a
// directory being walked is a loop, which is an error.

import { OsvError } from '../diagnostics/error.js';
import { pseudoFileSystem, type HostFs } from '../hostfs.js';
import { posix } from 'node:path';
import { checkGuestName, guestJoin } from './guest-path.js';
import { hostJoin, isUnder, realpath } from './host-path.js';
import type { PlanEntry, Provenance } from './types.js';

export interface TreeCopy {
  fs: HostFs;
  sysroot: string;
  /** Real host path of the tree's root directory. */
  root: string;
  /** Guest directory the tree's contents go to. */
  guest: string;
  exclude: (rel: string) => boolean;
  /** Permission bits for every copied file (undefined = the host's). */
  mode?: number;
  /** Provenance for one entry, given how it got in. */
  why: (detail: string) => Provenance;
  emit: (entry: PlanEntry) => void;
  errors: OsvError[];
  warnings: string[];
}

/** A host name that is not UTF-8, as Node read it (U+FFFD for the bad bytes): that name is not the file's. */
export const notUtf8Name = (dir: string, name: string): OsvError =>
  new OsvError({ code: 'plan.bad-host-name', message: `cannot copy a file of ${dir}: its name is not valid UTF-8 (it reads as ${JSON.stringify(name)}), and an image names files in UTF-8`, hint: 'rename it (convmv or mv), or remove it' });

/** Walk `t.root` (already emitted as a directory by the caller). */
export function copyTree(t: TreeCopy): void {
  walk(t, t.root, t.guest, '', new Set([t.root]));
}

function walk(t: TreeCopy, dir: string, guestDir: string, rel: string, stack: Set<string>): void {
  let names: string[];
  try {
    names = t.fs.readdir(dir);
  } catch (e) {
    t.errors.push(new OsvError({ code: 'plan.unreadable', message: `cannot read directory ${dir}: ${(e as Error).message}`, hint: 'check its permissions' }));
    return;
  }
  for (const name of names) {
    const relPath = rel === '' ? name : `${rel}/${name}`;
    if (t.exclude(relPath)) continue;
    const host = hostJoin(dir, name);
    const bad = checkGuestName(name);
    if (bad) {
      t.errors.push(new OsvError({ code: 'plan.bad-guest-path', message: `cannot copy ${host}: its name ${bad.reason}`, hint: `${bad.hint}, or exclude it` }));
      continue;
    }
    const guest = guestJoin(guestDir, name);
    const st = t.fs.lstat(host);
    if (!st) {
      // Node reads a name that is not UTF-8 with U+FFFD in place of the bad bytes, and that
      // name is not the file's: it would be left out without a word.
      if (name.includes('\uFFFD'))
        t.errors.push(notUtf8Name(dir, name));
      continue; // else it vanished while walking
    }
    if (st.kind === 'file') {
      t.emit({ guest, kind: 'file', host, size: st.size, mtimeMs: st.mtimeMs, ino: st.ino, mode: t.mode ?? st.mode, why: [t.why(`in tree ${t.root}`)] });
    } else if (st.kind === 'dir') {
      if (skipPseudo(t, host)) continue;
      descend(t, host, guest, relPath, stack, `in tree ${t.root}`);
    } else if (st.kind === 'symlink') {
      link(t, host, guest, relPath, stack);
    } else {
      t.warnings.push(`skipped ${host}: a socket, device or FIFO cannot be stored in an image`);
    }
  }
}

function descend(t: TreeCopy, real: string, guest: string, rel: string, stack: Set<string>, detail: string): void {
  if (stack.has(real)) {
    t.errors.push(
      new OsvError({
        code: 'plan.symlink-loop',
        message: `symlink loop while copying ${t.root}: ${guest} leads back to ${real}, a directory already being copied`,
        hint: 'exclude the link (files[].exclude), or copy the directory it points to on its own',
      }),
    );
    return;
  }
  t.emit({ guest, kind: 'dir', why: [t.why(detail)] });
  stack.add(real);
  walk(t, real, guest, rel, stack);
  stack.delete(real);
}

/** /proc and /sys met inside a tree (copying `/`): skipped, as their files cannot be copied. */
function skipPseudo(t: TreeCopy, host: string): boolean {
  const pseudo = t.sysroot === '/' ? pseudoFileSystem(host) : undefined;
  if (pseudo) t.warnings.push(`skipped ${host} in tree ${t.root}: /${pseudo} is a pseudo file system, made up by the kernel as it is read`);
  return pseudo !== undefined;
}

function link(t: TreeCopy, host: string, guest: string, rel: string, stack: Set<string>): void {
  let text: string;
  let resolved: ReturnType<typeof realpath>;
  try {
    text = t.fs.readlink(host);
    resolved = realpath(t.fs, host, t.sysroot);
  } catch (e) {
    t.errors.push(new OsvError({ code: 'plan.unreadable', message: `cannot read the symlink ${host} in tree ${t.root}: ${(e as Error).message}`, hint: 'check its permissions, or exclude it (files[].exclude)' }));
    return;
  }
  if (!resolved.ok) {
    if (resolved.reason === 'loop') {
      t.errors.push(new OsvError({ code: 'plan.symlink-loop', message: `symlink loop: ${host} -> ${text} never reaches a file`, hint: 'fix or exclude the link' }));
      return;
    }
    // A dangling link is copied as the link it is (OSv's own scripts do the same).
    t.warnings.push(`${host} -> ${text} points to nothing (${resolved.at} is missing); kept as a dangling symlink at ${guest}`);
    t.emit({ guest, kind: 'symlink', target: text, why: [t.why(`dangling symlink in tree ${t.root}`)] });
    return;
  }
  const target = resolved.path;
  if (isUnder(t.root, target)) {
    const targetRel = target === t.root ? '' : target.slice(t.root.length + 1);
    if (targetRel === '' || !t.exclude(targetRel)) {
      t.emit({ guest, kind: 'symlink', target: guestTarget(t, rel, text, targetRel), why: [t.why(`symlink inside tree ${t.root}`)] });
      return;
    }
  }
  const st = t.fs.stat(target);
  if (st?.kind === 'dir' && skipPseudo(t, target)) return;
  if (st?.kind === 'dir' || st?.kind === 'file')
    t.warnings.push(
      `${host} -> ${text} points outside ${t.root}: ${st.kind === 'dir' ? `all of the directory ${target} is` : `${target} is`} copied to ${guest}; exclude the link (files[].exclude) if that is not meant`,
    );
  if (st?.kind === 'dir') {
    descend(t, target, guest, rel, stack, `symlink ${host} -> ${text} followed`);
  } else if (st?.kind === 'file') {
    t.emit({ guest, kind: 'file', host: target, size: st.size, mtimeMs: st.mtimeMs, ino: st.ino, mode: t.mode ?? st.mode, why: [t.why(`symlink ${host} -> ${text} followed`)] });
  } else {
    t.warnings.push(`skipped ${host}: it points to ${target}, which is not a regular file or directory`);
  }
}

/**
 * The link text to store: the host text when it is relative and stays inside the tree (so the
 * image keeps the same shape), otherwise the absolute guest path of the target.
 */
function guestTarget(t: TreeCopy, rel: string, text: string, targetRel: string): string {
  if (!text.startsWith('/')) {
    const lexical = posix.normalize(posix.join(posix.dirname(rel), text));
    if (lexical !== '..' && !lexical.startsWith('../')) return text;
  }
  return guestJoin(t.guest, targetRel);
}
