// A set of symbol names that loads without materializing its names: the names' bytes, one per
// line, and an open-addressing table of their offsets keyed by the GNU hash. The kernel's
// 15,000 exports load from the symbol cache in about a millisecond this way; parsing them
// into a JSON array or a Set cost more than reading the ELF again (measured).

import { gnuHash, type SymbolName } from '../elf/symbol-table.js';

export interface NameIndexData {
  /** Every name, UTF-8, each followed by "\n". */
  names: Buffer;
  /** Power-of-two sized: 0 = empty slot, else (byte offset of the name + 1). */
  table: Uint32Array;
}

const NL = 0x0a;

export function buildNameIndex(list: string[]): NameIndexData {
  const names = Buffer.from(list.map((n) => `${n}\n`).join('')); // UTF-8
  let size = 16;
  while (size < list.length * 2) size *= 2;
  const table = new Uint32Array(size);
  for (let off = 0; off < names.length; ) {
    const end = names.indexOf(NL, off);
    let slot = gnuHash(names.subarray(off, end)) & (size - 1);
    while (table[slot] !== 0) slot = (slot + 1) & (size - 1);
    table[slot] = off + 1;
    off = end + 1;
  }
  return { names, table };
}

export class NameIndex {
  private readonly mask: number;
  constructor(private readonly data: NameIndexData) {
    const n = data.table.length;
    if (n === 0 || (n & (n - 1)) !== 0) throw new Error('name index: table size is not a power of two');
    this.mask = n - 1;
  }

  /** Whether `name` (see symbolName) with GNU hash `hash` is in the set. */
  has(name: SymbolName, hash: number): boolean {
    const t = this.data.table;
    for (let slot = hash & this.mask, probes = 0; probes <= this.mask; slot = (slot + 1) & this.mask, probes++) {
      const e = t[slot]!;
      if (e === 0) return false;
      if (this.nameAt(e - 1, name)) return true;
    }
    return false;
  }

  private nameAt(off: number, name: SymbolName): boolean {
    const b = this.data.names;
    const end = off + name.length;
    if (b[end] !== NL) return false; // past the end too (undefined)
    if (typeof name !== 'string') return b.compare(name, 0, name.length, off, end) === 0;
    for (let k = 0; k < name.length; k++) if (b[off + k] !== name.charCodeAt(k)) return false;
    return true;
  }
}
