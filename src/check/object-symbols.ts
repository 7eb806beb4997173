// What one ELF object defines and needs, reduced to what the check compares: its exported
// definitions, looked up by name through its own GNU hash table as a loader would (so a
// library exporting 75,000 symbols costs nothing until asked), and every undefined, non-weak
// symbol it needs with the strongest way it binds it (COPY/TLS > load-time > PLT).

import * as C from '../elf/constants.js';
import type { ElfFile } from '../elf/file.js';
import { forEachRelocation, relocationClass, type RelocationClass } from '../elf/relocations.js';
import { DynSymTable, gnuHash, symbolName, type SymbolName } from '../elf/symbol-table.js';
import type { BindClass, SymbolKind } from './types.js';

/** One exported definition's version: undefined = unversioned (or the base version). */
export interface DefVersion {
  version: string | undefined;
  /** A non-default version (name@V, not name@@V): binds only references to exactly V. */
  hidden: boolean;
}

/** A name as the lookups want it: comparable with string-table bytes, and its GNU hash. */
export interface NameKey {
  bytes: SymbolName;
  hash: number;
}

export const nameKey = (name: string): NameKey => {
  const bytes = symbolName(name);
  return { bytes, hash: gnuHash(bytes) };
};

/** Something that exports symbols: an object of the image, or the kernel. */
export interface SymbolSource {
  /** The exported definitions of `name`, or undefined when it exports none. */
  defsOf(name: string, key: NameKey): readonly DefVersion[] | undefined;
}

/** An undefined, non-weak symbol the object needs. */
export interface Need {
  name: string;
  version?: string;
  /** The file the version is needed from. */
  from?: string;
  kind: SymbolKind;
  bind: BindClass;
  /** Its NameKey, computed on its first lookup. */
  key?: NameKey;
}

export interface ObjectSymbols extends SymbolSource {
  needs: Need[];
  /** Every exported name with its definitions (an index built on first call; object-cache.ts keeps it). */
  definitions(): ReadonlyMap<string, readonly DefVersion[]>;
}

const rank: Record<BindClass, number> = { none: 0, plt: 1, load: 2, tls: 3, copy: 4 };
const byRank: BindClass[] = ['none', 'plt', 'load', 'tls', 'copy'];
const fromReloc: Record<RelocationClass, BindClass> = { plt: 'plt', data: 'load', copy: 'copy', tls: 'tls', none: 'none' };
// Locals, not namespace reads, in the per-symbol loops below.
const { SHN_UNDEF, STB_GLOBAL, STB_WEAK, STB_LOCAL, STB_GNU_UNIQUE, STV_DEFAULT, ST_BIND, ST_TYPE, ST_VISIBILITY, STT_FUNC, STT_GNU_IFUNC, STT_OBJECT, STT_TLS } = C;
const STV_PROTECTED = 3;

function kindOf(type: number): SymbolKind {
  switch (type) {
    case STT_FUNC:
    case STT_GNU_IFUNC:
      return 'function';
    case STT_OBJECT:
    case 5: // STT_COMMON
      return 'data';
    case STT_TLS:
      return 'tls';
    default:
      return 'unknown';
  }
}

/** A definition other objects can bind to: defined, global/weak/unique, not hidden/internal. */
export function exported(t: DynSymTable, i: number): boolean {
  if (t.shndx(i) === SHN_UNDEF) return false;
  const bind = ST_BIND(t.info(i));
  if (bind !== STB_GLOBAL && bind !== STB_WEAK && bind !== STB_GNU_UNIQUE) return false;
  const vis = ST_VISIBILITY(t.other(i));
  return vis === STV_DEFAULT || vis === STV_PROTECTED;
}

const UNVERSIONED_DEF: DefVersion = Object.freeze({ version: undefined, hidden: false });

export function defVersion(t: DynSymTable, i: number): DefVersion {
  return t.version(i) ?? UNVERSIONED_DEF;
}

/** Read an object's needs, and index its definitions; throws ElfError on a malformed file. */
export function objectSymbols(f: ElfFile): ObjectSymbols {
  const t = DynSymTable.open(f);
  if (!t) return { needs: [], defsOf: () => undefined, definitions: () => new Map() };

  // Strongest binding per symbol index, from the relocations that name it.
  const bindOf = new Uint8Array(t.count);
  const machine = f.header.machine;
  forEachRelocation(f, (symbol, type) => {
    if (symbol === 0) return;
    if (symbol >= t.count) throw f.fail('elf.bad-header', 0, `a relocation names symbol ${symbol}, but .dynsym has ${t.count} entries`);
    const b = rank[fromReloc[relocationClass(machine, type)]];
    if (b > bindOf[symbol]!) bindOf[symbol] = b;
  }, { symbolsOnly: true });

  const needs: Need[] = [];
  for (let i = 1; i < t.count; i++) {
    const b = bindOf[i]!;
    if (t.shndx(i) !== SHN_UNDEF) {
      // A COPY relocation's symbol is defined here (the copy in .bss), but the loader fills it
      // from another object's definition: a need all the same.
      if (byRank[b] !== 'copy') continue;
    } else {
      const bind = ST_BIND(t.info(i));
      if (bind === STB_WEAK || bind === STB_LOCAL) continue; // a weak reference may stay unbound
    }
    const name = t.name(i);
    if (name === '') continue;
    const need: Need = { name, kind: kindOf(ST_TYPE(t.info(i))), bind: byRank[b]! };
    const v = t.version(i);
    if (v) {
      need.version = v.version;
      if (v.library !== undefined) need.from = v.library;
    }
    needs.push(need);
  }

  // Every exported name once, when first asked for (a cache entry, or a table without hash).
  // With a hash table, only the symbols it covers: what a lookup through it can find.
  let index: Map<string, DefVersion[]> | undefined;
  const definitions = (): Map<string, DefVersion[]> => {
    if (!index) {
      index = new Map();
      for (let i = t.hashed ? Math.max(1, t.firstHashed) : 1; i < t.count; i++) {
        if (!exported(t, i)) continue;
        const n = t.name(i);
        const list = index.get(n);
        if (list) list.push(defVersion(t, i));
        else index.set(n, [defVersion(t, i)]);
      }
    }
    return index;
  };
  if (t.hashed) {
    return {
      needs,
      definitions,
      defsOf(_name, key) {
        const hits = t.find(key.bytes, key.hash);
        if (hits.length === 0) return undefined;
        const defs = hits.filter((i) => exported(t, i)).map((i) => defVersion(t, i));
        return defs.length > 0 ? defs : undefined;
      },
    };
  }
  // No GNU hash table (old or unusual linkers): the index answers.
  return { needs, definitions, defsOf: (name) => definitions().get(name) };
}
