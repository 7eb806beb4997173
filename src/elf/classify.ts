// What kind of object a file is, from e_type, PT_INTERP and DT_FLAGS_1 alone (never by running
// it, never by asking `file`).

import * as C from './constants.js';
import type { DynamicInfo } from './dynamic.js';
import { ElfError } from './error.js';
import type { ElfFile } from './file.js';

export type ElfKind = 'pie' | 'pde' | 'shared-library' | 'static' | 'static-pie';

/**
 * - ET_EXEC: with PT_INTERP a position-dependent executable, without one static.
 * - ET_DYN with DF_1_PIE: a PIE, or static-pie without PT_INTERP.
 * - ET_DYN without DF_1_PIE (older linkers did not set it): a PIE when it has PT_INTERP and
 *   no DT_SONAME; libc.so.6 has both PT_INTERP and a soname and is a library.
 * Anything else (relocatable objects, core files) cannot be loaded: an error.
 */
export function classify(f: ElfFile, dyn: DynamicInfo): ElfKind {
  const interp = f.progs.some((p) => p.type === C.PT_INTERP);
  switch (f.header.type) {
    case C.ET_EXEC:
      return interp ? 'pde' : 'static';
    case C.ET_DYN:
      if (dyn.flags1 & C.DF_1_PIE) return interp ? 'pie' : 'static-pie';
      return interp && dyn.soname === undefined ? 'pie' : 'shared-library';
    default: {
      const what = f.header.type === C.ET_REL ? 'a relocatable object (.o), not a program or library' : f.header.type === C.ET_CORE ? 'a core dump' : `of unknown e_type ${f.header.type}`;
      throw new ElfError('elf.not-loadable', f.path, 16, `is ${what}`);
    }
  }
}

/** The label manifest_from_host.sh meant to print for each kind (it printed PDE for every PIE). */
export const kindLabel: Record<ElfKind, string> = {
  pie: '(PIE) Position Independent Executable',
  pde: 'Position Dependent Executable',
  'shared-library': 'Shared Library',
  static: 'Static Executable',
  'static-pie': 'Static PIE Executable',
};
