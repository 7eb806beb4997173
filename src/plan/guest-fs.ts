// The planned tree as the guest's VFS will see it: paths resolved through the plan's own
// symlinks (absolute targets from the image's root, relative ones from the link's directory,
// at most 40 links, as Linux and OSv allow). The symbol check finds objects with it; the planner
// checks with it that each run's program, when it is a link, leads to a file.

import { posix } from 'node:path';
import type { PlanEntry } from './types.js';

/** Where a path leads: to an entry (its canonical path), or nowhere, and why; `links`: how many were followed. */
export type Followed =
  | { ok: true; path: string; entry: PlanEntry | undefined; links: number }
  | { ok: false; why: 'missing'; path: string; links: number }
  | { ok: false; why: 'loop' };

/** Links followed before giving up (ELOOP). */
const MAX_LINKS = 40;

export class GuestFs {
  private readonly lookup: (guest: string) => PlanEntry | undefined;

  /**
   * Over the plan's entries, or a lookup of them while they are being planned (the parent
   * directories are added only at the end): then, with `implicitDirs`, a path missing on the way
   * is taken for a directory, and only a missing last name is missing.
   */
  constructor(
    entries: readonly PlanEntry[] | ((guest: string) => PlanEntry | undefined),
    private readonly opts: { implicitDirs?: boolean } = {},
  ) {
    if (typeof entries === 'function') this.lookup = entries;
    else {
      const byGuest = new Map(entries.map((e) => [e.guest, e]));
      this.lookup = (g) => byGuest.get(g);
    }
  }

  /** The canonical path of the regular file at `path` (symlinks followed), or undefined. */
  file(path: string): string | undefined {
    const f = this.follow(path);
    return f.ok && f.entry?.kind === 'file' ? f.path : undefined;
  }

  /** `path` with every link on the way followed; `missing` names the first path the image lacks. */
  follow(path: string): Followed {
    let rest = path.split('/').filter((c) => c !== '' && c !== '.');
    let cur = '';
    let links = 0;
    while (rest.length > 0) {
      const c = rest.shift()!;
      if (c === '..') {
        cur = posix.dirname(cur === '' ? '/' : cur);
        if (cur === '/') cur = '';
        continue;
      }
      const next = `${cur}/${c}`;
      const e = this.lookup(next);
      if (!e) {
        if (this.opts.implicitDirs && rest.length > 0) {
          cur = next;
          continue;
        }
        return { ok: false, why: 'missing', path: next, links };
      }
      if (e.kind === 'symlink') {
        if (++links > MAX_LINKS) return { ok: false, why: 'loop' };
        rest = [...e.target.split('/').filter((x) => x !== '' && x !== '.'), ...rest];
        if (e.target.startsWith('/')) cur = '';
        continue;
      }
      cur = next;
    }
    return cur === '' ? { ok: true, path: '/', entry: this.lookup('/'), links } : { ok: true, path: cur, entry: this.lookup(cur), links };
  }
}
