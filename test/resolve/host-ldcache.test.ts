// ld.so.cache as ld.so reads it, on caches ldconfig writes for a tree of our own (duplicate
// sonames in three directories, glibc-hwcaps subdirectories, a 32-bit library, sonames full of
// digits) and on caches written byte by byte to the layout glibc documents (big-endian, the
// boundaries of every size check, damaged strings). What a user sees: which file a soname
// resolves to, and the exact error a damaged cache gives.

import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as C from '../../src/elf/constants.js';
import { archFacts } from '../../src/resolve/arch.js';
import { libcmp, MAX_LDCACHE_BYTES, parseLdCache, type LdCache, type LdCacheEntry } from '../../src/resolve/ldcache.js';
import { craftElf } from '../elf/craft.js';
import { lacks } from '../helpers/skip.js';

const X86_64 = archFacts.x86_64.cacheFlags;
const hasLdconfig = spawnSync('ldconfig', ['--version']).status === 0;

function parse(buf: Buffer, file = 'test.cache'): LdCache {
  const r = parseLdCache(buf, file);
  if (!r.ok) throw new Error(r.error.message);
  return r.value;
}

/** The error message and hint parseLdCache gives for a buffer (undefined when it parses). */
function rejected(buf: Buffer): { code: string; message: string; hint: string | undefined } | undefined {
  const r = parseLdCache(buf, 'bad.cache');
  return r.ok ? undefined : { code: r.error.code, message: r.error.message, hint: r.error.hint };
}

/** The error a lookup or a read of every entry throws, as text. */
function thrown(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    return `${(e as { code?: string }).code}: ${(e as Error).message}`;
  }
  return 'no error';
}

type Entry = Pick<LdCacheEntry, 'key' | 'value'> & Partial<LdCacheEntry>;

/**
 * A "glibc-ld.so.cache1.1" cache written to the layout in src/resolve/ldcache.ts's header
 * comment (glibc's elf/cache.c): 48-byte header, 24-byte entries, then the strings, whose
 * offsets count from the header. `order`: the byte-order flag (2 little, 3 big, 0 unrecorded).
 */
function newCache(entries: Entry[], order: 0 | 2 | 3 = 2): Buffer {
  const le = order !== 3;
  const strings: Buffer[] = [];
  let at = 48 + entries.length * 24;
  const str = (s: string): number => {
    const off = at;
    const b = Buffer.from(s + '\0');
    strings.push(b);
    at += b.length;
    return off;
  };
  const head = Buffer.alloc(48);
  head.write('glibc-ld.so.cache1.1', 0, 'latin1');
  const table = Buffer.alloc(entries.length * 24);
  entries.forEach((e, i) => {
    const o = i * 24;
    const key = str(e.key);
    const value = str(e.value);
    if (le) {
      table.writeInt32LE(e.flags ?? 0x0303, o);
      table.writeUInt32LE(key, o + 4);
      table.writeUInt32LE(value, o + 8);
      table.writeUInt32LE(e.osversion ?? 0, o + 12);
      table.writeBigUInt64LE(e.hwcap ?? 0n, o + 16);
    } else {
      table.writeInt32BE(e.flags ?? 0x0303, o);
      table.writeUInt32BE(key, o + 4);
      table.writeUInt32BE(value, o + 8);
      table.writeUInt32BE(e.osversion ?? 0, o + 12);
      table.writeBigUInt64BE(e.hwcap ?? 0n, o + 16);
    }
  });
  const len = at - 48 - entries.length * 24;
  if (le) {
    head.writeUInt32LE(entries.length, 20);
    head.writeUInt32LE(len, 24);
  } else {
    head.writeUInt32BE(entries.length, 20);
    head.writeUInt32BE(len, 24);
  }
  head[28] = order;
  return Buffer.concat([head, table, ...strings]);
}

/** An old "ld.so-1.7.0" header (16 bytes) for nlibs entries, followed by `rest`. */
const oldCache = (nlibs: number, rest = Buffer.alloc(0)): Buffer => {
  const h = Buffer.alloc(16);
  h.write('ld.so-1.7.0', 0, 'latin1');
  h.writeUInt32LE(nlibs, 12);
  return Buffer.concat([h, rest]);
};

/** Sonames in the order ldconfig writes them (decreasing _dl_cache_libcmp). */
const DIGITS = [0, 1, 2, 8, 9, 10, 19, 20, 89, 90, 99, 100, 109, 900].flatMap((n) => [`libn.so.${n}`, `libn${n}.so.1`, `libn${n}x9.so`, `libn.so.${n}.9`]);

