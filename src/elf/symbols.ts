// The dynamic symbol table and GNU symbol versioning (.dynsym, .gnu.version,
// .gnu.version_r, .gnu.version_d), read from the section headers with every count bounded by
// its section. What `osv check` builds symbol checking on.

import * as C from './constants.js';
import { cString, type ElfFile, type Section } from './file.js';

/** One Elf*_Sym, with its GNU version when the file has versioning. */
export interface ElfSymbol {
  name: string;
  info: number;
  other: number;
  /** st_shndx: SHN_UNDEF for an import. */
  shndx: number;
  value: bigint;
  size: bigint;
  /** The version name (e.g. "GLIBC_2.34"), for versioned symbols. */
  version?: string;
  /** For an import, the file the version is needed from (e.g. "libc.so.6"). */
  library?: string;
  /** The versym hidden bit: a non-default version, not used to bind unversioned references. */
  hidden?: boolean;
}

/** One Elf*_Verneed with its Elf*_Vernaux list: versions needed from one file. */
export interface VerNeed {
  version: number;
  file: string;
  aux: VernAux[];
}
export interface VernAux {
  hash: number;
  flags: number;
  /** The version index symbols refer to from .gnu.version. */
  other: number;
  name: string;
}

/** One Elf*_Verdef: a version this file defines; names[0] is its name, the rest its parents. */
export interface VerDef {
  version: number;
  flags: number;
  ndx: number;
  hash: number;
  names: string[];
}

const one = (f: ElfFile, type: number): Section | undefined => f.sectionsByType(type)[0];

/** The section's bytes and its linked string table's bytes. */
function withStrings(f: ElfFile, s: Section): { data: Buffer; strs: Buffer; strOff: number } {
  const str = f.linkedSection(s);
  return { data: f.sectionData(s), strs: f.sectionData(str), strOff: str.offset };
}

/**
 * The symbols of SHT_DYNSYM, without the null symbol at index 0 (so entry i here is symbol
 * i+1, as in Go's DynamicSymbols), with versions attached when the file is versioned.
 */
export function dynamicSymbols(f: ElfFile): ElfSymbol[] {
  const sec = one(f, C.SHT_DYNSYM);
  if (!sec) return [];
  const d = f.decoder;
  const ent = d.is64 ? 24 : 16;
  const { data, strs, strOff } = withStrings(f, sec);
  const n = Math.floor(data.length / ent);
  const versym = versionSymbols(f);
  const needs = versym ? versionNeeds(f) : [];
  const defs = versym ? versionDefs(f) : [];
  const out: ElfSymbol[] = [];
  for (let i = 1; i < n; i++) {
    const o = i * ent;
    const sym: ElfSymbol = d.is64
      ? { name: '', info: data[o + 4]!, other: data[o + 5]!, shndx: d.u16(data, o + 6), value: d.u64(data, o + 8), size: d.u64(data, o + 16) }
      : { name: '', value: BigInt(d.u32(data, o + 4)), size: BigInt(d.u32(data, o + 8)), info: data[o + 12]!, other: data[o + 13]!, shndx: d.u16(data, o + 14) };
    sym.name = cString(strs, d.u32(data, o), f, strOff, `name of dynamic symbol ${i}`);
    const vs = versym?.[i];
    if (vs !== undefined) attachVersion(sym, vs, needs, defs);
    out.push(sym);
  }
  return out;
}

function attachVersion(sym: ElfSymbol, vs: number, needs: VerNeed[], defs: VerDef[]): void {
  const idx = vs & C.VERSYM_VERSION;
  if (idx === C.VER_NDX_LOCAL || idx === C.VER_NDX_GLOBAL) return;
  if (vs & C.VERSYM_HIDDEN) sym.hidden = true;
  for (const n of needs) {
    const a = n.aux.find((x) => x.other === idx);
    if (a) {
      sym.version = a.name;
      sym.library = n.file;
      return;
    }
  }
  const def = defs.find((x) => x.ndx === idx);
  if (def?.names[0] !== undefined) sym.version = def.names[0];
}

/** SHT_GNU_versym: one version index per dynamic symbol (index 0 included). */
export function versionSymbols(f: ElfFile): Uint16Array | undefined {
  const sec = one(f, C.SHT_GNU_versym);
  if (!sec) return undefined;
  const data = f.sectionData(sec);
  const out = new Uint16Array(Math.floor(data.length / 2));
  for (let i = 0; i < out.length; i++) out[i] = f.decoder.u16(data, i * 2);
  return out;
}

/**
 * Walk a chain of records linked by relative "next" offsets inside one section, refusing to
 * leave the section or to take more steps than records could fit (a loop in a hostile file).
 */
function* chain(f: ElfFile, sec: Section, data: Buffer, start: number, size: number, nextAt: number, what: string): Generator<number> {
  const maxSteps = Math.floor(data.length / size) + 1;
  let off = start;
  for (let step = 0; ; step++) {
    if (step >= maxSteps) throw f.fail('elf.bad-header', sec.offset + off, `${what} chain loops or is longer than its section`);
    if (off < 0 || off + size > data.length) throw f.fail('elf.truncated', sec.offset + off, `${what} entry extends past the end of its section`);
    yield off;
    const next = f.decoder.u32(data, off + nextAt);
    if (next === 0) return;
    off += next;
  }
}

/** SHT_GNU_verneed: the versions this file needs, per file. */
export function versionNeeds(f: ElfFile): VerNeed[] {
  const sec = one(f, C.SHT_GNU_verneed);
  if (!sec || sec.size === 0) return [];
  const { data, strs, strOff } = withStrings(f, sec);
  const d = f.decoder;
  const out: VerNeed[] = [];
  for (const o of chain(f, sec, data, 0, 16, 12, 'Verneed')) {
    const need: VerNeed = { version: d.u16(data, o), file: cString(strs, d.u32(data, o + 4), f, strOff, 'Verneed file'), aux: [] };
    if (d.u16(data, o + 2) > 0) {
      for (const a of chain(f, sec, data, o + d.u32(data, o + 8), 16, 12, 'Vernaux')) {
        need.aux.push({ hash: d.u32(data, a), flags: d.u16(data, a + 4), other: d.u16(data, a + 6), name: cString(strs, d.u32(data, a + 8), f, strOff, 'Vernaux name') });
      }
    }
    out.push(need);
  }
  return out;
}

/** SHT_GNU_verdef: the versions this file defines. */
export function versionDefs(f: ElfFile): VerDef[] {
  const sec = one(f, C.SHT_GNU_verdef);
  if (!sec || sec.size === 0) return [];
  const { data, strs, strOff } = withStrings(f, sec);
  const d = f.decoder;
  const out: VerDef[] = [];
  for (const o of chain(f, sec, data, 0, 20, 16, 'Verdef')) {
    const def: VerDef = { version: d.u16(data, o), flags: d.u16(data, o + 2), ndx: d.u16(data, o + 4), hash: d.u32(data, o + 8), names: [] };
    if (d.u16(data, o + 6) > 0) {
      for (const a of chain(f, sec, data, o + d.u32(data, o + 12), 8, 4, 'Verdaux')) def.names.push(cString(strs, d.u32(data, a), f, strOff, 'Verdaux name'));
    }
    out.push(def);
  }
  return out;
}
