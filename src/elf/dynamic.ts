// What the dynamic linker reads from an object's dynamic section, decoded once.

import * as C from './constants.js';
import type { ElfFile } from './file.js';

export interface DynamicInfo {
  /** DT_NEEDED, in order. */
  needed: string[];
  /** DT_SONAME (the last one, as glibc keeps the last entry of single-valued tags). */
  soname: string | undefined;
  /** DT_RPATH string (colon-separated, unexpanded), the last one. */
  rpath: string | undefined;
  /** DT_RUNPATH string (colon-separated, unexpanded), the last one. */
  runpath: string | undefined;
  /** DT_FLAGS (0 when absent). */
  flags: number;
  /** DT_FLAGS_1 (0 when absent). */
  flags1: number;
  /** Whether the file has a PT_DYNAMIC segment at all. */
  dynamic: boolean;
}

const last = <T>(xs: T[]): T | undefined => xs[xs.length - 1];

export function dynamicInfo(f: ElfFile): DynamicInfo {
  const entries = f.dynamic();
  const num = (tag: number): number => Number(BigInt.asUintN(32, last(f.dynValues(tag)) ?? 0n));
  return {
    needed: f.dynStrings(C.DT_NEEDED),
    soname: last(f.dynStrings(C.DT_SONAME)),
    rpath: last(f.dynStrings(C.DT_RPATH)),
    runpath: last(f.dynStrings(C.DT_RUNPATH)),
    flags: num(C.DT_FLAGS),
    flags1: num(C.DT_FLAGS_1),
    dynamic: entries.length > 0 || f.progs.some((p) => p.type === C.PT_DYNAMIC),
  };
}
