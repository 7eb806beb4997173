// The quantities every printer shares: byte sizes and counted nouns ("1 layer", "2 layers").

import { describe, expect, it } from 'vitest';
import { formatBytes, plural } from '../src/units.js';

describe('plural', () => {
  it('counts a noun: one, none, many; -y after a consonant becomes -ies; an irregular plural is given', () => {
    expect([0, 1, 2].map((n) => plural(n, 'layer'))).toEqual(['0 layers', '1 layer', '2 layers']);
    expect([1, 3].map((n) => plural(n, 'library'))).toEqual(['1 library', '3 libraries']);
    expect(plural(2, 'directory entry')).toBe('2 directory entries');
    expect(plural(2, 'key')).toBe('2 keys');
    expect(plural(2, 'version mismatch', 'version mismatches')).toBe('2 version mismatches');
    expect(plural(1, 'version mismatch', 'version mismatches')).toBe('1 version mismatch');
  });
});

describe('formatBytes', () => {
  it('bytes below 1 KiB, one decimal below 10 units, binary units up to TiB', () => {
    expect([0, 1023, 1024, 1536, 10 * 1024, 11.5 * 2 ** 20, 3 * 2 ** 40, 2 ** 50].map(formatBytes)).toEqual(['0 B', '1023 B', '1.0 KiB', '1.5 KiB', '10 KiB', '12 MiB', '3.0 TiB', '1024 TiB']);
  });
});
