// A bounded ELF reader in the style of Go's debug/elf: plain structures named as the gABI
// names them. It reads through a HostFile handle only the bytes it needs (the first page,
// then the tables asked for), checks every offset and size against the file, caps every
// count and length, and fails only with an ElfError naming the file and the byte offset.

import type { HostFile, HostFs } from '../hostfs.js';
import * as C from './constants.js';
import { ElfError, type ElfErrorCode } from './error.js';

/** The ELF file header (Elf32_Ehdr / Elf64_Ehdr), with e_ident unpacked. */
export interface FileHeader {
  class: number; // ELFCLASS32 | ELFCLASS64
  data: number; // ELFDATA2LSB | ELFDATA2MSB
  version: number;
  osabi: number;
  abiVersion: number;
  type: number; // e_type
  machine: number; // e_machine
  entry: bigint;
  phoff: number;
  shoff: number;
  flags: number;
  ehsize: number;
  phentsize: number;
  /** Real count (PN_XNUM resolved through section 0). */
  phnum: number;
  shentsize: number;
  /** Real count (0-with-shoff resolved through section 0). */
  shnum: number;
  /** Real index (SHN_XINDEX resolved through section 0). */
  shstrndx: number;
}

/** A program header (Elf*_Phdr). */
export interface Prog {
  type: number;
  flags: number;
  off: number;
  vaddr: bigint;
  paddr: bigint;
  filesz: number;
  memsz: bigint;
  align: bigint;
}

/** A section header (Elf*_Shdr) with its name resolved. */
export interface Section {
  index: number;
  name: string;
  type: number;
  flags: bigint;
  addr: bigint;
  offset: number;
  /** For SHT_NOBITS this is memory size, not file bytes. */
  size: number;
  link: number;
  info: number;
  addralign: bigint;
  entsize: number;
}

/** One entry of the dynamic section (Elf*_Dyn). */
export interface DynEntry {
  tag: number;
  value: bigint;
}

/** Caps that keep a hostile file from costing unbounded memory or time. */
export const LIMITS = {
  /** Largest single table read (program/section headers, dynamic, symbols, strings). */
  maxTableBytes: 64 * 1024 * 1024,
  /** Longest string read from the dynamic string table (paths, sonames, rpaths). */
  maxDynString: 64 * 1024,
  /** Most section headers accepted. */
  maxSections: 1 << 20,
} as const;

/** The first read: the ELF header and, for most files, all program headers. */
const HEAD_BYTES = 1024;
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** Reads integers of one class and byte order from a buffer. */
export class Decoder {
  constructor(
    readonly le: boolean,
    readonly is64: boolean,
  ) {}
  u8 = (b: Buffer, o: number): number => b.readUInt8(o);
  u16 = (b: Buffer, o: number): number => (this.le ? b.readUInt16LE(o) : b.readUInt16BE(o));
  u32 = (b: Buffer, o: number): number => (this.le ? b.readUInt32LE(o) : b.readUInt32BE(o));
  i32 = (b: Buffer, o: number): number => (this.le ? b.readInt32LE(o) : b.readInt32BE(o));
  u64 = (b: Buffer, o: number): bigint => (this.le ? b.readBigUInt64LE(o) : b.readBigUInt64BE(o));
  i64 = (b: Buffer, o: number): bigint => (this.le ? b.readBigInt64LE(o) : b.readBigInt64BE(o));
  /** A class-sized unsigned word (Elf32_Addr/Off/Word or Elf64_Addr/Off/Xword). */
  word = (b: Buffer, o: number): bigint => (this.is64 ? this.u64(b, o) : BigInt(this.u32(b, o)));
}

export class ElfFile {
  readonly path: string;
  readonly size: number;
  readonly header: FileHeader;
  private progCache: Prog[] | undefined;
  private readonly handle: HostFile;
  private readonly ownsHandle: boolean;
  private readonly d: Decoder;
  private readonly head: Buffer;
  private sectionCache: Section[] | undefined;
  private dynCache: DynEntry[] | undefined;
  private dynStrCache: StringTable | undefined | null;