let tmp = '';
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'osv-host-ldcache-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe.skipIf(lacks('caches ldconfig writes for a tree of ours', [hasLdconfig, 'ldconfig is not installed (Debian: libc-bin)']))('caches ldconfig writes for a tree of ours', () => {
  let root = '';
  // As root, ldconfig -r chroots into the tree and records paths inside it; otherwise it is
  // given the tree's directories by host path (and adds this machine's own libraries).
  const chroot = process.getuid?.() === 0;
  const inCache = (p: string): string => (chroot ? p : join(root, p));
  const put = (path: string, spec: Parameters<typeof craftElf>[0]): void => {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), craftElf(spec));
  };
  /** Write the cache in `format`; return its bytes and what `ldconfig -p` prints of it. */
  const written = (format: 'new' | 'old' | 'compat'): { buf: Buffer; printed: string[][] } => {
    const name = `cache.${format}`;
    const args = chroot ? ['-X', '-c', format, '-r', root, '-C', `/${name}`] : ['-X', '-c', format, '-C', join(root, name), '-f', join(root, 'host.conf')];
    const r = spawnSync('ldconfig', args, { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    return { buf: readFileSync(join(root, name)), printed: printedBy(join(root, name)) };
  };

  beforeAll(() => {
    root = join(tmp, 'tree');
    const lib64 = (soname: string) => ({ cls: 64 as const, le: true, soname });
    // One soname in three directories, and two CPU-specific builds of it in the first.
    for (const d of ['d1', 'd2', 'd3', 'd1/glibc-hwcaps/x86-64-v2', 'd1/glibc-hwcaps/x86-64-v3']) put(`${d}/libdup.so.1`, lib64('libdup.so.1'));
    for (const n of DIGITS) put(`d2/${n}`, lib64(n));
    // A 32-bit library whose soname sorts just above a 64-bit one's.
    put('d3/libwide.so.2', { cls: 32, le: true, machine: C.EM_386, soname: 'libwide.so.2' });
    put('d3/libwide.so.1', lib64('libwide.so.1'));
    mkdirSync(join(root, 'etc'), { recursive: true });
    writeFileSync(join(root, 'etc', 'ld.so.conf'), '/d1\n/d2\n/d3\n');
    writeFileSync(join(root, 'host.conf'), ['d1', 'd2', 'd3'].map((d) => join(root, d)).join('\n') + '\n');
  });

  it.each(['new', 'compat', 'old'] as const)('%s format: every soname resolves to the entry ld.so takes, as ldconfig -p lists it', (format) => {
    const { buf, printed } = written(format);
    const c = parse(buf);
    expect(c.format).toBe(format);
    expect(c.size).toBe(printed.length);
    expect(c.entries.map((e) => [e.key, e.value])).toEqual(printed.map(([k, , v]) => [k, v]));
    // Each digit-laden soname is found by the binary search, at the path ldconfig recorded.
    for (const n of DIGITS) expect(c.lookup(n, X86_64)?.value, n).toBe(inCache(`/d2/${n}`));
    // Of five libdup.so.1 entries, ld.so takes the first baseline one: the first directory of
    // ld.so.conf, not a glibc-hwcaps build (the guest's CPU is not this one). The old format
    // cannot mark those builds: its first entry is one of them, as an ld.so of that time took.
    const first = format === 'old' ? '/d1/glibc-hwcaps/x86-64-v2/libdup.so.1' : '/d1/libdup.so.1';
    expect(c.lookup('libdup.so.1', X86_64)?.value).toBe(inCache(first));
    // libwide.so.2 exists only as a 32-bit library: not found, and not libwide.so.1 either.
    expect(c.lookup('libwide.so.2', X86_64)).toBeUndefined();
    expect(c.lookup('libwide.so.2', [0x0001, 0x0003])?.value).toBe(inCache('/d3/libwide.so.2'));
    expect(c.lookup('libwide.so.1', X86_64)?.value).toBe(inCache('/d3/libwide.so.1'));
    // Names that sort before or after every key, and the last key with flags no entry has.
    for (const name of ['!', '~~~', 'libz', 'lib', '']) expect(c.lookup(name, X86_64), name).toBeUndefined();
    const last = c.entries[c.size - 1]!.key;
    expect(c.lookup(last, [0x7fff])).toBeUndefined();
  });

  it('reports the hwcap of the glibc-hwcaps entries (bit 62) and none for the others, as ldconfig -p does', () => {
    const { buf, printed } = written('new');
    const c = parse(buf);
    const marked = c.entries.map((e) => (e.hwcap >> 62n) & 1n);
    expect(marked).toEqual(printed.map(([, info]) => (/hwcap: "x86-64-v[23]"/.test(info!) ? 1n : 0n)));
    expect(marked.filter((m) => m === 1n)).toHaveLength(2);
    expect(c.entries.filter((e) => e.key === 'libdup.so.1').map((e) => e.value)).toEqual(
      ['/d1/glibc-hwcaps/x86-64-v2/libdup.so.1', '/d1/glibc-hwcaps/x86-64-v3/libdup.so.1', '/d1/libdup.so.1', '/d2/libdup.so.1', '/d3/libdup.so.1'].map(inCache),
    );
  });

  it('reads legacy hwcap bits as ldconfig -p prints them, and the OS ABI version', () => {
    const buf = newCache([
      { key: 'libabi.so.2', value: '/lib/libabi.so.2', osversion: 0x030200 },
      { key: 'libabi.so.1', value: '/lib/libabi.so.1', hwcap: 0x1000n },
    ]);
    const file = join(tmp, 'abi.cache');
    writeFileSync(file, buf);
    expect(printedBy(file).map(([, info]) => info)).toEqual(['libc6,x86-64', 'libc6,x86-64, hwcap: 0x0000000000001000']);
    const c = parse(buf);
    expect(c.entries.map((e) => [e.key, e.osversion, e.hwcap])).toEqual([
      ['libabi.so.2', 0x030200, 0n],
      ['libabi.so.1', 0, 0x1000n],
    ]);
    // A legacy hwcap entry is a CPU-specific build: not taken.
    expect(c.lookup('libabi.so.1', X86_64)).toBeUndefined();
    expect(c.lookup('libabi.so.2', X86_64)?.value).toBe('/lib/libabi.so.2');
  });
});

