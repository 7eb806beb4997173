// The resolver's public entry point (contract in ./types.ts).

import type { ResolveClosure } from './types.js';
import { Resolver, sharedReads } from './closure.js';
import type { ElfReadCache } from './read-cache.js';

export type * from './types.js';

/** The closure of the roots as glibc's ld.so would load it, inside options.sysroot. */
export const resolveClosure: ResolveClosure = (roots, options, fs) => new Resolver(options, fs).run(roots);

/**
 * resolveClosure for many roots over a file system that does not change meanwhile (one plan):
 * the closures share what they read of it, and keep what they read of each ELF file in `kept`
 * (none by default; the commands pass the host's, read-cache.ts).
 */
export function resolveSession(kept?: ElfReadCache): ResolveClosure {
  const reads = sharedReads(kept);
  return (roots, options, fs) => new Resolver(options, fs, reads(fs, options)).run(roots);
}
