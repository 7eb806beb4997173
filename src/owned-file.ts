// Reading a cache file only when this user wrote it. The caches of computed facts (what the
// resolver read of each ELF file, the symbol check's findings and symbols, kernels' hashes,
// whether KVM runs OSv here) decide what a plan lists and what a check says. One written by another user (`sudo` keeping
// HOME, an XDG_CACHE_HOME shared between accounts) is not taken, as git refuses a repository
// another user owns: the facts are read from the files again, and so are the permissions to read
// them (a cache written by root must not hand a user the contents of files only root can read).

import * as fs from 'node:fs';

const uid = typeof process.getuid === 'function' ? process.getuid() : undefined;

/** The bytes of `path` when it is a regular file this user owns; undefined when it is missing, another's, or unreadable. */
export function readOwnedFile(path: string): Buffer | undefined {
  let fd: number;
  try {
    fd = fs.openSync(path, 'r');
  } catch {
    return undefined;
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile() || (uid !== undefined && st.uid !== uid)) return undefined;
    const bytes = Buffer.allocUnsafe(st.size);
    let done = 0;
    while (done < st.size) {
      const n = fs.readSync(fd, bytes, done, st.size - done, done);
      if (n === 0) break;
      done += n;
    }
    return done === st.size ? bytes : bytes.subarray(0, done);
  } catch {
    return undefined;
  } finally {
    fs.closeSync(fd);
  }
}

/** readOwnedFile as JSON; undefined when it is not this user's file or not JSON. */
export function readOwnedJson(path: string): unknown {
  const bytes = readOwnedFile(path);
  if (bytes === undefined) return undefined;
  try {
    return JSON.parse(bytes.toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}
