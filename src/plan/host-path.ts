// Host paths as the planner sees them: symlinks resolved through HostFs, and absolute link
// targets inside a sysroot kept inside it (a sysroot's /lib -> /usr/lib means <sysroot>/usr/lib).

import type { HostFs } from '../hostfs.js';

export type RealPathResult =
  | { ok: true; path: string }
  /** `missing`: a component (or a link's target) does not exist; `loop`: too many links. */
  | { ok: false; reason: 'missing' | 'loop' | 'not-dir'; at: string };

const MAX_LINKS = 40; // what Linux allows (ELOOP)

/** True when `p` is `root` or below it. */
export function isUnder(root: string, p: string): boolean {
  return root === '/' || p === root || p.startsWith(root + '/');
}

export function hostJoin(dir: string, name: string): string {
  return dir === '/' ? `/${name}` : `${dir}/${name}`;
}

/**
 * The real path of `input` (every component's symlinks followed), like realpath(3), but an
 * absolute link target found below `sysroot` restarts at the sysroot rather than at `/`.
 */
export function realpath(fs: HostFs, input: string, sysroot = '/'): RealPathResult {
  const base = sysroot !== '/' && isUnder(sysroot, input) ? sysroot : '/';
  let todo = input.slice(base === '/' ? 0 : base.length).split('/').filter((n) => n !== '');
  let cur = base;
  let links = 0;
  while (todo.length > 0) {
    const name = todo.shift() as string;
    if (name === '.') continue;
    if (name === '..') {
      if (cur !== base) cur = cur.slice(0, cur.lastIndexOf('/')) || '/';
      if (base !== '/' && !isUnder(base, cur)) cur = base;
      continue;
    }
    const next = hostJoin(cur, name);
    const st = fs.lstat(next);
    if (!st) return { ok: false, reason: 'missing', at: next };
    if (st.kind === 'symlink') {
      if (++links > MAX_LINKS) return { ok: false, reason: 'loop', at: input };
      const target = fs.readlink(next);
      todo = [...target.split('/').filter((n) => n !== ''), ...todo];
      if (target.startsWith('/')) cur = base;
      continue;
    }
    if (todo.length > 0 && st.kind !== 'dir') return { ok: false, reason: 'not-dir', at: next };
    cur = next;
  }
  return { ok: true, path: cur };
}

/**
 * Where a configured absolute host path lives. With the host as sysroot it is the path
 * itself. With another sysroot, a path already below it is kept; otherwise the sysroot's copy
 * (`<sysroot>/usr/bin/x` for `/usr/bin/x`) is preferred when it exists, and the plain host
 * path (a project file such as `/home/me/app/build/server`) is the fallback, except with
 * `strict` (an image named by `from:`), where the host is never a fallback.
 */
export function locateHostPath(fs: HostFs, sysroot: string, p: string, strict = false): string {
  // A container image (strict): the configuration already put every absolute path inside it,
  // and what is outside is a project file named relative to it: never a fallback to the host.
  if (strict || sysroot === '/' || isUnder(sysroot, p)) return p;
  const inRoot = sysroot + p;
  return fs.lstat(inRoot) ? inRoot : p;
}

/** The sysroot-relative absolute form of a host path below the sysroot (`/usr/bin/ls`). */
export function sysrootRelative(sysroot: string, hostPath: string): string {
  if (sysroot === '/') return hostPath;
  return hostPath.slice(sysroot.length) || '/';
}
