// What the check reads from each ELF object, kept by file identity, so that checking an image
// whose files have not changed does not read and decode their symbol tables again (in a fresh
// process, where all code is cold, that was half of `osv plan`'s time). Under
// $XDG_CACHE_HOME/osv-up/objects/<dev>-<ino>.json (default ~/.cache): the object's dynamic
// facts (soname, kind, DT_NEEDED, search path), the symbols it needs and the definitions it
// exports. An entry counts only for a file of the same size, mtime and ctime (an edit moves the
// ctime even when the mtime is put back), written by this very build of osv (another's ELF
// reader may have differed). Data only, checked field by field when read: a damaged or foreign
// entry is a miss, never code; a failed write only costs time.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { makeDirs, writeFileAtomic } from '../atomic.js';
import type { ElfKind } from '../elf/classify.js';
import type { HostStat } from '../hostfs.js';
import type { DefVersion, Need, ObjectSymbols } from './object-symbols.js';
import { sourceId } from '../source-id.js';
import { defaultSymbolCacheDir } from './symbol-cache.js';
import type { BindClass, SymbolKind } from './types.js';
import { readOwnedJson } from '../owned-file.js';

/** What image.ts reads from an object's dynamic section. */
export interface ObjectFacts {
  soname: string | undefined;
  kind: ElfKind;
  needed: string[];
  /** DT_RUNPATH, else DT_RPATH, as written ($ORIGIN not replaced). */
  searchPath: string | undefined;
}

export interface ObjectCache {
  /** The facts and symbols of the file `st` describes, when an entry for its identity is kept. */
  read(st: HostStat): { facts: ObjectFacts; symbols: ObjectSymbols } | undefined;
  /** Keep what was read from the file `st` describes (written by flush). */
  record(st: HostStat, facts: ObjectFacts, symbols: ObjectSymbols): void;
  /** Write what was recorded. */
  flush(): void;
}

export const noObjectCache: ObjectCache = { read: () => undefined, record: () => undefined, flush: () => undefined };

/** Bump when what is kept, or how it is read from an ELF file, changes. */
const FORMAT = 1;

const KINDS: readonly unknown[] = ['pie', 'pde', 'shared-library', 'static', 'static-pie'] satisfies ElfKind[];
const SYMBOL_KINDS: readonly SymbolKind[] = ['function', 'data', 'tls', 'unknown'];
const BINDS: readonly BindClass[] = ['copy', 'tls', 'load', 'plt', 'none'];

/**
 * An entry as written. Names are kept as one string each list, joined by newlines (an object
 * with a newline in a symbol name is not kept), and the rest as small numbers: that parses
 * several times faster than a list per symbol, and an entry is read at every check.
 */
interface Entry {
  format: number;
  /** The osv that wrote it (src/source-id.ts; 'source' when run from its TypeScript): another's ELF reader may have differed. */
  source: string;
  size: number;
  mtimeMs: number;
  ctimeMs: number;
  soname: string | null;
  kind: ElfKind;
  needed: string[];
  searchPath: string | null;
  /** Version names and library names the symbols below refer to by index (0: none). */
  strings: string[];
  /** The needed symbols' names; four numbers each in needInfo: kind, bind, version, library. */
  needNames: string;
  needInfo: number[];
  /** The exported definitions' names; two numbers each in defInfo: version, hidden (1) or not (0). */
  defNames: string;
  defInfo: number[];
}

const isStr = (x: unknown): x is string => typeof x === 'string';
const isStrOrNull = (x: unknown): boolean => x === null || typeof x === 'string';
const names = (joined: string): string[] => (joined === '' ? [] : joined.split('\n'));

/** Every number an index below `limits[i % limits.length]` (the caller checks the length). */
function indexes(xs: unknown, limits: number[]): boolean {
  if (!Array.isArray(xs)) return false;
  for (let i = 0; i < xs.length; i++) {
    const x: unknown = xs[i];
    if (!Number.isInteger(x) || (x as number) < 0 || (x as number) >= limits[i % limits.length]!) return false;
  }
  return true;
}

function isEntry(x: unknown): x is Entry {
  if (typeof x !== 'object' || x === null) return false;
  const e = x as Record<string, unknown>;
  // (size, mtimeMs and ctimeMs are compared with the file's own by the reader.)
  if (e['format'] !== FORMAT) return false;
  if (!isStrOrNull(e['soname']) || !isStrOrNull(e['searchPath']) || !KINDS.includes(e['kind'])) return false;
  if (!Array.isArray(e['needed']) || !e['needed'].every(isStr) || !Array.isArray(e['strings']) || !e['strings'].every(isStr)) return false;
  if (!isStr(e['needNames']) || !isStr(e['defNames'])) return false;
  const n = e['strings'].length;
  return (
    indexes(e['needInfo'], [SYMBOL_KINDS.length, BINDS.length, n, n]) &&
    (e['needInfo'] as number[]).length === names(e['needNames']).length * 4 &&
    indexes(e['defInfo'], [n, 2]) &&
    (e['defInfo'] as number[]).length === names(e['defNames']).length * 2
  );
}

