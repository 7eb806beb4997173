// Random access to the dynamic symbol table, decoding only the entries asked for, and name
// lookups through the object's own GNU hash table (DT_GNU_HASH, as a dynamic linker looks
// symbols up). `dynamicSymbols` (./symbols.ts) decodes every entry into an object; for a check
// that asks "does this library define X?" thousands of times across objects exporting up to
// 75,000 symbols (node), decoding only what is asked is what keeps the check in milliseconds.
//
// Every table is read once as a buffer bounded by its section; every index and offset is
// checked; a malformed table fails with ElfError like the rest of the reader.

import * as C from './constants.js';
import { cString, type ElfFile, type Section } from './file.js';
import { versionDefs, versionNeeds, versionSymbols } from './symbols.js';

/** sh_type of the GNU hash table (not in ./constants.ts). */
export const SHT_GNU_HASH = 0x6ffffff6;
// Locals, not namespace reads, in per-symbol code.
const { SHT_DYNSYM, VER_NDX_LOCAL, VER_NDX_GLOBAL, VERSYM_HIDDEN, VERSYM_VERSION } = C;

/** A symbol's GNU version: `library` is set for a version needed from another file. */
export interface SymbolVersion {
  version: string;
  library?: string;
  /** The versym hidden bit (a non-default version). */
  hidden: boolean;
}

/** A name as bytes, or as a string when it is ASCII (its characters are then its bytes). */
export type SymbolName = Buffer | string;

const isAscii = (s: string): boolean => {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return false;
  return true;
};

/** An ASCII string stays a string (no Buffer to allocate per lookup); anything else becomes UTF-8 bytes. */
export const symbolName = (s: string): SymbolName => (isAscii(s) ? s : Buffer.from(s, 'utf8'));

/** The GNU hash function (dl_new_hash): h = h * 33 + c over the name's bytes, 32-bit. */
export function gnuHash(name: SymbolName): number {
  let h = 5381;
  if (typeof name === 'string') {
    if (!isAscii(name)) return gnuHash(Buffer.from(name, 'utf8'));
    for (let i = 0; i < name.length; i++) h = (Math.imul(h, 33) + name.charCodeAt(i)) >>> 0;
  } else for (let i = 0; i < name.length; i++) h = (Math.imul(h, 33) + name[i]!) >>> 0;
  return h;
}

export class DynSymTable {
  /** Number of entries, the null symbol at index 0 included. */
  readonly count: number;
  private readonly syms: Buffer;
  private readonly strs: Buffer;
  private readonly strOff: number;
  private readonly ent: number;
  private readonly le: boolean;
  private readonly is64: boolean;
  private readonly versym: Uint16Array | undefined;
  /** Version index -> [default, hidden] variants, built once (symbols share a few versions). */
  private readonly versions = new Map<number, [SymbolVersion, SymbolVersion]>();
  private readonly hash: GnuHash | undefined;

  /** undefined when the file has no .dynsym section (no section headers, or nothing dynamic). */
  static open(f: ElfFile): DynSymTable | undefined {
    const sec = f.sectionsByType(SHT_DYNSYM)[0];
    return sec ? new DynSymTable(f, sec) : undefined;
  }

  private constructor(
    private readonly f: ElfFile,
    sec: Section,
  ) {
    const d = f.decoder;
    this.is64 = d.is64;
    this.le = d.le;
    this.ent = d.is64 ? 24 : 16;
    this.syms = f.sectionData(sec);
    this.count = Math.floor(this.syms.length / this.ent);
    const str = f.linkedSection(sec);
    this.strs = f.sectionData(str);
    this.strOff = str.offset;
    this.versym = versionSymbols(f);
    if (this.versym) {
      const both = (v: { version: string; library?: string }): [SymbolVersion, SymbolVersion] => [{ ...v, hidden: false }, { ...v, hidden: true }];
      for (const n of versionNeeds(f)) for (const a of n.aux) this.versions.set(a.other, both({ version: a.name, library: n.file }));
      for (const v of versionDefs(f)) if (v.names[0] !== undefined && !this.versions.has(v.ndx)) this.versions.set(v.ndx, both({ version: v.names[0] }));
    }
    const h = f.sectionsByType(SHT_GNU_HASH).find((s) => s.link === sec.index);
    this.hash = h ? new GnuHash(f, h, this.count) : undefined;
  }

  /** Whether name lookups go through the GNU hash table (else a caller builds its own index). */
  get hashed(): boolean {
    return this.hash !== undefined;
  }

  /** First index the hash table covers; every symbol before it is unhashed (imports, locals). */
  get firstHashed(): number {
    return this.hash?.symoffset ?? this.count;
  }

  private u16(o: number): number {
    return this.le ? this.syms.readUInt16LE(o) : this.syms.readUInt16BE(o);
  }
  private u32(o: number): number {
    return this.le ? this.syms.readUInt32LE(o) : this.syms.readUInt32BE(o);
  }

