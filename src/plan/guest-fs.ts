// The planned tree as the guest's VFS will see it: paths resolved through the plan's own
// symlinks (absolute targets from the image's root, relative ones from the link's directory,
// at most 40 links, as Linux and OSv allow). The symbol check finds objects with it; the planner
// checks with it that each run's program, when it is a link, leads to a file.

import { posix } from 'node:path';
import type { PlanEntry } from './types.js';

/** Where a path leads: to an entry (its canonical path), or nowhere, and why. */
export type Followed =
  | { ok: true; path: string; entry: PlanEntry | undefined }
  | { ok: false; why: 'missing'; path: string }
  | { ok: false; why: 'loop' };

/** Links followed before giving up (ELOOP). */
export const MAX_LINKS = 40;

export class GuestFs {
  private readonly byGuest: Map<string, PlanEntry>;
  constructor(entries: readonly PlanEntry[]) {
    this.byGuest = new Map(entries.map((e) => [e.guest, e]));
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
    for (let hops = 0; rest.length > 0; ) {
      const c = rest.shift()!;
      if (c === '..') {
        cur = posix.dirname(cur === '' ? '/' : cur);
        if (cur === '/') cur = '';
        continue;
      }
      const next = `${cur}/${c}`;
      const e = this.byGuest.get(next);
      if (!e) return { ok: false, why: 'missing', path: next };
      if (e.kind === 'symlink') {
        if (++hops > MAX_LINKS) return { ok: false, why: 'loop' };
        rest = [...e.target.split('/').filter((x) => x !== '' && x !== '.'), ...rest];
        if (e.target.startsWith('/')) cur = '';
        continue;
      }
      cur = next;
    }
    return cur === '' ? { ok: true, path: '/', entry: this.byGuest.get('/') } : { ok: true, path: cur, entry: this.byGuest.get(cur) };
  }
}