/** `ldconfig -p -C FILE`: [soname, the parenthesized information, path] per entry. */
function printedBy(file: string): string[][] {
  const out = spawnSync('ldconfig', ['-p', '-C', file], { encoding: 'utf8' }).stdout;
  return [...out.matchAll(/^\t(\S+) \((.*)\) => (.*)$/gm)].map((m) => [m[1]!, m[2]!, m[3]!]);
}

describe('caches written byte by byte', () => {
  const two: Entry[] = [
    { key: 'libtwo.so.2', value: '/opt/libtwo.so.2' },
    { key: 'libtwo.so.1', value: '/opt/libtwo.so.1' },
  ];

  it('reads a big-endian cache, and one whose writer did not record the byte order, like a little-endian one', () => {
    for (const order of [3, 0] as const) {
      const c = parse(newCache([...two.slice(0, 1), { ...two[1]!, osversion: 0x020600, hwcap: 0x40n }], order));
      expect(c.entries, `order ${order}`).toEqual([
        { key: 'libtwo.so.2', value: '/opt/libtwo.so.2', flags: 0x0303, osversion: 0, hwcap: 0n },
        { key: 'libtwo.so.1', value: '/opt/libtwo.so.1', flags: 0x0303, osversion: 0x020600, hwcap: 0x40n },
      ]);
      expect(c.lookup('libtwo.so.2', X86_64)?.value).toBe('/opt/libtwo.so.2');
      expect(c.lookup('libtwo.so.1', X86_64)).toBeUndefined();
    }
  });

  it('rejects an unknown byte-order flag, at its offset in a new and in a compat cache', () => {
    const bad = newCache(two);
    bad[28] = 7;
    expect(rejected(bad)).toEqual({
      code: 'ldcache.bad-format',
      message: 'bad.cache: unknown byte order flag 7 (at byte offset 28)',
      hint: 'regenerate the cache inside the sysroot (ldconfig -r <sysroot>), or remove it to search the default directories',
    });
    // compat: the old table (no entries), then the new part at the next 8-byte boundary.
    const compat = Buffer.concat([oldCache(0), bad]);
    expect(rejected(compat)?.message).toBe('bad.cache: unknown byte order flag 7 (at byte offset 44)');
    const good = Buffer.concat([oldCache(0), newCache(two)]);
    expect(parse(good).format).toBe('compat');
    expect(parse(good).lookup('libtwo.so.1', X86_64)?.value).toBe('/opt/libtwo.so.1');
  });

  it('rejects a file that is not a cache, and one larger than any cache, by what they are', () => {
    expect(rejected(Buffer.from('# not a cache\n/usr/lib\n'))).toMatchObject({ code: 'ldcache.bad-format', message: 'bad.cache: not an ld.so.cache (unknown magic) (at byte offset 0)' });
    expect(rejected(Buffer.alloc(0))?.message).toBe('bad.cache: not an ld.so.cache (unknown magic) (at byte offset 0)');
    const big = Buffer.alloc(MAX_LDCACHE_BYTES + 1);
    newCache(two).copy(big);
    expect(rejected(big)?.message).toBe(`bad.cache: file is ${MAX_LDCACHE_BYTES + 1} bytes, larger than any ld.so.cache (at byte offset 0)`);
    // Exactly the limit: a cache followed by padding still reads.
    expect(parse(big.subarray(0, MAX_LDCACHE_BYTES)).lookup('libtwo.so.2', X86_64)?.value).toBe('/opt/libtwo.so.2');
  });

  it('checks each header and table size at its exact boundary', () => {
    const full = newCache(two);
    // The new magic alone, and a header one byte short: truncated.
    expect(rejected(full.subarray(0, 20))?.message).toBe('bad.cache: truncated header (at byte offset 0)');
    expect(rejected(full.subarray(0, 47))?.message).toBe('bad.cache: truncated header (at byte offset 0)');
    // A whole header with no entries: an empty cache.
    const empty = newCache([]);
    expect(empty.length).toBe(48);
    expect(parse(empty)).toMatchObject({ format: 'new', size: 0, entries: [] });
    expect(parse(empty).lookup('libtwo.so.1', X86_64)).toBeUndefined();
    // Two entries need 96 bytes after the header: 10 bytes short is "do not fit".
    expect(rejected(full.subarray(0, 48 + 2 * 24 - 10))?.message).toBe('bad.cache: 2 entries do not fit the file (86 bytes) (at byte offset 20)');
    // Exactly the header and the table: it reads; the strings it points to are then missing.
    const bare = parse(full.subarray(0, 48 + 2 * 24));
    expect(bare.size).toBe(2);
    expect(thrown(() => bare.entries)).toBe('ldcache.bad-format: test.cache: string offset 96 is outside the file (at byte offset 52)');
    // The same in a compat cache: offsets count from its new header.
    const compat = Buffer.concat([oldCache(0), full.subarray(0, 40)]);
    expect(rejected(compat)?.message).toBe('bad.cache: truncated header (at byte offset 16)');
    expect(rejected(Buffer.concat([oldCache(0), full.subarray(0, 86)]))?.message).toBe('bad.cache: 2 entries do not fit the file (102 bytes) (at byte offset 36)');
  });

  it('checks the old header and table at their exact boundaries', () => {
    expect(rejected(oldCache(0).subarray(0, 12))?.message).toBe('bad.cache: truncated header (at byte offset 0)');
    expect(rejected(oldCache(0).subarray(0, 15))?.message).toBe('bad.cache: truncated header (at byte offset 0)');
    expect(parse(oldCache(0))).toMatchObject({ format: 'old', size: 0, entries: [] });
    expect(rejected(oldCache(2, Buffer.alloc(23)))?.message).toBe('bad.cache: 2 entries do not fit the file (39 bytes) (at byte offset 12)');
    // One entry ending at the end of the file: it reads, and its strings are outside.
    const one = oldCache(1, Buffer.alloc(12));
    one.writeInt32LE(0x0303, 16);
    const c = parse(one);
    expect(c.size).toBe(1);
    expect(thrown(() => c.lookup('libx.so.1', X86_64))).toBe('ldcache.bad-format: test.cache: string offset 0 is outside the file (at byte offset 20)');
  });

  it('reads a key of 4096 bytes and rejects one of 4097, or one without its NUL', () => {
    const long = (n: number): Buffer => newCache([{ key: 'k'.repeat(n), value: '/v' }]);
    expect(parse(long(4096)).entries[0]!.key).toHaveLength(4096);
    const over = parse(long(4097));
    // The key starts after the header and the one entry.
    expect(thrown(() => over.entries)).toBe('ldcache.bad-format: test.cache: unterminated or overlong string (at byte offset 72)');
    expect(thrown(() => over.lookup('k', X86_64))).toBe('ldcache.bad-format: test.cache: unterminated or overlong string (at byte offset 72)');
    const cut = newCache(two);
    const unterminated = parse(cut.subarray(0, cut.length - 1));
    expect(unterminated.lookup('libtwo.so.2', X86_64)?.value).toBe('/opt/libtwo.so.2');
    expect(thrown(() => unterminated.entries)).toBe(`ldcache.bad-format: test.cache: unterminated or overlong string (at byte offset ${cut.length - '/opt/libtwo.so.1'.length - 1})`);
  });
});

describe('_dl_cache_libcmp on a span of a larger buffer', () => {
  it('compares only the bytes of the span, even when digits follow it', () => {
    const b = Buffer.from('libfoo.so.12');
    // [0, 11) is "libfoo.so.1": equal to it, less than "libfoo.so.2".
    expect(libcmp(Buffer.from('libfoo.so.1'), b, 0, 11)).toBe(0);
    expect(Math.sign(libcmp(Buffer.from('libfoo.so.2'), b, 0, 11))).toBe(1);
    expect(Math.sign(libcmp(Buffer.from('libfoo.so.12'), b, 0, 11))).toBe(1);
    expect(Math.sign(libcmp(Buffer.from('libfoo.so.9'), Buffer.from('libfoo.so.10'), 0, 12))).toBe(-1);
    expect(Math.sign(libcmp(Buffer.from('libfoo.so.9'), Buffer.from('libfoo.so.8'), 0, 11))).toBe(1);
  });
});
