// The resolver's contract with the planner. The resolver reads ELF files (never runs them)
// and follows glibc ld.so's search rules inside a sysroot. Owned by src/resolve/.

import type { Arch } from '../config/types.js';
import type { ElfKind } from '../elf/classify.js';

/** Which rule found a library (the order ld.so tries them). */
export type SearchRule =
  | 'path' // DT_NEEDED contained a slash, or the caller gave a path
  | 'rpath' // DT_RPATH of the object or one of its loaders
  | 'library-path' // configured libraryPath (our LD_LIBRARY_PATH)
  | 'runpath' // the object's own DT_RUNPATH
  | 'ld.so.cache' // /etc/ld.so.cache of the sysroot
  | 'default' // the architecture's default directories
  | 'kernel'; // provided by the OSv kernel and absent from the sysroot (not searched further)

export type { ElfKind } from '../elf/classify.js';

export interface ResolveOptions {
  arch: Arch;
  /** Absolute host directory; "/" for the host itself. */
  sysroot: string;
  /** Directories inside the sysroot, searched like LD_LIBRARY_PATH. */
  libraryPath: string[];
  /** The kernel hides libstdc++: ship it instead of treating it as provided. */
  hiddenSymbols: boolean;
  /** Sonames whose absence is not an error. */
  optional?: string[];
  /**
   * Treat the OSv kernel's libraries as provided (default true). false gives the plain
   * Linux closure, as `ldd` sees it: every library followed, nothing provided.
   */
  osvFilter?: boolean;
}

/** A candidate ld.so opened and passed over (wrong ELF class or machine). */
export interface SkippedCandidate {
  path: string;
  reason: string;
}

/** One object of the closure (a root or a library). */
export interface ResolvedObject {
  /** DT_SONAME, or the file name when there is none (roots). */
  soname: string;
  /**
   * The path inside the sysroot as found (may be a symlink, e.g. /lib/x86_64-linux-gnu/libz.so.1);
   * for an absent kernel-provided library the name it was asked for.
   */
  path: string;
  /**
   * The real host file after following symlinks within the sysroot (absolute host path).
   * Empty ('') only for a kernel-provided library that the sysroot does not have (`rule`
   * is then 'kernel'): it is listed for explanations and never read.
   */
  hostPath: string;
  kind: ElfKind;
  /** true for the roots the caller asked for. */
  root: boolean;
  /** How it was found (roots: 'path'). */
  rule: SearchRule;
  /** Sonames of the objects that first needed it, as a chain back to a root: [root, ..., parent]. */
  chain: string[];
  /** Every candidate path tried before the hit, in order. */
  tried: string[];
  /** DT_NEEDED entries, in order. */
  needed: string[];
  /** Provided by the OSv kernel: not shipped (listed for explanations). */
  providedByKernel: boolean;
  /** Every name it was asked for by (DT_NEEDED entries, a soname root), first one first. */
  requestedAs?: string[];
  /** Candidates passed over before the hit (wrong class or machine). */
  skipped?: SkippedCandidate[];
  /** PT_INTERP, for programs. */
  interpreter?: string;
  /** DT_RPATH / DT_RUNPATH as written (unexpanded). */
  rpath?: string;
  runpath?: string;
}

export interface MissingLibrary {
  soname: string;
  /** The chain of sonames back to the root that needed it. */
  chain: string[];
  tried: string[];
  optional: boolean;
  skipped?: SkippedCandidate[];
}

export interface Closure {
  /**
   * Every object in ld.so's order: the roots given by path, their libraries breadth-first and
   * the interpreter (what loads at start-up), then each soname root (dlopen) not loaded yet and
   * its libraries.
   */
  objects: ResolvedObject[];
  missing: MissingLibrary[];
}

/** What to resolve: an ELF file by path (inside the sysroot), or a library by soname as dlopen would. */
export type ResolveRoot = { path: string } | { soname: string; optional?: boolean };

/**
 * The resolver's entry point, exported as `resolveClosure` from src/resolve/index.ts:
 * the closure of the roots, breadth-first, each library once. Fatal problems (unreadable or
 * hostile ELF, static executable, wrong architecture, two files claiming one soname) are an
 * error value; missing libraries are listed in `Closure.missing` for the caller to judge.
 */
export type ResolveClosure = (
  roots: ResolveRoot[],
  options: ResolveOptions,
  fs: import('../hostfs.js').HostFs,
) => import('../diagnostics/result.js').Result<Closure, import('../diagnostics/error.js').OsvError>;
