// ld.so.cache in all three layouts glibc's ldconfig writes, compared with what `ldconfig -p`
// prints for the same file; lookups by architecture flags; hostile caches.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OsvError } from '../../src/diagnostics/error.js';
import { archFacts } from '../../src/resolve/arch.js';
import { libcmp, parseLdCache, type LdCache } from '../../src/resolve/ldcache.js';
import { lacks } from '../helpers/skip.js';
import { gccM32, hasGcc } from '../helpers/tools.js';

const X86_64 = archFacts.x86_64.cacheFlags;
const I386 = [0x0003];
const hasLdconfig = spawnSync('ldconfig', ['--version']).status === 0;
const hostCache = '/etc/ld.so.cache';
if (!hasLdconfig) console.warn('skipped: ldconfig is not installed; caches cannot be generated or printed');
if (!existsSync(hostCache)) console.warn('skipped: this machine has no /etc/ld.so.cache');

/** `ldconfig -p` entries of a cache file: [soname, path] in the file's order. */
function ldconfigP(cache: string): Array<[string, string]> {
  const out = spawnSync('ldconfig', ['-p', '-C', cache], { encoding: 'utf8' }).stdout;
  return [...out.matchAll(/^\t(\S+) \(([^)]*)\) => (.*)$/gm)].map((m) => [m[1]!, m[3]!]);
}

function parse(buf: Buffer): LdCache {
  const r = parseLdCache(buf, 'test.cache');
  if (!r.ok) throw new Error(r.error.message);
  return r.value;
}

describe('_dl_cache_libcmp order', () => {
  const cmp = (a: string, b: string): number => Math.sign(libcmp(Buffer.from(a), Buffer.from(b), 0, Buffer.byteLength(b)));
  it('compares digit runs as numbers and sorts digits after other bytes', () => {
    expect(cmp('libfoo.so.10', 'libfoo.so.9')).toBe(1);
    expect(cmp('libz3.so.4', 'libz3.so')).toBe(1);
    expect(cmp('libc.so.6', 'libc.so.6')).toBe(0);
    expect(cmp('liba1.so', 'liba.so')).toBe(1);
    expect(cmp('libA.so', 'liba.so')).toBe(-1);
  });
});

describe.runIf(hasLdconfig && existsSync(hostCache))('this machine’s /etc/ld.so.cache', () => {
  it('has the entries ldconfig -p prints, and every soname is found by binary search', () => {
    const c = parse(readFileSync(hostCache));
    const theirs = ldconfigP(hostCache);
    console.log(`ld.so.cache: ${c.format} format, ${c.size} entries compared with ldconfig -p`);
    expect(c.entries.map((e) => [e.key, e.value])).toEqual(theirs);
    for (const e of c.entries) {
      const hit = c.lookup(e.key, [e.flags]);
      expect(hit?.key).toBe(e.key);
    }
    expect(c.lookup('libc.so.6', X86_64)?.value).toMatch(/libc\.so\.6$/);
    expect(c.lookup('libc.so.6', I386)).toBeUndefined();
    expect(c.lookup('libnot-there.so.1', X86_64)).toBeUndefined();
  });
});

if (!hasGcc) console.warn('skipped: gcc is not installed; no test library for the generated caches');

