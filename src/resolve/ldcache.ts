// /etc/ld.so.cache, as glibc's ldconfig writes it and ld.so reads it. Two layouts exist:
//
//   old "ld.so-1.7.0": magic[11] (+1 pad), u32 nlibs, nlibs * {i32 flags, u32 key, u32 value};
//       string offsets count from the end of that entry array.
//   new "glibc-ld.so.cache1.1": magic[20], u32 nlibs, u32 len_strings, u8 flags (byte order:
//       2 little, 3 big), u8 pad[3], u32 extension_offset, u32 unused[3] (48 bytes), then
//       nlibs * {i32 flags, u32 key, u32 value, u32 osversion, u64 hwcap} (24 bytes);
//       string offsets count from the start of the new header.
//
// Until glibc 2.32 ldconfig wrote both ("compat"): the old table, then the new header at the
// next 8-byte boundary. ld.so then uses the new part, and so do we.

import type { Result } from '../diagnostics/result.js';
import { err, ok } from '../diagnostics/result.js';
import { OsvError } from '../diagnostics/error.js';

export interface LdCacheEntry {
  /** The soname. */
  key: string;
  /** The library's path. */
  value: string;
  flags: number;
  osversion: number;
  /** Legacy hwcap bits, or (bit 62 set) a glibc-hwcaps subdirectory index. */
  hwcap: bigint;
}

export interface LdCache {
  format: 'old' | 'new' | 'compat';
  /** Number of entries. */
  readonly size: number;
  /**
   * Every entry, decoded on first use (lookups do not need it). Strings are checked when
   * read: `entries` and `lookup` throw an OsvError (ldcache.bad-format) for a corrupt one.
   */
  readonly entries: LdCacheEntry[];
  /**
   * The library ld.so would take for a soname: a binary search over the keys (ldconfig sorts
   * them in decreasing _dl_cache_libcmp order, and ld.so searches them the same way), then
   * the first of the equal keys with accepted flags. Entries for CPU-specific subdirectories
   * (legacy hwcap bits or glibc-hwcaps) are not chosen: the guest's CPU is not the build
   * host's, so we take the baseline build, as on a plain CPU.
   */
  lookup(soname: string, acceptedFlags: readonly number[]): LdCacheEntry | undefined;
}

const OLD_HEADER = 16;
const OLD_ENTRY = 12;
const NEW_HEADER = 48;
const NEW_ENTRY = 24;
/** A cache bigger than this is not a cache. */
export const MAX_LDCACHE_BYTES = 64 * 1024 * 1024;
const MAX_KEY = 4096;

function bad(file: string, offset: number, what: string): OsvError {
  return new OsvError({
    code: 'ldcache.bad-format',
    message: `${file}: ${what} (at byte offset ${offset})`,
    hint: 'regenerate the cache inside the sysroot (ldconfig -r <sysroot>), or remove it to search the default directories',
  });
}

export function parseLdCache(buf: Buffer, file: string): Result<LdCache, OsvError> {
  // Here, not at module level, so that mutation testing can tell which test reads them.
  const OLD_MAGIC = 'ld.so-1.7.0';
  const NEW_MAGIC = 'glibc-ld.so.cache1.1';
  if (buf.length > MAX_LDCACHE_BYTES) return err(bad(file, 0, `file is ${buf.length} bytes, larger than any ld.so.cache`));
  // toString stops at the end of the buffer: a shorter file gives a shorter string, never m.
  const magic = (at: number, m: string): boolean => buf.toString('latin1', at, at + m.length) === m;
  if (magic(0, NEW_MAGIC)) return newFormat(buf, 0, file, 'new');
  if (!magic(0, OLD_MAGIC)) return err(bad(file, 0, 'not an ld.so.cache (unknown magic)'));
  if (buf.length < OLD_HEADER) return err(bad(file, 0, 'truncated header'));
  const nlibs = buf.readUInt32LE(12);
  const end = OLD_HEADER + nlibs * OLD_ENTRY;
  if (end > buf.length) return err(bad(file, 12, `${nlibs} entries do not fit the file (${buf.length} bytes)`));
  const newAt = (end + 7) & ~7;
  if (magic(newAt, NEW_MAGIC)) return newFormat(buf, newAt, file, 'compat');
  // The old format has no byte-order flag: it is always the writer's, and ours is little-endian.
  return table({ buf, file, format: 'old', nlibs, entries: OLD_HEADER, entSize: OLD_ENTRY, strings: end, le: true, hasHwcap: false });
}

