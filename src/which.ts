// The one lookup of host programs osv-up runs (QEMU, Firecracker, qemu-img, mke2fs, strace,
// setpriv, the program `osv trace` is given): the first executable regular file in PATH, and
// only in its absolute entries. A relative entry (".", "bin", an empty one) means the current
// directory, so a repository's own bin/strace would run in place of the system's.

import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, isAbsolute, join, resolve } from 'node:path';

export function isExecutableFile(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The first executable `name` in PATH's absolute entries (a name with a slash is taken as a path). */
export function which(name: string, path: string = process.env['PATH'] ?? ''): string | undefined {
  if (name.includes('/')) {
    const p = resolve(name);
    return isExecutableFile(p) ? p : undefined;
  }
  for (const dir of path.split(delimiter)) {
    if (dir === '' || !isAbsolute(dir)) continue;
    const p = join(dir, name);
    if (isExecutableFile(p)) return p;
  }
  return undefined;
}
