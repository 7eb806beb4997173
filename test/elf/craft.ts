// Hand-built ELF files (every class and byte order) and an in-memory HostFs, for tests of
// the reader on layouts gcc on this machine cannot produce (ELF32, big-endian, odd headers).

import type { HostFile, HostFs, HostStat } from '../../src/hostfs.js';
import * as C from '../../src/elf/constants.js';

export interface CraftSpec {
  cls: 32 | 64;
  le: boolean;
  type?: number;
  machine?: number;
  interp?: string;
  needed?: string[];
  soname?: string;
  rpath?: string;
  runpath?: string;
  flags1?: number;
  /** Extra dynamic entries after the standard ones. */
  extraDyn?: Array<[number, bigint]>;
}

const BASE = 0x400000n;

/**
 * Layout: ELF header, program headers (PT_INTERP?, PT_LOAD over the whole file, PT_DYNAMIC),
 * interpreter string, .dynstr, .dynamic, .shstrtab, section headers (null, .dynstr, .dynamic,
 * .shstrtab). Virtual address = BASE + file offset.
 */
export function craftElf(s: CraftSpec): Buffer {
  const is64 = s.cls === 64;
  const w = is64 ? 8 : 4;
  const ehsize = is64 ? 64 : 52;
  const phentsize = is64 ? 56 : 32;
  const shentsize = is64 ? 64 : 40;
  const dynent = 2 * w;

  // .dynstr
  const strs: string[] = [''];
  const strIndex = (x: string): number => {
    let off = 0;
    for (const y of strs) {
      if (y === x) return off;
      off += Buffer.byteLength(y) + 1;
    }
    strs.push(x);
    return off;
  };
  const dyn: Array<[number, bigint]> = [];
  for (const n of s.needed ?? []) dyn.push([C.DT_NEEDED, BigInt(strIndex(n))]);
  if (s.soname !== undefined) dyn.push([C.DT_SONAME, BigInt(strIndex(s.soname))]);
  if (s.rpath !== undefined) dyn.push([C.DT_RPATH, BigInt(strIndex(s.rpath))]);
  if (s.runpath !== undefined) dyn.push([C.DT_RUNPATH, BigInt(strIndex(s.runpath))]);
  if (s.flags1 !== undefined) dyn.push([C.DT_FLAGS_1, BigInt(s.flags1)]);
  const dynstr = Buffer.concat(strs.map((x) => Buffer.from(x + '\0')));
  const shstr = Buffer.from('\0.dynstr\0.dynamic\0.shstrtab\0');

  const phnum = s.interp !== undefined ? 3 : 2;
  let off = ehsize + phnum * phentsize;
  const interpOff = off;
  const interp = s.interp !== undefined ? Buffer.from(s.interp + '\0') : Buffer.alloc(0);
  off += interp.length;
  const dynstrOff = off;
  off += dynstr.length;
  off = (off + 7) & ~7;
  const dynOff = off;
  dyn.push([C.DT_STRTAB, BASE + BigInt(dynstrOff)], [C.DT_STRSZ, BigInt(dynstr.length)], ...(s.extraDyn ?? []), [C.DT_NULL, 0n]);
  off += dyn.length * dynent;
  const shstrOff = off;
  off += shstr.length;
  off = (off + 7) & ~7;
  const shoff = off;
  const size = shoff + 4 * shentsize;

  const b = Buffer.alloc(size);
  const u16 = (o: number, v: number): void => void (s.le ? b.writeUInt16LE(v, o) : b.writeUInt16BE(v, o));
  const u32 = (o: number, v: number): void => void (s.le ? b.writeUInt32LE(v, o) : b.writeUInt32BE(v, o));
  const word = (o: number, v: bigint): void => {
    if (is64) void (s.le ? b.writeBigUInt64LE(v, o) : b.writeBigUInt64BE(v, o));
    else u32(o, Number(v));
  };

  C.ELFMAG.copy(b, 0);
  b[4] = is64 ? C.ELFCLASS64 : C.ELFCLASS32;
  b[5] = s.le ? C.ELFDATA2LSB : C.ELFDATA2MSB;
  b[6] = C.EV_CURRENT;
  u16(16, s.type ?? C.ET_DYN);
  u16(18, s.machine ?? (is64 ? C.EM_X86_64 : C.EM_386));
  u32(20, 1);
  word(24, BASE);
  word(24 + w, BigInt(ehsize)); // e_phoff
  word(24 + 2 * w, BigInt(shoff));
  const o = 24 + 3 * w;
  u16(o + 4, ehsize);
  u16(o + 6, phentsize);
  u16(o + 8, phnum);
  u16(o + 10, shentsize);
  u16(o + 12, 4);
  u16(o + 14, 3);

  const ph = (i: number, type: number, poff: number, filesz: number): void => {
    const p = ehsize + i * phentsize;
    u32(p, type);
    if (is64) {
      u32(p + 4, 4);
      word(p + 8, BigInt(poff));
      word(p + 16, BASE + BigInt(poff));
      word(p + 24, BASE + BigInt(poff));
      word(p + 32, BigInt(filesz));
      word(p + 40, BigInt(filesz));
      word(p + 48, 8n);
    } else {
      u32(p + 4, poff);
      u32(p + 8, Number(BASE) + poff);
      u32(p + 12, Number(BASE) + poff);
      u32(p + 16, filesz);
      u32(p + 20, filesz);
      u32(p + 24, 4);
      u32(p + 28, 8);
    }
  };
  let i = 0;
  if (s.interp !== undefined) ph(i++, C.PT_INTERP, interpOff, interp.length);
  ph(i++, C.PT_LOAD, 0, size);
  ph(i++, C.PT_DYNAMIC, dynOff, dyn.length * dynent);

  interp.copy(b, interpOff);
  dynstr.copy(b, dynstrOff);
  dyn.forEach(([tag, val], k) => {
    word(dynOff + k * dynent, BigInt(tag));
    word(dynOff + k * dynent + w, val);
  });
  shstr.copy(b, shstrOff);

  const sh = (k: number, name: number, type: number, soff: number, ssize: number, link: number, entsize: number): void => {
    const p = shoff + k * shentsize;
    u32(p, name);
    u32(p + 4, type);
    word(p + 8 + w, type === C.SHT_STRTAB && name === 18 ? 0n : BASE + BigInt(soff));
    word(p + 8 + 2 * w, BigInt(soff));
    word(p + 8 + 3 * w, BigInt(ssize));
    u32(p + 8 + 4 * w, link);
    word(p + 16 + 5 * w, BigInt(entsize));
  };
  sh(1, 1, C.SHT_STRTAB, dynstrOff, dynstr.length, 0, 0);
  sh(2, 9, C.SHT_DYNAMIC, dynOff, dyn.length * dynent, 1, dynent);
  sh(3, 18, C.SHT_STRTAB, shstrOff, shstr.length, 0, 0);
  return b;
}

