// The state one planning pass shares between its parts: the configuration, the host view,
// the entry table, and the findings so far.

import type { Config } from '../config/types.js';
import type { OsvError } from '../diagnostics/error.js';
import type { HostFs } from '../hostfs.js';
import type { ResolveClosure, ResolveOptions } from '../resolve/types.js';
import type { EntryTable } from './table.js';
import type { KernelProvidedLibrary, PlanEntry } from './types.js';

export interface PlanContext {
  config: Config;
  fs: HostFs;
  env: Record<string, string | undefined>;
  resolve: ResolveClosure;
  resolveOptions: ResolveOptions;
  table: EntryTable;
  errors: OsvError[];
  warnings: string[];
  kernelProvided: Map<string, KernelProvidedLibrary>;
  /** Guest paths of shipped shared libraries (for totals). */
  libraries: Set<string>;
  /** Guest paths whose library closure has been resolved (so a program is not resolved twice). */
  resolvedRoots: Set<string>;
  /**
   * Links for libraries asked for by another name than their file's soname, added after every
   * declared entry: a file declared at the same path wins, as over the skeleton.
   */
  aliases: PlanEntry[];
}
