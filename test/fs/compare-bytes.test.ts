// compareBytes orders names as their UTF-8 bytes do (LC_ALL=C sort), checked against Buffer.compare
// on names where UTF-16 order and byte order part ways (a surrogate pair against U+E000..U+FFFF),
// lone surrogates, prefixes and real directory names.

import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compareBytes } from '../../src/hostfs.js';

const byBytes = (a: string, b: string): number => Buffer.compare(Buffer.from(a), Buffer.from(b));
const sign = (n: number): number => Math.sign(n);

const NAMES = ['', 'a', 'A', 'ab', 'a.b', 'a-b', 'a_b', 'Z', 'z', '~', '\u007f', '\u0080', 'é', 'e\u0301', '\u07ff', '\u0800', '\ud7ff', '\ue000', '\uffff', '\ufffd', '😀', 'a😀', 'a\uffff', 'a\ue000', '\ud83d', '\ude00', 'a\ud83d', 'a\ud83db', '\ud83d\ude00x', '\ud83d\ude01', 'x\u0000', 'x'];

describe('compareBytes', () => {
  it('agrees with a comparison of the UTF-8 bytes on every pair of awkward names', () => {
    let pairs = 0;
    for (const a of NAMES)
      for (const b of NAMES) {
        expect(sign(compareBytes(a, b)), `${JSON.stringify(a)} vs ${JSON.stringify(b)}`).toBe(sign(byBytes(a, b)));
        pairs++;
      }
    expect(pairs).toBe(NAMES.length ** 2);
  });

  it('puts an astral character after U+E000..U+FFFF, where UTF-16 order would put it before', () => {
    expect('😀' < '\uffff').toBe(true); // UTF-16 code units: the surrogate 0xD83D is smaller
    expect(compareBytes('😀', '\uffff')).toBeGreaterThan(0); // UTF-8: F0 9F 98 80 after EF BF BF
    expect(compareBytes('a😀', 'a\ue000')).toBeGreaterThan(0);
  });

  it('sorts real directories as a byte comparison does', () => {
    for (const dir of ['/usr/lib', '/usr/bin', '/etc']) {
      const names = readdirSync(dir);
      expect(names.length).toBeGreaterThan(0);
      expect([...names].sort(compareBytes)).toEqual([...names].sort(byBytes));
    }
  });
});