describe.runIf(hasLdconfig && hasGcc)('caches written by ldconfig in each format', () => {
  let dir = '';
  let root = '';
  const m32 = gccM32();
  // As root, ldconfig -r chroots into a tree holding only our libraries (fast); otherwise it
  // also scans this machine's trusted directories.
  const chroot = process.getuid?.() === 0;
  /** Where a library of the tree appears in the cache. */
  const inCache = (p: string): string => (chroot ? p : join(root, p));
  /** ldconfig arguments that write, or print, the cache `name`. */
  const ldconfig = (name: string, extra: string[]): string[] =>
    chroot ? [...extra, '-r', root, '-C', `/${name}`] : [...extra, '-C', join(root, name), '-f', join(dir, 'host.conf')];
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'osv-ldcache-'));
    root = join(dir, 'root');
    mkdirSync(join(root, 'd64'), { recursive: true });
    mkdirSync(join(root, 'd32'));
    mkdirSync(join(root, 'etc'));
    // A 64-bit and (when gcc can) a 32-bit library with one soname.
    writeFileSync(join(dir, 'w.c'), 'int w(void) { return 32; }\n');
    const so = (extra: string[], out: string): void => {
      spawnSync('gcc', [...extra, '-shared', '-nostdlib', '-fPIC', '-Wl,-soname,libosvtest.so.1', join(dir, 'w.c'), '-o', out]);
    };
    so([], join(root, 'd64', 'libosvtest.so.1'));
    if (m32) so(['-m32'], join(root, 'd32', 'libosvtest.so.1'));
    writeFileSync(join(root, 'etc', 'ld.so.conf'), '/d32\n/d64\n');
    writeFileSync(join(dir, 'host.conf'), `${join(root, 'd32')}\n${join(root, 'd64')}\n`);
    if (!chroot) console.warn('note: not root, so ldconfig cannot chroot; the generated caches include this machine\'s libraries');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** Write the cache in `format` with ldconfig, parse it, and compare it with what `ldconfig -p` prints. */
  const written = (format: 'new' | 'old' | 'compat'): LdCache => {
    const name = `cache.${format}`;
    // -X: leave the library links alone.
    const r = spawnSync('ldconfig', ldconfig(name, ['-X', '-c', format]), { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const c = parse(readFileSync(join(root, name)));
    expect(c.format).toBe(format);
    const printed = spawnSync('ldconfig', ldconfig(name, ['-p']), { encoding: 'utf8' }).stdout;
    expect(c.entries.map((e) => [e.key, e.value])).toEqual([...printed.matchAll(/^\t(\S+) \(([^)]*)\) => (.*)$/gm)].map((m) => [m[1]!, m[3]!]));
    return c;
  };

  it.each(['new', 'old', 'compat'] as const)('%s', (format) => {
    const c = written(format);
    const ours = c.entries.filter((e) => e.key === 'libosvtest.so.1');
    expect(ours.find((e) => e.flags === 0x0303)?.value).toBe(inCache('/d64/libosvtest.so.1'));
    expect(c.lookup('libosvtest.so.1', X86_64)?.value).toBe(inCache('/d64/libosvtest.so.1'));
  });

  it.skipIf(lacks('32-bit ld.so.cache entries', [m32, 'gcc -m32 cannot build a 32-bit library here (Debian: gcc-multilib)']))('every format: a 32-bit library of the same soname is recorded with i386 flags, and x86-64 lookups pass it by', () => {
    for (const format of ['new', 'old', 'compat'] as const) {
      const c = written(format);
      // ldconfig records an i386 library without the x86-64 bits: 0x0003, or FLAG_ELF (0x0001)
      // when it does not link libc, as here. x86-64 ld.so accepts only 0x0303.
      const e32 = c.entries.find((e) => e.key === 'libosvtest.so.1' && e.value.includes('/d32/'));
      expect(e32, format).toBeDefined();
      expect([0x0001, 0x0003]).toContain(e32!.flags);
      expect(c.lookup('libosvtest.so.1', [e32!.flags])?.value).toBe(inCache('/d32/libosvtest.so.1'));
      expect(c.lookup('libosvtest.so.1', X86_64)?.value).toBe(inCache('/d64/libosvtest.so.1'));
    }
  });

  it('rejects truncated and mutated caches with ldcache.bad-format, never a crash', () => {
    // The host's cache: hundreds of real entries to mutate.
    const orig = readFileSync(existsSync(hostCache) ? hostCache : join(root, 'cache.new'));
    let seed = 12345;
    const rand = (): number => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
    let bad = 0;
    for (let n = 0; n < 600; n++) {
      const b = n < 200 ? orig.subarray(0, Math.floor(rand() * Math.min(orig.length, 4096))) : Buffer.from(orig);
      if (n >= 200) for (let k = 0; k < 4; k++) b.writeUInt32LE(rand() < 0.5 ? Math.floor(rand() * 2 ** 32) : 0xffffffff, Math.floor(rand() * Math.min(b.length - 4, 20000)));
      const r = parseLdCache(b, 'fuzz.cache');
      if (!r.ok) {
        expect(r.error.code).toBe('ldcache.bad-format');
        bad++;
        continue;
      }
      try {
        r.value.lookup('libc.so.6', X86_64);
        r.value.lookup('libosvtest.so.1', X86_64);
        void r.value.entries.length;
      } catch (e) {
        expect(e).toBeInstanceOf(OsvError);
        expect((e as OsvError).code).toBe('ldcache.bad-format');
      }
    }
    expect(bad).toBeGreaterThan(100);
  });
});
