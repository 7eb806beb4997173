// Thousands of truncated and byte-mutated copies of real ELF files through every reader
// entry point: each must either parse or fail with an ElfError, never anything else, never
// hang, never ask for more than the caps allow.

import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { classify, dynamicInfo, dynamicSymbols, ElfError, ElfFile, LIMITS, versionDefs, versionNeeds, versionSymbols } from '../../src/elf/index.js';
import { MemFile } from './craft.js';

const candidates = ['/usr/bin/curl', '/lib/x86_64-linux-gnu/libz.so.1', '/lib/x86_64-linux-gnu/libcurl.so.4', '/lib64/ld-linux-x86-64.so.2'];
const files = candidates.filter((f) => existsSync(f));
if (files.length === 0) console.warn('skipped: none of the sample ELF files exist on this machine');

/** mulberry32: a small deterministic PRNG, so a failure reproduces. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Byte ranges the reader interprets (headers, tables), where mutations matter most. */
function hotRanges(buf: Buffer): Array<[number, number]> {
  const f = ElfFile.fromHandle(new MemFile('x', buf));
  const r: Array<[number, number]> = [[0, 64]];
  r.push([f.header.phoff, f.header.phnum * f.header.phentsize]);
  r.push([f.header.shoff, f.header.shnum * f.header.shentsize]);
  for (const p of f.progs) if (p.type === 2 || p.type === 3) r.push([p.off, p.filesz]);
  for (const s of f.sections()) if (['.dynsym', '.gnu.version', '.gnu.version_r', '.gnu.version_d', '.shstrtab'].includes(s.name)) r.push([s.offset, Math.min(s.size, 4096)]);
  return r.filter(([o, l]) => l > 0 && o + l <= buf.length);
}

/** Every reader entry point on one buffer; returns 'ok' or the ElfError code. */
function exercise(buf: Buffer): string {
  const mf = new MemFile('/fuzz/elf', buf);
  const guard = mf.read.bind(mf);
  mf.read = (o, l) => {
    if (l > LIMITS.maxTableBytes) throw new Error(`read of ${l} bytes exceeds the cap`);
    return guard(o, l);
  };
  try {
    const f = ElfFile.fromHandle(mf);
    const d = dynamicInfo(f);
    classify(f, d);
    f.interpreter();
    f.sections();
    dynamicSymbols(f);
    versionSymbols(f);
    versionNeeds(f);
    versionDefs(f);
    return 'ok';
  } catch (e) {
    if (e instanceof ElfError && e.code.startsWith('elf.') && e.message.includes('/fuzz/elf')) return e.code;
    throw e;
  }
}

describe.runIf(files.length > 0)('ELF reader robustness', () => {
  it('survives truncated and mutated copies of real binaries with typed errors only', () => {
    const rand = prng(0x05e1f);
    const codes = new Map<string, number>();
    const count = (c: string): void => void codes.set(c, (codes.get(c) ?? 0) + 1);
    let cases = 0;
    const started = Date.now();
    for (const path of files) {
      const orig = readFileSync(path);
      expect(exercise(orig)).toBe('ok');
      const hot = hotRanges(orig);
      // Truncations: every header boundary region densely, then random lengths.
      for (let n = 0; n < 300; n++) {
        const len = n < 100 ? n : n < 200 ? Math.floor(rand() * Math.min(orig.length, 16384)) : Math.floor(rand() * orig.length);
        count(exercise(orig.subarray(0, len)));
        cases++;
      }
      // Mutations: 1-8 changes each, mostly inside the interpreted tables, made in one working
      // copy and undone after each case (copying a whole library thousands of times is slow).
      const b = Buffer.from(orig);
      for (let n = 0; n < 700; n++) {
        const changes = 1 + Math.floor(rand() * 8);
        const touched: number[] = [];
        for (let k = 0; k < changes; k++) {
          let at: number;
          if (rand() < 0.8) {
            const [o, l] = hot[Math.floor(rand() * hot.length)]!;
            at = o + Math.floor(rand() * l);
          } else at = Math.floor(rand() * b.length);
          const kind = rand();
          touched.push(at, at + 1, at + 2, at + 3);
          if (kind < 0.5) b[at] = Math.floor(rand() * 256);
          else if (kind < 0.8 && at + 4 <= b.length) b.writeUInt32LE([0xffffffff, 0x7fffffff, 0x80000000, 0, 1, 0xffff][Math.floor(rand() * 6)]!, at);
          else b[at] = b[at]! ^ (1 << Math.floor(rand() * 8));
        }
        count(exercise(b));
        for (const t of touched) if (t < b.length) b[t] = orig[t]!;
        cases++;
      }
    }
    const elapsed = Date.now() - started;
    console.log(`robustness: ${cases} cases over ${files.length} files in ${elapsed} ms; outcomes ${JSON.stringify(Object.fromEntries([...codes].sort()))}`);
    expect(cases).toBeGreaterThanOrEqual(1000 * files.length);
    // Both outcomes occur: mutations that the reader accepts and ones it rejects.
    expect(codes.get('ok') ?? 0).toBeGreaterThan(0);
    expect(codes.get('elf.truncated') ?? 0).toBeGreaterThan(0);
  });
});
