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
  entries: LdCacheEntry[];
  /**
   * The library ld.so would take for a soname: the first entry with accepted flags. Entries
   * for CPU-specific subdirectories (legacy hwcap bits or glibc-hwcaps) are not chosen: the
   * guest's CPU is not the build host's, so we take the baseline build, as on a plain CPU.
   */
  lookup(soname: string, acceptedFlags: readonly number[]): LdCacheEntry | undefined;
}

const OLD_MAGIC = 'ld.so-1.7.0';
const NEW_MAGIC = 'glibc-ld.so.cache1.1';
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
  if (buf.length > MAX_LDCACHE_BYTES) return err(bad(file, 0, `file is ${buf.length} bytes, larger than any ld.so.cache`));
  const magic = (at: number, m: string): boolean => buf.length >= at + m.length && buf.toString('latin1', at, at + m.length) === m;
  try {
    if (magic(0, NEW_MAGIC)) return ok(parseNew(buf, 0, file, 'new'));
    if (!magic(0, OLD_MAGIC)) return err(bad(file, 0, 'not an ld.so.cache (unknown magic)'));
    if (buf.length < OLD_HEADER) return err(bad(file, 0, 'truncated header'));
    const nlibs = buf.readUInt32LE(12);
    const end = OLD_HEADER + nlibs * OLD_ENTRY;
    if (end > buf.length) return err(bad(file, 12, `${nlibs} entries do not fit the file (${buf.length} bytes)`));
    const newAt = (end + 7) & ~7;
    if (magic(newAt, NEW_MAGIC)) return ok(parseNew(buf, newAt, file, 'compat'));
    const entries: LdCacheEntry[] = [];
    for (let i = 0; i < nlibs; i++) {
      const o = OLD_HEADER + i * OLD_ENTRY;
      entries.push({
        flags: buf.readInt32LE(o),
        key: str(buf, end, buf.readUInt32LE(o + 4), file, o + 4),
        value: str(buf, end, buf.readUInt32LE(o + 8), file, o + 8),
        osversion: 0,
        hwcap: 0n,
      });
    }
    return ok(makeCache('old', entries));
  } catch (e) {
    if (e instanceof OsvError) return err(e);
    throw e;
  }
}

function parseNew(buf: Buffer, at: number, file: string, format: 'new' | 'compat'): LdCache {
  if (buf.length < at + NEW_HEADER) throw bad(file, at, 'truncated header');
  const order = buf[at + 28];
  // 0 = written by an ldconfig that did not record it (assume ours), 2 = little, 3 = big.
  const le = order === 3 ? false : order === 0 || order === 2 ? true : undefined;
  if (le === undefined) throw bad(file, at + 28, `unknown byte order flag ${order}`);
  const u32 = (o: number): number => (le ? buf.readUInt32LE(o) : buf.readUInt32BE(o));
  const i32 = (o: number): number => (le ? buf.readInt32LE(o) : buf.readInt32BE(o));
  const u64 = (o: number): bigint => (le ? buf.readBigUInt64LE(o) : buf.readBigUInt64BE(o));
  const nlibs = u32(at + 20);
  if (at + NEW_HEADER + nlibs * NEW_ENTRY > buf.length) throw bad(file, at + 20, `${nlibs} entries do not fit the file (${buf.length} bytes)`);
  const entries: LdCacheEntry[] = [];
  for (let i = 0; i < nlibs; i++) {
    const o = at + NEW_HEADER + i * NEW_ENTRY;
    entries.push({
      flags: i32(o),
      key: str(buf, at, u32(o + 4), file, o + 4),
      value: str(buf, at, u32(o + 8), file, o + 8),
      osversion: u32(o + 12),
      hwcap: u64(o + 16),
    });
  }
  return makeCache(format, entries);
}

/** The NUL-terminated string at base+off, bounded by the file and MAX_KEY. */
function str(buf: Buffer, base: number, off: number, file: string, at: number): string {
  const start = base + off;
  if (start >= buf.length) throw bad(file, at, `string offset ${off} is outside the file`);
  const nul = buf.indexOf(0, start);
  if (nul < 0 || nul - start > MAX_KEY) throw bad(file, start, 'unterminated or overlong string');
  return buf.toString('utf8', start, nul);
}

function makeCache(format: LdCache['format'], entries: LdCacheEntry[]): LdCache {
  const byKey = new Map<string, LdCacheEntry[]>();
  for (const e of entries) {
    const list = byKey.get(e.key);
    if (list) list.push(e);
    else byKey.set(e.key, [e]);
  }
  return {
    format,
    entries,
    lookup(soname, accepted) {
      const list = byKey.get(soname);
      return list?.find((e) => e.hwcap === 0n && accepted.includes(e.flags));
    },
  };
}