function newFormat(buf: Buffer, at: number, file: string, format: 'new' | 'compat'): Result<LdCache, OsvError> {
  if (buf.length < at + NEW_HEADER) return err(bad(file, at, 'truncated header'));
  const order = buf[at + 28];
  // 0 = written by an ldconfig that did not record it (assume little-endian), 2 = little, 3 = big.
  const le = order === 3 ? false : order === 0 || order === 2 ? true : undefined;
  if (le === undefined) return err(bad(file, at + 28, `unknown byte order flag ${order}`));
  const nlibs = le ? buf.readUInt32LE(at + 20) : buf.readUInt32BE(at + 20);
  if (at + NEW_HEADER + nlibs * NEW_ENTRY > buf.length) return err(bad(file, at + 20, `${nlibs} entries do not fit the file (${buf.length} bytes)`));
  return table({ buf, file, format, nlibs, entries: at + NEW_HEADER, entSize: NEW_ENTRY, strings: at, le, hasHwcap: true });
}

interface Table {
  buf: Buffer;
  file: string;
  format: LdCache['format'];
  nlibs: number;
  /** Offset of entry 0. */
  entries: number;
  entSize: number;
  /** String offsets count from here. */
  strings: number;
  le: boolean;
  hasHwcap: boolean;
}

/** Entry accessors over the raw bytes; strings are decoded only when compared or returned. */
function table(t: Table): Result<LdCache, OsvError> {
  const { buf, file } = t;
  const u32 = (o: number): number => (t.le ? buf.readUInt32LE(o) : buf.readUInt32BE(o));
  const at = (i: number): number => t.entries + i * t.entSize;
  /**
   * [start, end) of the NUL-terminated string an entry field points to. Checked here, when
   * read, not for every entry up front: a lookup reads a dozen of hundreds of keys.
   */
  const span = (i: number, field: number): [number, number] => {
    const start = t.strings + u32(at(i) + field);
    if (start >= buf.length) throw bad(file, at(i) + field, `string offset ${u32(at(i) + field)} is outside the file`);
    const nul = buf.indexOf(0, start);
    if (nul < 0 || nul - start > MAX_KEY) throw bad(file, start, 'unterminated or overlong string');
    return [start, nul];
  };
  const text = (i: number, field: number): string => buf.toString('utf8', ...span(i, field));
  const entry = (i: number): LdCacheEntry => ({
    flags: t.le ? buf.readInt32LE(at(i)) : buf.readInt32BE(at(i)),
    key: text(i, 4),
    value: text(i, 8),
    osversion: t.hasHwcap ? u32(at(i) + 12) : 0,
    hwcap: t.hasHwcap ? (t.le ? buf.readBigUInt64LE(at(i) + 16) : buf.readBigUInt64BE(at(i) + 16)) : 0n,
  });
  const baseline = (i: number): boolean => !t.hasHwcap || (u32(at(i) + 16) === 0 && u32(at(i) + 20) === 0);
  let all: LdCacheEntry[] | undefined;
  return ok({
    format: t.format,
    size: t.nlibs,
    get entries() {
      all ??= Array.from({ length: t.nlibs }, (_, i) => entry(i));
      return all;
    },
    lookup(soname, accepted) {
      const name = Buffer.from(soname);
      const cmp = (i: number): number => libcmp(name, buf, ...span(i, 4));
      let left = 0;
      let right = t.nlibs - 1;
      while (left <= right) {
        const mid = (left + right) >>> 1;
        const c = cmp(mid);
        if (c === 0) {
          let i = mid;
          while (i > 0 && cmp(i - 1) === 0) i--;
          for (; i < t.nlibs && cmp(i) === 0; i++) {
            const flags = t.le ? buf.readInt32LE(at(i)) : buf.readInt32BE(at(i));
            if (accepted.includes(flags) && baseline(i)) return entry(i);
          }
          return undefined;
        }
        // Keys decrease along the table.
        if (c < 0) left = mid + 1;
        else right = mid - 1;
      }
      return undefined;
    },
  });
}

const isDigit = (c: number | undefined): boolean => c !== undefined && c >= 0x30 && c <= 0x39;

/**
 * glibc's _dl_cache_libcmp: byte order, except that runs of digits compare as numbers and a
 * digit sorts after a non-digit (so libfoo.so.10 > libfoo.so.9). `a` is a whole buffer,
 * `b` the bytes [bs, be) of `bb`.
 */
export function libcmp(a: Buffer, bb: Buffer, bs: number, be: number): number {
  let i = 0;
  let j = bs;
  while (i < a.length) {
    const c1 = a[i]!;
    const c2 = j < be ? bb[j]! : 0;
    if (isDigit(c1)) {
      if (!isDigit(c2)) return 1;
      let v1 = 0;
      let v2 = 0;
      // Past the end of `a`, a[i] is undefined: not a digit.
      while (isDigit(a[i])) v1 = v1 * 10 + a[i++]! - 0x30;
      while (j < be && isDigit(bb[j])) v2 = v2 * 10 + bb[j++]! - 0x30;
      if (v1 !== v2) return v1 - v2;
    } else if (isDigit(c2)) return -1;
    else if (c1 !== c2) return c1 - c2;
    else {
      i++;
      j++;
    }
  }
  return j < be ? -bb[j]! : 0;
}