function symbolsOf(e: Entry): ObjectSymbols {
  const str = (i: number): string | undefined => (i === 0 ? undefined : e.strings[i]);
  const needs = names(e.needNames).map((name, i): Need => {
    const [kind, bind, version, from] = e.needInfo.slice(i * 4, i * 4 + 4) as [number, number, number, number];
    const n: Need = { name, kind: SYMBOL_KINDS[kind]!, bind: BINDS[bind]! };
    if (version !== 0) n.version = str(version);
    if (from !== 0) n.from = str(from);
    return n;
  });
  const index = new Map<string, DefVersion[]>();
  names(e.defNames).forEach((name, i) => {
    const d: DefVersion = { version: str(e.defInfo[i * 2]!), hidden: e.defInfo[i * 2 + 1] === 1 };
    const list = index.get(name);
    if (list) list.push(d);
    else index.set(name, [d]);
  });
  return { needs, definitions: () => index, defsOf: (name) => index.get(name) };
}

/** The entry for an object, or undefined when a name cannot be kept (it holds a newline). */
function entryOf(st: HostStat, facts: ObjectFacts, symbols: ObjectSymbols, source: string): Entry | undefined {
  const strings = [''];
  const at = new Map<string, number>();
  const ref = (s: string | undefined): number => {
    if (s === undefined) return 0;
    let i = at.get(s);
    if (i === undefined) at.set(s, (i = strings.push(s) - 1));
    return i;
  };
  const needNames: string[] = [];
  const needInfo: number[] = [];
  for (const n of symbols.needs) {
    needNames.push(n.name);
    needInfo.push(SYMBOL_KINDS.indexOf(n.kind), BINDS.indexOf(n.bind), ref(n.version), ref(n.from));
  }
  const defNames: string[] = [];
  const defInfo: number[] = [];
  for (const [name, list] of symbols.definitions()) {
    for (const d of list) {
      defNames.push(name);
      defInfo.push(ref(d.version), d.hidden ? 1 : 0);
    }
  }
  if ([...needNames, ...defNames].some((name) => name.includes('\n') || name === '')) return undefined;
  return {
    format: FORMAT,
    source,
    size: st.size,
    mtimeMs: st.mtimeMs,
    ctimeMs: st.ctimeMs,
    soname: facts.soname ?? null,
    kind: facts.kind,
    needed: facts.needed,
    searchPath: facts.searchPath ?? null,
    strings,
    needNames: needNames.join('\n'),
    needInfo,
    defNames: defNames.join('\n'),
    defInfo,
  };
}

export const defaultObjectCacheDir = (env: Record<string, string | undefined> = process.env): string => path.join(path.dirname(defaultSymbolCacheDir(env)), 'objects');

/** A cache in a directory (created on first write). */
export function fileObjectCache(dir: string = defaultObjectCacheDir(), source: string = sourceId ?? 'source'): ObjectCache {
  const fileOf = (st: HostStat): string => path.join(dir, `${st.dev}-${st.ino}.json`);
  const pending: Array<[file: string, entry: () => Entry | undefined]> = [];
  return {
    read(st) {
      const e = readOwnedJson(fileOf(st));
      if (!isEntry(e) || e.source !== source || e.size !== st.size || e.mtimeMs !== st.mtimeMs || e.ctimeMs !== st.ctimeMs) return undefined;
      return { facts: { soname: e.soname ?? undefined, kind: e.kind, needed: e.needed, searchPath: e.searchPath ?? undefined }, symbols: symbolsOf(e) };
    },
    record(st, facts, symbols) {
      pending.push([fileOf(st), () => entryOf(st, facts, symbols, source)]);
    },
    flush() {
      for (const [file, entry] of pending.splice(0)) {
        let e: Entry | undefined;
        try {
          e = entry();
        } catch {
          // a symbol table that cannot be indexed: e stays undefined
        }
        if (!e) continue; // read from the file next time too
        try {
          makeDirs(dir);
          writeFileAtomic(file, JSON.stringify(e));
        } catch {
          // a read-only cache, or something in the way of one entry, only costs time
        }
      }
    },
  };
}
