// A sysroot without /etc/ld.so.cache (an unpacked image that never ran ldconfig): ld.so
// would search only its default directories, but ldconfig would have cached the directories
// /etc/ld.so.conf lists, so we search those, in order, in the cache's place.

import { posix } from 'node:path';
import type { Sysroot } from './sysroot.js';

const MAX_DEPTH = 16;

/** Directories named by ld.so.conf (with `include` globs followed), in file order, without repeats. */
export function ldSoConfDirs(sys: Sysroot, file = '/etc/ld.so.conf'): string[] {
  const dirs: string[] = [];
  const seen = new Set<string>();
  const read = (f: string, depth: number): void => {
    const hit = sys.stat(f);
    if (!hit || hit.st.kind !== 'file' || depth > MAX_DEPTH || seen.has(hit.real)) return;
    seen.add(hit.real);
    let text: string;
    try {
      text = sys.fs.readFile(sys.host(hit.real)).toString('utf8');
    } catch {
      return;
    }
    for (const raw of text.split('\n')) {
      const line = raw.replace(/#.*/, '').trim();
      if (line === '') continue;
      const inc = /^include\s+(.*)$/.exec(line);
      if (inc) {
        for (const pat of inc[1]!.split(/\s+/)) {
          const abs = pat.startsWith('/') ? pat : posix.join(posix.dirname(f), pat);
          for (const m of glob(sys, abs)) read(m, depth + 1);
        }
        continue;
      }
      // ldconfig splits a line on spaces, tabs, commas and colons; "dir=type" is an old form.
      // Only absolute words are directories: an "hwcap N NAME" line names none.
      for (const d of line.split(/[\s,:]+/)) {
        const dir = d.replace(/=.*/, '').replace(/\/+$/, '') || '/';
        if (dir.startsWith('/') && !dirs.includes(dir)) dirs.push(dir);
      }
    }
  };
  read(file, 0);
  return dirs;
}

/** Matches of a pattern whose wildcards (* ?) are in the last component, sorted. */
function glob(sys: Sysroot, pattern: string): string[] {
  const dir = posix.dirname(pattern);
  const base = posix.basename(pattern);
  if (!/[*?[]/.test(base)) return [pattern];
  const re = new RegExp('^' + base.replace(/[.+^${}()|\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]') + '$');
  const real = sys.realpath(dir);
  if (real === undefined) return [];
  try {
    return sys.fs
      .readdir(sys.host(real))
      .filter((n) => re.test(n))
      .map((n) => posix.join(dir, n));
  } catch {
    return [];
  }
}
