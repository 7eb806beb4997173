// Paths inside a sysroot. The resolver works with absolute paths as the guest (or the
// sysroot's own ld.so) sees them; this maps them to host paths and follows symlinks the way
// the kernel would inside a chroot: absolute targets restart at the sysroot, `..` stops at it.

import { fileKindName, LINK_TO_NOTHING, type HostFs, type HostStat } from '../hostfs.js';

/** Linux's limit on symlinks followed in one lookup (ELOOP). */
const MAX_LINKS = 40;

interface Hit {
  real: string;
  st: HostStat;
}

/**
 * Why `root` cannot be a sysroot ("is a regular file", "does not exist"), or undefined when it is
 * a directory. Only stat'ed, never opened: a FIFO would block.
 */
export function sysrootNotDirectory(fs: HostFs, root: string): string | undefined {
  const st = fs.stat(root);
  if (st?.kind === 'dir') return undefined;
  if (st) return `is ${fileKindName(st)}`;
  let link: HostStat | undefined;
  try {
    link = fs.lstat(root);
  } catch {
    link = undefined; // ENOTDIR, ELOOP on the way: it is not there
  }
  if (link?.kind === 'symlink') return `is ${LINK_TO_NOTHING}`;
  return link ? `is ${fileKindName(link)}` : 'does not exist';
}

export class Sysroot {
  /** Each path whose parent is already real: its real path and lstat; null = absent. */
  private readonly memo = new Map<string, Hit | null>();
  readonly root: string;

  constructor(
    readonly fs: HostFs,
    root: string,
  ) {
    this.root = root.replace(/\/+$/, '') || '/';
  }

  /** The host path of a sysroot path (lexical). */
  host(p: string): string {
    return this.root === '/' ? p : this.root + (p.startsWith('/') ? p : '/' + p);
  }

  /** The sysroot path of a host path inside the sysroot, or undefined when it is outside. */
  inside(hostPath: string): string | undefined {
    if (this.root === '/') return hostPath;
    if (hostPath === this.root) return '/';
    return hostPath.startsWith(this.root + '/') ? hostPath.slice(this.root.length) : undefined;
  }

  /** The canonical path inside the sysroot after following every symlink; undefined if it does not exist. */
  realpath(p: string): string | undefined {
    return this.stat(p)?.real;
  }

  /** The real path and lstat of the file a sysroot path leads to, following symlinks within the sysroot. */
  stat(p: string): Hit | undefined {
    return this.walk(p, 0) ?? undefined;
  }

  private lstat(p: string): HostStat | undefined {
    try {
      return this.fs.lstat(this.host(p));
    } catch {
      return undefined; // ENOTDIR, EACCES: absent for our purposes, as for ld.so's open()
    }
  }

  private walk(path: string, depth: number): Hit | null {
    let cur: Hit | null = this.rootHit();
    for (const c of path.split('/')) {
      if (cur === null) return null;
      if (c === '' || c === '.') continue;
      if (c === '..') {
        // The parent of a real path; from the top ('' walks to '/'), the top itself.
        cur = this.walk(cur.real.slice(0, cur.real.lastIndexOf('/')), depth);
        continue;
      }
      if (cur.st.kind !== 'dir') return null; // ENOTDIR
      const next = cur.real === '/' ? '/' + c : cur.real + '/' + c;
      let hit = this.memo.get(next);
      if (hit === undefined) {
        hit = this.step(next, depth);
        this.memo.set(next, hit);
      }
      cur = hit;
    }
    return cur;
  }

  private rootHit(): Hit | null {
    let hit = this.memo.get('/');
    if (hit === undefined) {
      // The sysroot itself may be reached through a symlink; inside it, links are ours to follow.
      let st: HostStat | undefined;
      try {
        st = this.fs.stat(this.root);
      } catch {
        st = undefined;
      }
      hit = st?.kind === 'dir' ? { real: '/', st } : null;
      this.memo.set('/', hit);
    }
    return hit;
  }

  /** Resolve the last component of `next`, whose parent is already real. */
  private step(next: string, depth: number): Hit | null {
    const st = this.lstat(next);
    if (!st) return null;
    if (st.kind !== 'symlink') return { real: next, st };
    if (depth >= MAX_LINKS) return null;
    let target: string;
    try {
      target = this.fs.readlink(this.host(next));
    } catch {
      return null;
    }
    const base = target.startsWith('/') ? target : next.slice(0, next.lastIndexOf('/')) + '/' + target;
    return this.walk(base, depth + 1);
  }
}