  /** Open and parse the header and program headers of a file; throws only ElfError. */
  static open(fs: HostFs, path: string): ElfFile {
    let handle: HostFile;
    try {
      handle = fs.open(path);
    } catch (e) {
      throw new ElfError('elf.io', path, 0, `cannot open: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
    }
    try {
      return new ElfFile(handle, true);
    } catch (e) {
      handle.close();
      throw e;
    }
  }

  /** Parse from an open handle the caller keeps ownership of. */
  static fromHandle(handle: HostFile): ElfFile {
    return new ElfFile(handle, false);
  }

  private constructor(handle: HostFile, owns: boolean) {
    this.handle = handle;
    this.ownsHandle = owns;
    this.path = handle.path;
    this.size = handle.size;
    this.head = this.rawRead(0, Math.min(HEAD_BYTES, this.size));
    const h = this.head;
    if (h.length < 4 || !h.subarray(0, 4).equals(C.ELFMAG)) {
      throw this.fail('elf.bad-magic', 0, `not an ELF file (starts with ${h.subarray(0, 4).toString('hex') || 'nothing'})`);
    }
    if (h.length < C.EI_NIDENT) throw this.fail('elf.truncated', 0, `file too short for e_ident (${h.length} bytes)`);
    const cls = h[4]!;
    const data = h[5]!;
    if (cls !== C.ELFCLASS32 && cls !== C.ELFCLASS64) throw this.fail('elf.bad-ident', 4, `unknown ELF class ${cls}`);
    if (data !== C.ELFDATA2LSB && data !== C.ELFDATA2MSB) throw this.fail('elf.bad-ident', 5, `unknown data encoding ${data}`);
    if (h[6] !== C.EV_CURRENT) throw this.fail('elf.bad-ident', 6, `unknown ELF version ${h[6]}`);
    const is64 = cls === C.ELFCLASS64;
    this.d = new Decoder(data === C.ELFDATA2LSB, is64);
    const ehsize = is64 ? 64 : 52;
    const b = this.read(0, ehsize, 'the ELF header');
    const d = this.d;
    const w = is64 ? 8 : 4;
    const o = 24 + 3 * w; // offset of e_flags
    this.header = {
      class: cls,
      data,
      version: h[6]!,
      osabi: h[7]!,
      abiVersion: h[8]!,
      type: d.u16(b, 16),
      machine: d.u16(b, 18),
      entry: d.word(b, 24),
      phoff: this.offset(d.word(b, 24 + w), 24 + w, 'e_phoff'),
      shoff: this.offset(d.word(b, 24 + 2 * w), 24 + 2 * w, 'e_shoff'),
      flags: d.u32(b, o),
      ehsize: d.u16(b, o + 4),
      phentsize: d.u16(b, o + 6),
      phnum: d.u16(b, o + 8),
      shentsize: d.u16(b, o + 10),
      shnum: d.u16(b, o + 12),
      shstrndx: d.u16(b, o + 14),
    };
    this.resolveExtendedCounts();
  }

  /** The program headers, read on first use (so a caller can reject a wrong machine first). */
  get progs(): Prog[] {
    this.progCache ??= this.readProgs();
    return this.progCache;
  }

  close(): void {
    if (this.ownsHandle) this.handle.close();
  }

  /** Section 0 holds the real counts when they do not fit the header (gABI "extended numbering"). */
  private resolveExtendedCounts(): void {
    const hd = this.header;
    const needSection0 = hd.phnum === C.PN_XNUM || (hd.shnum === 0 && hd.shoff !== 0) || hd.shstrndx === C.SHN_XINDEX;
    if (!needSection0 || hd.shoff === 0) return;
    this.checkEntSize(hd.shentsize, this.d.is64 ? 64 : 40, 'e_shentsize', this.d.is64 ? 58 : 46);
    const s0 = this.read(hd.shoff, hd.shentsize, 'section header 0');
    const w = this.d.is64 ? 8 : 4;
    // sh_size, sh_link, sh_info of section 0
    const sizeOff = 8 + 2 * w + w;
    const size = this.d.word(s0, sizeOff);
    const link = this.d.u32(s0, sizeOff + w);
    const info = this.d.u32(s0, sizeOff + w + 4);
    if (hd.phnum === C.PN_XNUM) hd.phnum = info;
    if (hd.shnum === 0) {
      if (size > BigInt(LIMITS.maxSections)) throw this.fail('elf.too-large', hd.shoff, `${size} section headers`);
      hd.shnum = Number(size);
    }
    if (hd.shstrndx === C.SHN_XINDEX) hd.shstrndx = link;
  }

  private checkEntSize(size: number, min: number, field: string, at: number): void {
    if (size < min) throw this.fail('elf.bad-header', at, `${field} is ${size}, expected at least ${min}`);
  }

  /** A header table of `count` entries of `entsize` (at least `min`) bytes. */
  private table(off: number, count: number, entsize: number, min: number, field: string, fieldAt: number, what: string): Buffer {
    this.checkEntSize(entsize, min, field, fieldAt);
    return this.read(off, this.tableBytes(count, entsize, off, what), what);
  }

  private readProgs(): Prog[] {
    const hd = this.header;
    if (hd.phnum === 0) return [];
    const is64 = this.d.is64;
    const buf = this.table(hd.phoff, hd.phnum, hd.phentsize, is64 ? 56 : 32, 'e_phentsize', is64 ? 54 : 42, 'program header table');
    const d = this.d;
    const progs: Prog[] = [];
    for (let i = 0; i < hd.phnum; i++) {
      const o = i * hd.phentsize;
      const at = hd.phoff + o;
      if (is64) {
        progs.push({
          type: d.u32(buf, o),
          flags: d.u32(buf, o + 4),
          off: this.offset(d.u64(buf, o + 8), at + 8, 'p_offset'),
          vaddr: d.u64(buf, o + 16),
          paddr: d.u64(buf, o + 24),
          filesz: this.offset(d.u64(buf, o + 32), at + 32, 'p_filesz'),
          memsz: d.u64(buf, o + 40),
          align: d.u64(buf, o + 48),
        });
      } else {
        progs.push({
          type: d.u32(buf, o),
          off: d.u32(buf, o + 4),
          vaddr: BigInt(d.u32(buf, o + 8)),
          paddr: BigInt(d.u32(buf, o + 12)),
          filesz: d.u32(buf, o + 16),
          memsz: BigInt(d.u32(buf, o + 20)),
          flags: d.u32(buf, o + 24),
          align: BigInt(d.u32(buf, o + 28)),
        });
      }
    }
    return progs;
  }

  /** The PT_INTERP path, if any. */
  interpreter(): string | undefined {
    const p = this.progs.find((x) => x.type === C.PT_INTERP);
    if (!p) return undefined;
    const len = Math.min(p.filesz, LIMITS.maxDynString);
    const buf = this.read(p.off, len, 'PT_INTERP');
    const nul = buf.indexOf(0);
    if (nul < 0) throw this.fail('elf.bad-string', p.off, 'PT_INTERP is not NUL-terminated');
    return buf.toString('utf8', 0, nul);
  }

  /** Map a virtual address to a file offset through the PT_LOAD segments (as the loader maps them). */
  vaddrToOffset(addr: bigint, what: string): number {
    for (const p of this.progs) {
      if (p.type !== C.PT_LOAD) continue;
      if (addr >= p.vaddr && addr < p.vaddr + BigInt(p.filesz)) return p.off + Number(addr - p.vaddr);
    }
    throw this.fail('elf.bad-address', 0, `${what} address 0x${addr.toString(16)} is not in any PT_LOAD segment`);
  }

  /** The dynamic section through PT_DYNAMIC, up to DT_NULL; empty when there is none. */
  dynamic(): DynEntry[] {
    if (this.dynCache) return this.dynCache;
    const p = this.progs.find((x) => x.type === C.PT_DYNAMIC);
    const out: DynEntry[] = [];
    if (p) {
      const ent = this.d.is64 ? 16 : 8;
      const n = Math.floor(p.filesz / ent);
      const buf = this.read(p.off, this.tableBytes(n, ent, p.off, 'dynamic section'), 'dynamic section');
      const d = this.d;
      for (let i = 0; i < n; i++) {
        const o = i * ent;
        const tag = this.d.is64 ? Number(d.i64(buf, o)) : d.i32(buf, o);
        if (tag === C.DT_NULL) break;
        out.push({ tag, value: d.word(buf, o + ent / 2) });
      }
    }
    this.dynCache = out;
    return out;
  }

  /** Values of every dynamic entry with this tag, in order. */
  dynValues(tag: number): bigint[] {
    return this.dynamic()
      .filter((e) => e.tag === tag)
      .map((e) => e.value);
  }

  /** The dynamic string table (DT_STRTAB/DT_STRSZ), located through the PT_LOAD mappings. */
  private dynStrTab(): StringTable | undefined {
    if (this.dynStrCache !== undefined) return this.dynStrCache ?? undefined;
    // The last entry of a tag wins, as in glibc's get-dynamic-info.
    const addr = this.dynValues(C.DT_STRTAB).at(-1);
    const size = this.dynValues(C.DT_STRSZ).at(-1);
    if (addr === undefined || size === undefined) {
      this.dynStrCache = null;
      return undefined;
    }
    const off = this.vaddrToOffset(addr, 'DT_STRTAB');
    const sz = this.offset(size, off, 'DT_STRSZ');
    if (off + sz > this.size) throw this.fail('elf.truncated', off, `dynamic string table (${sz} bytes) extends past end of file (${this.size} bytes)`);
    this.dynStrCache = new StringTable(this, off, sz, LIMITS.maxDynString, 'dynamic string table');
    return this.dynStrCache;
  }

  /** A string of the dynamic string table. */
  dynString(index: bigint): string {
    const t = this.dynStrTab();
    if (!t) throw this.fail('elf.bad-string', 0, 'dynamic section has strings but no DT_STRTAB/DT_STRSZ');
    return t.get(index);
  }

  /** The strings of every dynamic entry with this tag (DT_NEEDED, DT_SONAME, DT_RPATH, DT_RUNPATH). */
  dynStrings(tag: number): string[] {
    return this.dynValues(tag).map((v) => this.dynString(v));
  }

  /** The section headers, names resolved; read on first use. */
  sections(): Section[] {
    if (this.sectionCache) return this.sectionCache;
    const hd = this.header;
    const out: Section[] = [];
    if (hd.shoff !== 0 && hd.shnum !== 0) {
      const is64 = this.d.is64;
      const buf = this.table(hd.shoff, hd.shnum, hd.shentsize, is64 ? 64 : 40, 'e_shentsize', is64 ? 58 : 46, 'section header table');
      const d = this.d;
      const nameIdx: number[] = [];
      for (let i = 0; i < hd.shnum; i++) {
        const o = i * hd.shentsize;
        const at = hd.shoff + o;
        nameIdx.push(d.u32(buf, o));
        const w = is64 ? 8 : 4;
        const type = d.u32(buf, o + 4);
        out.push({
          index: i,
          name: '',
          type,
          flags: d.word(buf, o + 8),
          addr: d.word(buf, o + 8 + w),
          offset: this.offset(d.word(buf, o + 8 + 2 * w), at + 8 + 2 * w, 'sh_offset'),
          size: this.offset(d.word(buf, o + 8 + 3 * w), at + 8 + 3 * w, 'sh_size'),
          link: d.u32(buf, o + 8 + 4 * w),
          info: d.u32(buf, o + 12 + 4 * w),
          addralign: d.word(buf, o + 16 + 4 * w),
          entsize: this.offset(d.word(buf, o + 16 + 5 * w), at + 16 + 5 * w, 'sh_entsize'),
        });
      }
      const strSec = hd.shstrndx !== C.SHN_UNDEF ? out[hd.shstrndx] : undefined;
      if (hd.shstrndx !== C.SHN_UNDEF && !strSec) {
        throw this.fail('elf.bad-header', 0, `e_shstrndx ${hd.shstrndx} is not a section (there are ${hd.shnum})`);
      }
      if (strSec) {
        const names = this.sectionData(strSec);
        for (const s of out) s.name = cString(names, nameIdx[s.index]!, this, strSec.offset, 'section name');
      }
    }
    this.sectionCache = out;
    return out;
  }

  /** The first section with this name (".dynsym", ".gnu.version", ...). */
  section(name: string): Section | undefined {
    return this.sections().find((s) => s.name === name);
  }

  /** Every section of this type (SHT_DYNSYM, SHT_GNU_versym, ...). */
  sectionsByType(type: number): Section[] {
    return this.sections().filter((s) => s.type === type);
  }

  /** The section whose index is this section's sh_link (its string table, its symbol table). */
  linkedSection(s: Section): Section {
    const l = this.sections()[s.link];
    if (!l || s.link === 0) throw this.fail('elf.bad-header', this.header.shoff, `section ${s.name || s.index} links to section ${s.link}, which does not exist`);
    return l;
  }

  /** The bytes of a section (empty for SHT_NOBITS); bounded by the file and the table cap. */
  sectionData(s: Section): Buffer {
    if (s.type === C.SHT_NOBITS) return Buffer.alloc(0);
    return this.read(s.offset, s.size, `section ${s.name || s.index}`);
  }

  /** Integers in this file's byte order, for the symbol readers. */
  get decoder(): Decoder {
    return this.d;
  }

  /** Exactly `len` bytes at `off`, or an ElfError naming what was being read. */
  read(off: number, len: number, what: string): Buffer {
    if (len > LIMITS.maxTableBytes) throw this.fail('elf.too-large', off, `${what} is ${len} bytes (limit ${LIMITS.maxTableBytes})`);
    if (off < 0 || len < 0 || off + len > this.size) {
      throw this.fail('elf.truncated', off, `${what} (${len} bytes) extends past end of file (${this.size} bytes)`);
    }
    if (this.head && off + len <= this.head.length) return this.head.subarray(off, off + len);
    const b = this.rawRead(off, len);
    if (b.length !== len) throw this.fail('elf.truncated', off + b.length, `short read of ${what}`);
    return b;
  }

  private rawRead(off: number, len: number): Buffer {
    try {
      return this.handle.read(off, len);
    } catch (e) {
      throw this.fail('elf.io', off, `read failed: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
    }
  }

  /** count*entsize as a byte length, refusing tables that cannot fit the file. */
  private tableBytes(count: number, entsize: number, off: number, what: string): number {
    const bytes = count * entsize;
    if (bytes > LIMITS.maxTableBytes) throw this.fail('elf.too-large', off, `${what} is ${count} entries of ${entsize} bytes`);
    return bytes;
  }

  /** A file offset or size from a header field, as a safe number (larger values cannot fit any file). */
  private offset(v: bigint, at: number, field: string): number {
    if (v > MAX_SAFE) throw this.fail('elf.truncated', at, `${field} 0x${v.toString(16)} is beyond any file size`);
    return Number(v);
  }

  fail(code: ElfErrorCode, offset: number, what: string): ElfError {
    return new ElfError(code, this.path, offset, what);
  }
}

/** The NUL-terminated string at `idx` of an in-memory table. */
export function cString(table: Buffer, idx: number, f: ElfFile, tableOff: number, what: string): string {
  if (idx >= table.length) throw f.fail('elf.bad-string', tableOff, `${what} index ${idx} is outside its string table (${table.length} bytes)`);
  const nul = table.indexOf(0, idx);
  if (nul < 0) throw f.fail('elf.bad-string', tableOff + idx, `${what} is not NUL-terminated`);
  return table.toString('utf8', idx, nul);
}

/**
 * A string table read on demand in blocks: a large library's dynamic string table can be
 * megabytes, and resolving needs only a handful of its strings. Blocks (and the first read
 * of a file) stay under half of Node's 8 KiB buffer pool, so they are pool slices, not
 * separate allocations.
 */
const BLOCK = 2048;

class StringTable {
  private readonly blocks = new Map<number, Buffer>();
  constructor(
    private readonly f: ElfFile,
    private readonly off: number,
    private readonly size: number,
    private readonly maxLen: number,
    private readonly what: string,
  ) {}

