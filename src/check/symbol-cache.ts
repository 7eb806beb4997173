// The kernel symbol cache, under $XDG_CACHE_HOME/osv-up/symbols/ (default ~/.cache), named by
// the kernel's sha256: <sha>.json holds what describes the kernel (machine, count, versioned
// names) and <sha>.names the name index in binary (header, table, names), read without
// parsing. The only thing the check writes. A missing, unreadable or damaged entry is a miss
// (the ELF is read again); a failed write is ignored (the next check reads the ELF again).

import * as fs from 'node:fs';
import { endianness, homedir } from 'node:os';
import * as path from 'node:path';
import { makeDirs, writeFileAtomic } from '../atomic.js';
import type { KernelExports } from './kernel-symbols.js';
import { readOwnedFile, readOwnedJson } from '../owned-file.js';

export interface SymbolCache {
  read(sha256: string): KernelExports | undefined;
  write(sha256: string, exports: KernelExports): void;
}

/** No caching (tests, or a read-only home). */
export const noSymbolCache: SymbolCache = { read: () => undefined, write: () => undefined };

export function defaultSymbolCacheDir(env: Record<string, string | undefined> = process.env): string {
  const base = env['XDG_CACHE_HOME'] && path.isAbsolute(env['XDG_CACHE_HOME']) ? env['XDG_CACHE_HOME'] : path.join(env['HOME'] || homedir(), '.cache');
  return path.join(base, 'osv-up', 'symbols');
}

const isSha = (s: string): boolean => /^[0-9a-f]{64}$/.test(s);

type Meta = Omit<KernelExports, 'index'>;

function validMeta(x: unknown, sha256: string): x is Meta {
  if (typeof x !== 'object' || x === null) return false;
  const o = x as Partial<Meta>;
  return o.format === 3 && o.sha256 === sha256 && typeof o.machine === 'number' && typeof o.count === 'number' && typeof o.versioned === 'object' && o.versioned !== null;
}

// <sha>.names: "OSVSYMS1", u32 table entries, u32 name bytes (little-endian), the table, the names.
const MAGIC = Buffer.from('OSVSYMS1');
const HEADER = 16;

function encodeIndex(e: KernelExports): Buffer {
  const head = Buffer.alloc(HEADER);
  MAGIC.copy(head);
  head.writeUInt32LE(e.index.table.length, 8);
  head.writeUInt32LE(e.index.names.length, 12);
  const table = Buffer.alloc(e.index.table.length * 4);
  e.index.table.forEach((v, i) => table.writeUInt32LE(v, i * 4));
  return Buffer.concat([head, table, e.index.names]);
}

function decodeIndex(b: Buffer): KernelExports['index'] | undefined {
  if (b.length < HEADER || !b.subarray(0, 8).equals(MAGIC)) return undefined;
  const entries = b.readUInt32LE(8);
  const nameBytes = b.readUInt32LE(12);
  if (HEADER + entries * 4 + nameBytes !== b.length) return undefined;
  const names = b.subarray(HEADER + entries * 4);
  const at = b.byteOffset + HEADER;
  // A view when the bytes are aligned and in the host's order (x86-64, AArch64), else a copy.
  if (endianness() === 'LE' && at % 4 === 0) return { table: new Uint32Array(b.buffer, at, entries), names };
  const table = new Uint32Array(entries);
  for (let i = 0; i < entries; i++) table[i] = b.readUInt32LE(HEADER + i * 4);
  return { table, names };
}

/**
 * A cache in a directory (created on first write). What it reads or writes it also keeps in
 * memory, so the checks of one process (plan, build, up) read the files once.
 */
export function fileSymbolCache(dir: string = defaultSymbolCacheDir()): SymbolCache {
  const file = (sha: string, ext: string): string => path.join(dir, `${sha}.${ext}`);
  const memo = new Map<string, KernelExports>();
  return {
    read(sha256) {
      if (!isSha(sha256)) return undefined;
      const hit = memo.get(sha256);
      if (hit) return hit;
      try {
        const meta = readOwnedJson(file(sha256, 'json'));
        if (!validMeta(meta, sha256)) return undefined;
        const names = readOwnedFile(file(sha256, 'names'));
        const index = names && decodeIndex(names);
        if (!index) return undefined;
        const e: KernelExports = { ...meta, index };
        memo.set(sha256, e);
        return e;
      } catch {
        return undefined;
      }
    },
    write(sha256, exports) {
      if (!isSha(sha256)) return;
      memo.set(sha256, exports);
      const { index: _index, ...meta } = exports;
      // The index first, then the description: a reader that finds the .json finds both.
      for (const [ext, data] of [
        ['names', encodeIndex(exports)],
        ['json', JSON.stringify(meta)],
      ] as const) {
        try {
          makeDirs(dir);
          writeFileAtomic(file(sha256, ext), data);
        } catch {
          return;
        }
      }
    },
  };
}