/** A HostFile over a buffer that counts the bytes it hands out. */
export class MemFile implements HostFile {
  bytesRead = 0;
  reads = 0;
  constructor(
    readonly path: string,
    private readonly data: Buffer,
  ) {}
  get size(): number {
    return this.data.length;
  }
  read(offset: number, length: number): Buffer {
    this.reads++;
    const b = this.data.subarray(Math.max(0, offset), Math.max(0, Math.min(this.data.length, offset + length)));
    this.bytesRead += b.length;
    return b;
  }
  close(): void {}
}

/** A read-only HostFs over named buffers (regular files only). */
export function memFs(files: Record<string, Buffer>): HostFs {
  const st = (p: string): HostStat | undefined => {
    const f = files[p];
    return f ? { kind: 'file', size: f.length, mtimeMs: 0, ctimeMs: 0, ino: 0, dev: 0, mode: 0o644 } : undefined;
  };
  const get = (p: string): Buffer => {
    const f = files[p];
    if (!f) throw Object.assign(new Error(`ENOENT: ${p}`), { code: 'ENOENT' });
    return f;
  };
  return {
    lstat: st,
    stat: st,
    readlink: (p) => {
      throw Object.assign(new Error(`EINVAL: ${p}`), { code: 'EINVAL' });
    },
    readdir: () => [],
    readRange: (p, o, l) => get(p).subarray(o, o + l),
    readFile: get,
    open: (p) => new MemFile(p, get(p)),
  };
}
