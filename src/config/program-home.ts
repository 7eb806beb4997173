// `${home:PROG}`: the installation a program on PATH belongs to, the way a user finds it by
// hand (`dirname $(dirname $(readlink -f $(which java)))`): the first PROG on PATH, its links
// followed to the real file, and the directory above the bin/ that holds it. It is how
// template:java finds the JVM the user has when JAVA_HOME is unset (Debian's openjdk-17
// packages without default-jre make no default-java link). Reads go through HostFs, so a
// no-op build notices when the link moves.

import * as path from 'node:path';
import type { HostFs } from '../hostfs.js';

export type ProgramHome = { ok: true; home: string; program: string } | { ok: false; why: string };

const MAX_LINKS = 40;

/** The file a path names once every symlink of its final component is followed. */
function followLinks(fs: HostFs, p: string): string | undefined {
  let cur = p;
  for (let i = 0; i < MAX_LINKS; i++) {
    const st = fs.lstat(cur);
    if (!st) return undefined;
    if (st.kind !== 'symlink') return cur;
    cur = path.resolve(path.dirname(cur), fs.readlink(cur));
  }
  return undefined;
}

export function programHome(fs: HostFs, env: Record<string, string | undefined>, name: string): ProgramHome {
  if (name === '' || name.includes('/')) return { ok: false, why: `"${name}" is not a program name` };
  // Relative PATH entries are skipped: the answer must not depend on where osv is started.
  const dirs = (env['PATH'] ?? '').split(':').filter((d) => path.isAbsolute(d));
  for (const dir of dirs) {
    const candidate = path.join(dir, name);
    const st = fs.stat(candidate);
    if (!st || st.kind !== 'file' || (st.mode & 0o111) === 0) continue;
    const real = followLinks(fs, candidate);
    if (!real) return { ok: false, why: `${candidate} is a symlink that does not lead to a file` };
    const bin = path.dirname(real);
    if (path.basename(bin) !== 'bin') return { ok: false, why: `${candidate} is ${real}, which is not in a bin/ directory` };
    return { ok: true, home: path.dirname(bin), program: real };
  }
  return { ok: false, why: `no ${name} on PATH` };
}
