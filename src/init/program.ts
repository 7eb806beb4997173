// The program `osv init` is given, as the shell would find it: a name on PATH (absolute entries
// only) or a path from the working directory; a pyenv or asdf shim followed to the program it
// would run; every symlink followed to the real file. Reads go through HostFs.

import * as path from 'node:path';
import { fileKindName, type HostFs } from '../hostfs.js';
import { lookupOnPath } from '../plan/path-lookup.js';
import { realpath } from '../plan/host-path.js';
import { followShim, type ShimContext } from './shims.js';

export interface Program {
  /** As given on the command line. */
  given: string;
  /** The file the shell would run (PATH looked up, shims followed), links not followed. */
  path: string;
  /** `path` with every symlink followed. */
  real: string;
  /** What was followed, for the user (a shim). */
  notes: string[];
}

export type Located = { ok: true; program: Program } | { ok: false; why: string };

export function locateProgram(ctx: ShimContext, given: string): Located {
  let found: string;
  if (given.includes('/')) found = path.resolve(ctx.cwd, given);
  else {
    const hit = lookupOnPath(ctx.fs, given, ctx.env['PATH'], '/');
    if (!hit.found) return { ok: false, why: `${given} is not on PATH` };
    found = hit.path;
  }
  const notes: string[] = [];
  const shim = followShim(ctx, found, path.basename(found));
  if (shim.kind === 'followed') {
    notes.push(shim.note);
    found = shim.program;
  } else if (shim.kind === 'unresolved') return { ok: false, why: shim.why };
  const real = realpath(ctx.fs, found);
  if (!real.ok) return { ok: false, why: `${found === path.resolve(ctx.cwd, given) ? given : found} ${real.reason === 'loop' ? 'is a symlink loop' : 'does not exist'}` };
  const st = ctx.fs.stat(real.path);
  if (st && st.kind !== 'file') return { ok: false, why: `${given} is ${fileKindName(st)}, not a program` };
  return { ok: true, program: { given, path: found, real: real.path, notes } };
}

/** Whether a file starts with the ELF magic. */
export function isElf(fs: HostFs, file: string): boolean {
  try {
    return fs.readRange(file, 0, 4).toString('latin1') === '\x7fELF';
  } catch {
    return false;
  }
}
