// The dynamic relocation tables (DT_RELA/DT_REL and DT_JMPREL), found through the dynamic
// section as a loader finds them, each entry bounded by its table. `osv check` reads them to
// tell a symbol bound when the object is loaded (GLOB_DAT, R_*_64, COPY, TLS) from a function
// bound lazily through the PLT (JUMP_SLOT), which fails only if it is ever called.

import * as C from './constants.js';
import type { ElfFile } from './file.js';

// d_tag values for the relocation tables (gABI).
export const DT_PLTRELSZ = 2;
export const DT_RELA = 7;
export const DT_RELASZ = 8;
export const DT_RELAENT = 9;
export const DT_REL = 17;
export const DT_RELSZ = 18;
export const DT_RELENT = 19;
export const DT_PLTREL = 20;
export const DT_JMPREL = 23;
export const DT_BIND_NOW = 24;
/** How many RELATIVE relocations open DT_RELA / DT_REL (linkers sort them first). */
export const DT_RELACOUNT = 0x6ffffff9;
export const DT_RELCOUNT = 0x6ffffffa;
/** DT_FLAGS bit: bind every symbol at load time. */
export const DF_BIND_NOW = 0x8;

// x86-64 psABI relocation types that name a symbol.
export const R_X86_64_64 = 1;
export const R_X86_64_COPY = 5;
export const R_X86_64_GLOB_DAT = 6;
export const R_X86_64_JUMP_SLOT = 7;
export const R_X86_64_RELATIVE = 8;
export const R_X86_64_DTPMOD64 = 16;
export const R_X86_64_DTPOFF64 = 17;
export const R_X86_64_TPOFF64 = 18;
export const R_X86_64_TLSDESC = 36;
export const R_X86_64_IRELATIVE = 37;
// AArch64 ELF ABI.
export const R_AARCH64_ABS64 = 257;
export const R_AARCH64_COPY = 1024;
export const R_AARCH64_GLOB_DAT = 1025;
export const R_AARCH64_JUMP_SLOT = 1026;
export const R_AARCH64_RELATIVE = 1027;
export const R_AARCH64_TLS_DTPMOD = 1028;
export const R_AARCH64_TLS_DTPREL = 1029;
export const R_AARCH64_TLS_TPREL = 1030;
export const R_AARCH64_TLSDESC = 1031;
export const R_AARCH64_IRELATIVE = 1032;

/** One dynamic relocation entry. */
export interface DynRelocation {
  /** r_offset: the address patched. */
  offset: bigint;
  /** The relocation type (architecture-specific). */
  type: number;
  /** Index into the dynamic symbol table; 0 for none (RELATIVE, IRELATIVE). */
  symbol: number;
  /** In the DT_JMPREL table (the PLT's relocations). */
  plt: boolean;
}

/** How a relocation type binds its symbol, independent of the architecture. */
export type RelocationClass = 'plt' | 'data' | 'copy' | 'tls' | 'none';

const { EM_X86_64, EM_AARCH64 } = C;

/** Classify a relocation type of this machine (EM_X86_64 or EM_AARCH64; others: 'data'). */
export function relocationClass(machine: number, type: number): RelocationClass {
  if (machine === EM_X86_64) {
    switch (type) {
      case R_X86_64_JUMP_SLOT:
        return 'plt';
      case R_X86_64_COPY:
        return 'copy';
      case R_X86_64_DTPMOD64:
      case R_X86_64_DTPOFF64:
      case R_X86_64_TPOFF64:
      case R_X86_64_TLSDESC:
        return 'tls';
      case R_X86_64_RELATIVE:
      case R_X86_64_IRELATIVE:
      case 0:
        return 'none';
      default:
        return 'data';
    }
  }
  if (machine === EM_AARCH64) {
    switch (type) {
      case R_AARCH64_JUMP_SLOT:
        return 'plt';
      case R_AARCH64_COPY:
        return 'copy';
      case R_AARCH64_TLS_DTPMOD:
      case R_AARCH64_TLS_DTPREL:
      case R_AARCH64_TLS_TPREL:
      case R_AARCH64_TLSDESC:
        return 'tls';
      case R_AARCH64_RELATIVE:
      case R_AARCH64_IRELATIVE:
      case 0:
        return 'none';
      default:
        return 'data';
    }
  }
  return 'data';
}

interface Table {
  off: number;
  size: number;
  rela: boolean;
}

/**
 * Every relocation of DT_RELA/DT_REL and DT_JMPREL. Where the PLT table lies inside the
 * general one (some linkers make DT_RELASZ cover both), its entries are listed once, as PLT.
 * `symbolsOnly` leaves out entries without a symbol (most of a PIE's are RELATIVE).
 */
