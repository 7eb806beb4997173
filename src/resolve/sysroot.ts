// Paths inside a sysroot. The resolver works with absolute paths as the guest (or the
// sysroot's own ld.so) sees them; this maps them to host paths and follows symlinks the way
// the kernel would inside a chroot: absolute targets restart at the sysroot, `..` stops at it.

import type { HostFs, HostStat } from '../hostfs.js';

/** Linux's limit on symlinks followed in one lookup (ELOOP). */
const MAX_LINKS = 40;

export class Sysroot {
  /** Real path (inside the sysroot) of each path whose parent is already real; null = absent. */
  private readonly memo = new Map<string, string | null>();
  readonly root: string;

  constructor(
    readonly fs: HostFs,
    root: string,
  ) {
    this.root = root.length > 1 ? root.replace(/\/+$/, '') : '/';
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
    return this.walk(p, 0);
  }

  /** stat of a sysroot path, following symlinks within the sysroot. */
  stat(p: string): { real: string; st: HostStat } | undefined {
    const real = this.realpath(p);
    if (real === undefined) return undefined;
    const st = this.lstat(real);
    return st ? { real, st } : undefined;
  }

  private lstat(p: string): HostStat | undefined {
    try {
      return this.fs.lstat(this.host(p));
    } catch {
      return undefined; // ENOTDIR, EACCES: absent for our purposes, as for ld.so's open()
    }
  }

  private walk(path: string, depth: number): string | undefined {
    let cur = '/';
    for (const c of path.split('/')) {
      if (c === '' || c === '.') continue;
      if (c === '..') {
        cur = cur.slice(0, cur.lastIndexOf('/')) || '/';
        continue;
      }
      const next = cur === '/' ? '/' + c : cur + '/' + c;
      let real = this.memo.get(next);
      if (real === undefined) {
        real = this.step(next, depth) ?? null;
        this.memo.set(next, real);
      }
      if (real === null) return undefined;
      cur = real;
    }
    return cur;
  }

  /** Resolve the last component of `next`, whose parent is already real. */
  private step(next: string, depth: number): string | undefined {
    const st = this.lstat(next);
    if (!st) return undefined;
    if (st.kind !== 'symlink') return next;
    if (depth >= MAX_LINKS) return undefined;
    let target: string;
    try {
      target = this.fs.readlink(this.host(next));
    } catch {
      return undefined;
    }
    const base = target.startsWith('/') ? target : next.slice(0, next.lastIndexOf('/')) + '/' + target;
    return this.walk(base, depth + 1);
  }
}
