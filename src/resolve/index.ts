// The resolver's public entry point (contract in ./types.ts).

import type { ResolveClosure } from './types.js';
import { Resolver } from './closure.js';

export type * from './types.js';

/** The closure of the roots as glibc's ld.so would load it, inside options.sysroot. */
export const resolveClosure: ResolveClosure = (roots, options, fs) => new Resolver(options, fs).run(roots);