export function dynamicRelocations(f: ElfFile, opts: { symbolsOnly?: boolean } = {}): DynRelocation[] {
  const out: DynRelocation[] = [];
  const d = f.decoder;
  forEachRelocation(
    f,
    (symbol, type, plt, buf, at) => {
      if (!opts.symbolsOnly || symbol !== 0) out.push({ offset: d.word(buf, at), type, symbol, plt });
    },
    opts,
  );
  return out;
}

/**
 * The same entries, one call each, without allocating: for readers that only tally them.
 * `buf` and `at` locate the entry (r_offset is its first word). `symbolsOnly` may skip, unread,
 * the RELATIVE entries DT_RELACOUNT says open the table (a large library has tens of thousands).
 */
export function forEachRelocation(f: ElfFile, visit: (symbol: number, type: number, plt: boolean, buf: Buffer, at: number) => void, opts: { symbolsOnly?: boolean } = {}): void {
  const one = (tag: number): bigint | undefined => f.dynValues(tag)[0];
  const table = (addrTag: number, sizeTag: number, rela: boolean, what: string): Table | undefined => {
    const addr = one(addrTag);
    const size = one(sizeTag);
    if (addr === undefined || size === undefined || size === 0n) return undefined;
    const off = f.vaddrToOffset(addr, what);
    if (size > BigInt(f.size - off)) throw f.fail('elf.truncated', off, `${what} (${size} bytes) extends past end of file (${f.size} bytes)`);
    return { off, size: Number(size), rela };
  };
  let general = table(DT_RELA, DT_RELASZ, true, 'DT_RELA') ?? table(DT_REL, DT_RELSZ, false, 'DT_REL');
  const pltRela = (one(DT_PLTREL) ?? BigInt(DT_RELA)) === BigInt(DT_RELA);
  const plt = table(DT_JMPREL, DT_PLTRELSZ, pltRela, 'DT_JMPREL');
  if (general && opts.symbolsOnly) {
    const relative = Number(one(general.rela ? DT_RELACOUNT : DT_RELCOUNT) ?? 0n);
    const skip = relative * (f.decoder.is64 ? 8 : 4) * (general.rela ? 3 : 2);
    if (skip > 0 && skip <= general.size && (!plt || plt.off >= general.off + skip || plt.off + plt.size <= general.off)) {
      general = { off: general.off + skip, size: general.size - skip, rela: general.rela };
    }
  }

  if (general) {
    if (plt && plt.off >= general.off && plt.off + plt.size <= general.off + general.size) {
      read(f, { off: general.off, size: plt.off - general.off, rela: general.rela }, false, visit);
      read(f, { off: plt.off + plt.size, size: general.off + general.size - plt.off - plt.size, rela: general.rela }, false, visit);
    } else read(f, general, false, visit);
  }
  if (plt) read(f, plt, true, visit);
}

function read(f: ElfFile, t: Table, plt: boolean, visit: (symbol: number, type: number, plt: boolean, buf: Buffer, at: number) => void): void {
  if (t.size <= 0) return;
  const d = f.decoder;
  const ent = (d.is64 ? 8 : 4) * (t.rela ? 3 : 2);
  const n = Math.floor(t.size / ent);
  const buf = f.read(t.off, n * ent, plt ? 'PLT relocation table' : 'relocation table');
  // r_info read as 32-bit halves: a PIE has tens of thousands of RELATIVE entries, and
  // BigInt arithmetic on each would dominate the time.
  const hiAt = d.le ? 12 : 8;
  const loAt = d.le ? 8 : 12;
  for (let i = 0; i < n; i++) {
    const o = i * ent;
    if (d.is64) visit(d.u32(buf, o + hiAt), d.u32(buf, o + loAt), plt, buf, o);
    else {
      const info = d.u32(buf, o + 4);
      visit(info >>> 8, info & 0xff, plt, buf, o);
    }
  }
}

/** Whether the object asks for every symbol to be bound at load (DF_BIND_NOW, DF_1_NOW). */
export function bindNow(f: ElfFile): boolean {
  const flags = f.dynValues(C.DT_FLAGS)[0] ?? 0n;
  const flags1 = f.dynValues(C.DT_FLAGS_1)[0] ?? 0n;
  return f.dynValues(DT_BIND_NOW).length > 0 || (flags & BigInt(DF_BIND_NOW)) !== 0n || (flags1 & BigInt(C.DF_1_NOW)) !== 0n;
}