  /** st_info */
  info(i: number): number {
    return this.syms[i * this.ent + (this.is64 ? 4 : 12)]!;
  }
  /** st_other */
  other(i: number): number {
    return this.syms[i * this.ent + (this.is64 ? 5 : 13)]!;
  }
  /** st_shndx */
  shndx(i: number): number {
    return this.u16(i * this.ent + (this.is64 ? 6 : 14));
  }
  private nameOffset(i: number): number {
    return this.u32(i * this.ent);
  }
  name(i: number): string {
    return cString(this.strs, this.nameOffset(i), this.f, this.strOff, `name of dynamic symbol ${i}`);
  }
  /** Whether symbol i is named exactly `name` (see symbolName), without decoding its name. */
  nameIs(i: number, name: SymbolName): boolean {
    const o = this.nameOffset(i);
    const end = o + name.length;
    const strs = this.strs;
    if (end >= strs.length || strs[end] !== 0) return false;
    if (typeof name !== 'string') return strs.compare(name, 0, name.length, o, end) === 0;
    for (let k = 0; k < name.length; k++) if (strs[o + k] !== name.charCodeAt(k)) return false;
    return true;
  }

  /** The symbol's GNU version (an object shared by its symbols: do not modify), or undefined (unversioned, local or global base version). */
  version(i: number): SymbolVersion | undefined {
    const vs = this.versym?.[i];
    if (vs === undefined) return undefined;
    const idx = vs & VERSYM_VERSION;
    if (idx === VER_NDX_LOCAL || idx === VER_NDX_GLOBAL) return undefined;
    return this.versions.get(idx)?.[(vs & VERSYM_HIDDEN) !== 0 ? 1 : 0];
  }

  /** Indexes of the hashed symbols named `name` (bytes) with GNU hash `h`; [] without a hash table. */
  find(name: SymbolName, h: number): readonly number[] {
    return this.hash ? this.hash.find(h, this, name) : [];
  }
}

const NONE: number[] = [];

/** SHT_GNU_HASH: nbuckets, symoffset, bloom_size, bloom_shift, bloom[], buckets[], chains[]. */
class GnuHash {
  readonly symoffset: number;
  private readonly nbuckets: number;
  private readonly bloomSize: number;
  private readonly bloomShift: number;
  private readonly data: Buffer;
  private readonly wordBytes: number;
  private readonly bloomAt = 16;
  private readonly bucketsAt: number;
  private readonly chainsAt: number;
  private readonly le: boolean;

  constructor(f: ElfFile, sec: Section, count: number) {
    this.data = f.sectionData(sec);
    this.le = f.decoder.le;
    this.wordBytes = f.decoder.is64 ? 8 : 4;
    if (this.data.length < 16) throw f.fail('elf.truncated', sec.offset, 'GNU hash table header extends past its section');
    this.nbuckets = this.u32(0);
    this.symoffset = this.u32(4);
    this.bloomSize = this.u32(8);
    this.bloomShift = this.u32(12);
    this.bucketsAt = this.bloomAt + this.bloomSize * this.wordBytes;
    this.chainsAt = this.bucketsAt + this.nbuckets * 4;
    // GNU ld writes a table that hashes nothing (an executable exporting no symbol) with every
    // bucket empty and no chain words, whatever symoffset says: chains are only read through a
    // bucket, so only a table with a non-empty bucket needs them.
    const chains = this.symoffset > count || this.chainsAt > this.data.length || this.bucketsEmpty() ? 0 : count - this.symoffset;
    if (this.nbuckets === 0 || this.bloomSize === 0 || this.symoffset > count || this.chainsAt + chains * 4 > this.data.length) {
      throw f.fail('elf.bad-header', sec.offset, `GNU hash table (${this.nbuckets} buckets, ${this.bloomSize} bloom words, symbols from ${this.symoffset}) does not fit its section or the ${count} dynamic symbols`);
    }
  }

  private u32(o: number): number {
    return this.le ? this.data.readUInt32LE(o) : this.data.readUInt32BE(o);
  }

  private bucketsEmpty(): boolean {
    for (let o = this.bucketsAt; o < this.chainsAt; o += 4) if (this.u32(o) !== 0) return false;
    return true;
  }

  /** Bit `n` of bloom word `w` (64- or 32-bit words). */
  private bloomBit(w: number, n: number): boolean {
    const o = this.bloomAt + w * this.wordBytes;
    if (this.wordBytes === 4) return ((this.u32(o) >>> n) & 1) === 1;
    const lo = this.u32(o + (this.le ? 0 : 4));
    const hi = this.u32(o + (this.le ? 4 : 0));
    return n < 32 ? ((lo >>> n) & 1) === 1 : ((hi >>> (n - 32)) & 1) === 1;
  }

  find(h: number, table: DynSymTable, name: SymbolName): readonly number[] {
    const bits = this.wordBytes * 8;
    const w = Math.floor(h / bits) % this.bloomSize;
    if (!this.bloomBit(w, h % bits) || !this.bloomBit(w, (h >>> this.bloomShift) % bits)) return NONE;
    let i = this.u32(this.bucketsAt + (h % this.nbuckets) * 4);
    if (i === 0 || i < this.symoffset) return NONE;
    let out: number[] = NONE;
    // The chain ends at an entry with bit 0 set; it cannot run past the chain array.
    for (let o = this.chainsAt + (i - this.symoffset) * 4; o + 4 <= this.data.length; o += 4, i++) {
      const c = this.u32(o);
      if ((c | 1) === (h | 1) && table.nameIs(i, name)) out = out === NONE ? [i] : [...out, i];
      if (c & 1) break;
    }
    return out;
  }
}
