// Finding a program named without a slash, as a shell would: the first executable regular
// file in the host's PATH, looked up inside the sysroot.

import type { HostFs } from '../hostfs.js';
import { hostJoin } from './host-path.js';

export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export type PathLookup = { found: true; path: string; tried: string[] } | { found: false; tried: string[] };

export function lookupOnPath(fs: HostFs, name: string, pathVar: string | undefined, sysroot: string): PathLookup {
  const tried: string[] = [];
  for (const dir of (pathVar ?? DEFAULT_PATH).split(':')) {
    if (!dir.startsWith('/')) continue; // relative PATH entries depend on the cwd: not reproducible
    const candidate = sysroot === '/' ? hostJoin(dir, name) : sysroot + hostJoin(dir, name);
    tried.push(candidate);
    const st = fs.stat(candidate);
    if (st?.kind === 'file' && (st.mode & 0o111) !== 0) return { found: true, path: candidate, tried };
  }
  return { found: false, tried };
}