  get(index: bigint): string {
    if (index >= BigInt(this.size)) {
      throw this.f.fail('elf.bad-string', this.off, `${this.what} index ${index} is outside the table (${this.size} bytes)`);
    }
    const start = Number(index);
    const parts: Buffer[] = [];
    let pos = start;
    for (;;) {
      const bi = Math.floor(pos / BLOCK);
      const block = this.block(bi);
      const from = pos - bi * BLOCK;
      const nul = block.indexOf(0, from);
      if (nul >= 0) {
        parts.push(block.subarray(from, nul));
        break;
      }
      parts.push(block.subarray(from));
      pos = (bi + 1) * BLOCK;
      if (pos >= this.size) throw this.f.fail('elf.bad-string', this.off + start, `string in ${this.what} is not NUL-terminated`);
      if (pos - start > this.maxLen) throw this.f.fail('elf.bad-string', this.off + start, `string in ${this.what} is longer than ${this.maxLen} bytes`);
    }
    return parts.length === 1 ? parts[0]!.toString('utf8') : Buffer.concat(parts).toString('utf8');
  }

  private block(i: number): Buffer {
    let b = this.blocks.get(i);
    if (!b) {
      const start = i * BLOCK;
      b = this.f.read(this.off + start, Math.min(BLOCK, this.size - start), this.what);
      this.blocks.set(i, b);
    }
    return b;
  }
}
