// What one ELF object defines and needs, reduced to what the check compares: exported
// definitions by name (with their GNU versions), and every undefined, non-weak symbol with the
// strongest way the object binds it (COPY/TLS > load-time > PLT).

import * as C from '../elf/constants.js';
import type { ElfFile } from '../elf/file.js';
import { dynamicRelocations, relocationClass, type RelocationClass } from '../elf/relocations.js';
import { dynamicSymbols } from '../elf/symbols.js';
import type { BindClass, SymbolKind } from './types.js';

/** One exported definition's version: undefined = unversioned (or the base version). */
export interface DefVersion {
  version: string | undefined;
  /** A non-default version (name@V, not name@@V): binds only references to exactly V. */
  hidden: boolean;
}

/** An undefined, non-weak symbol the object needs. */
export interface Need {
  name: string;
  version?: string;
  /** The file the version is needed from. */
  from?: string;
  kind: SymbolKind;
  bind: BindClass;
}

export interface ObjectSymbols {
  /** Exported definitions by name. Most names have one version. */
  defs: Map<string, DefVersion[]>;
  needs: Need[];
}

const rank: Record<BindClass, number> = { none: 0, plt: 1, load: 2, tls: 3, copy: 4 };
const COPY_RANK = rank.copy;
// Locals, not namespace reads, in the loops below (they run for every symbol of every object).
const { SHN_UNDEF, STB_WEAK, STB_LOCAL, ST_BIND, ST_TYPE } = C;
const fromReloc: Record<RelocationClass, BindClass> = { plt: 'plt', data: 'load', copy: 'copy', tls: 'tls', none: 'none' };

function kindOf(type: number): SymbolKind {
  switch (type) {
    case C.STT_FUNC:
    case C.STT_GNU_IFUNC:
      return 'function';
    case C.STT_OBJECT:
    case 5: // STT_COMMON
      return 'data';
    case C.STT_TLS:
      return 'tls';
    default:
      return 'unknown';
  }
}

/** A definition other objects can bind to: defined, global/weak/unique, not hidden/internal. */
function exported(info: number, other: number, shndx: number): boolean {
  if (shndx === SHN_UNDEF) return false;
  const bind = C.ST_BIND(info);
  if (bind !== C.STB_GLOBAL && bind !== C.STB_WEAK && bind !== C.STB_GNU_UNIQUE) return false;
  const vis = C.ST_VISIBILITY(other);
  return vis === C.STV_DEFAULT || vis === 3; // STV_PROTECTED
}

/** Read an object's definitions and needs; throws ElfError on a malformed file. */
export function objectSymbols(f: ElfFile): ObjectSymbols {
  const syms = dynamicSymbols(f);
  const defs = new Map<string, DefVersion[]>();
  // Symbol index i of .dynsym is syms[i - 1].
  const bindOf = new Uint8Array(syms.length + 1);
  for (const s of syms) {
    if (s.shndx === SHN_UNDEF || s.name === '' || !exported(s.info, s.other, s.shndx)) continue;
    const d: DefVersion = { version: s.version, hidden: s.hidden === true };
    const list = defs.get(s.name);
    if (list) list.push(d);
    else defs.set(s.name, [d]);
  }
  const needs: Need[] = [];
  const machine = f.header.machine;
  for (const r of dynamicRelocations(f, { symbolsOnly: true })) {
    if (r.symbol > syms.length) throw f.fail('elf.bad-header', 0, `a relocation names symbol ${r.symbol}, but .dynsym has ${syms.length + 1} entries`);
    const b = fromReloc[relocationClass(machine, r.type)];
    if (rank[b] > bindOf[r.symbol]!) bindOf[r.symbol] = rank[b];
  }
  const byRank: BindClass[] = ['none', 'plt', 'load', 'tls', 'copy'];
  for (let i = 0; i < syms.length; i++) {
    const s = syms[i]!;
    if (s.name === '') continue;
    const b = bindOf[i + 1]!;
    if (s.shndx !== SHN_UNDEF) {
      // A COPY relocation's symbol is defined here (the copy in .bss), but the loader fills it
      // from another object's definition: a need all the same.
      if (b !== COPY_RANK) continue;
    } else {
      const bind = ST_BIND(s.info);
      if (bind === STB_WEAK || bind === STB_LOCAL) continue; // a weak reference may stay unbound
    }
    const need: Need = { name: s.name, kind: kindOf(ST_TYPE(s.info)), bind: byRank[b]! };
    if (s.version !== undefined) need.version = s.version;
    if (s.library !== undefined) need.from = s.library;
    needs.push(need);
  }
  return { defs, needs };
}
