// The name index the kernel's exports are kept in (name-index.ts): a set of names answered
// through an open-addressing table. Built ones are tested through every check against a
// kernel; here the cases a built table does not produce but a damaged cache file can (a full
// table, a table whose size is not a power of two), and names that are the beginning of
// another or are not ASCII.

import { describe, expect, it } from 'vitest';
import { buildNameIndex, NameIndex } from '../../src/check/name-index.js';
import { gnuHash, symbolName } from '../../src/elf/symbol-table.js';

const has = (index: NameIndex, name: string): boolean => index.has(symbolName(name), gnuHash(name));

describe('NameIndex', () => {
  it('holds exactly the names it was built from, not their beginnings or extensions, ASCII or not', () => {
    const names = ['memcpy', 'memset', 'strlen', 'größe', '_ZNSt6vectorIiSaIiEE9push_backERKi', ...Array.from({ length: 300 }, (_, i) => `sym_${i}`)];
    const index = new NameIndex(buildNameIndex(names));
    for (const n of names) expect(has(index, n), n).toBe(true);
    for (const n of ['mem', 'memcpy_', 'memcp', 'gröߟ', 'größ', 'sym_300', 'sym_', '', 'strlen\n']) expect(has(index, n), n).toBe(false);
  });

  it('answers no for a name whose slot holds a longer name it begins', () => {
    // One name, "memcpy", in the slot where "mem" is looked for first.
    const names = Buffer.from('memcpy\n');
    const table = new Uint32Array(16);
    table[gnuHash('mem') & 15] = 1;
    const index = new NameIndex({ names, table });
    expect(has(index, 'mem')).toBe(false);
  });

  it('searches a full table (a damaged cache file) to its last slot, and ends', () => {
    // Every slot holds "other" except the last one probed for "wanted".
    const names = Buffer.from('other\nwanted\n');
    const table = new Uint32Array(16).fill(1);
    table[(gnuHash('wanted') + 15) & 15] = 7;
    const index = new NameIndex({ names, table });
    expect(has(index, 'wanted')).toBe(true);
    expect(has(index, 'absent')).toBe(false);
    expect(has(index, 'other')).toBe(true);
  });

  it('refuses a table whose size is not a power of two', () => {
    const names = Buffer.from('a\n');
    for (const size of [0, 3, 12]) expect(() => new NameIndex({ names, table: new Uint32Array(size) }), String(size)).toThrow('name index: table size is not a power of two');
    expect(() => new NameIndex({ names, table: new Uint32Array(1) })).not.toThrow();
  });
});
