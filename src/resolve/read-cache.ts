// What the resolver reads of each ELF file (its class, byte order and machine, its dynamic
// section's facts, its kind and interpreter), kept by file identity: in a fresh process, where
// all code is cold, reading and decoding the headers of curl's 33 objects took 15 ms of
// `osv resolve`'s 40, and of the python example's 75 objects 12 ms of `osv plan`'s.
// One file per directory of objects, $XDG_CACHE_HOME/osv-up/elf/<hash of the directory>.json
// (default ~/.cache), so that a closure reads a few files (python's 60 extension modules share
// one) rather than one per object. An entry counts only for a file of the same device, inode,
// size, mtime and ctime (an edit moves the ctime even when the mtime is put back). Data only,
// checked field by field when read: a damaged or foreign entry is a miss, never code; a failed
// write only costs time. Only what was read in full is kept (an ELF file of a class, byte order
// and machine the resolver knows), so an entry holds for any target. Not kept:
// - a file changed less than two seconds before it was read: a file system whose times move in
//   coarse steps could give a second change within the same step the same times ("racy git");
// - a file of device 0 (a container image's view has no devices: its inodes are not unique
//   across images);
// and a file written by another build of osv is not read (its ELF reader may have differed).

import * as fs from 'node:fs';
import * as path from 'node:path';
import { makeDirs, writeFileAtomic } from '../atomic.js';
import type { ElfKind } from '../elf/classify.js';
import type { DynamicInfo } from '../elf/dynamic.js';
import type { FileHeader } from '../elf/file.js';
import type { HostStat } from '../hostfs.js';
import { fnv1a64 } from '../fnv.js';
import { cacheRoot } from '../kernel/cache.js';
import { sourceId } from '../source-id.js';
import { readOwnedJson } from '../owned-file.js';

/** The header fields the resolver decides by. */
export type ElfIdent = Pick<FileHeader, 'class' | 'data' | 'machine'>;

/** An ELF file as far as the resolver needs it. */
export interface ElfRead {
  header: ElfIdent;
  dyn: DynamicInfo;
  kind: ElfKind;
  interp: string | undefined;
}

/**
 * Read by the resolver (read, record); written by the command that made it (flush), once its
 * work is done: the core writes nothing.
 */
export interface ElfReadCache {
  /** What was read from the host file `file`, whose lstat is `st`, when an entry for its identity is kept. */
  read(file: string, st: HostStat): ElfRead | undefined;
  /** Keep what was read from the host file `file`, whose lstat is `st` (written by flush). */
  record(file: string, st: HostStat, read: ElfRead): void;
  /** Write what was recorded. */
  flush(): void;
}

export const noElfReadCache: ElfReadCache = { read: () => undefined, record: () => undefined, flush: () => undefined };

/** Bump when what is kept, or how it is read from an ELF file, changes. */
const FORMAT = 1;

const KINDS: readonly unknown[] = ['pie', 'pde', 'shared-library', 'static', 'static-pie'] satisfies ElfKind[];

interface Entry {
  dev: number;
  ino: number;
  size: number;
  mtimeMs: number;
  ctimeMs: number;
  class: number;
  data: number;
  machine: number;
  kind: ElfKind;
  interp: string | null;
  needed: string[];
  soname: string | null;
  rpath: string | null;
  runpath: string | null;
  flags: number;
  flags1: number;
  dynamic: boolean;
}

/** A directory's file: its entries by file name. */
interface DirFile {
  format: number;
  /** The osv that wrote it (src/source-id.ts), 'source' when run from its TypeScript. */
  source: string;
  dir: string;
  entries: Record<string, unknown>;
}

const isStrOrNull = (x: unknown): x is string | null => x === null || typeof x === 'string';
const isU32 = (x: unknown): x is number => Number.isInteger(x) && (x as number) >= 0 && (x as number) <= 0xffffffff;
const isNum = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);

function isEntry(e: unknown): e is Entry {
  if (typeof e !== 'object' || e === null) return false;
  const x = e as Record<string, unknown>;
  return (
    isNum(x['dev']) &&
    isNum(x['ino']) &&
    isNum(x['size']) &&
    isNum(x['mtimeMs']) &&
    isNum(x['ctimeMs']) &&
    isU32(x['class']) &&
    isU32(x['data']) &&
    isU32(x['machine']) &&
    KINDS.includes(x['kind']) &&
    isStrOrNull(x['interp']) &&
    Array.isArray(x['needed']) &&
    x['needed'].every((n) => typeof n === 'string') &&
    isStrOrNull(x['soname']) &&
    isStrOrNull(x['rpath']) &&
    isStrOrNull(x['runpath']) &&
    isU32(x['flags']) &&
    isU32(x['flags1']) &&
    typeof x['dynamic'] === 'boolean'
  );
}

const entryOf = (st: HostStat, r: ElfRead): Entry => ({
  dev: st.dev,
  ino: st.ino,
  size: st.size,
  mtimeMs: st.mtimeMs,
  ctimeMs: st.ctimeMs,
  class: r.header.class,
  data: r.header.data,
  machine: r.header.machine,
  kind: r.kind,
  interp: r.interp ?? null,
  needed: r.dyn.needed,
  soname: r.dyn.soname ?? null,
  rpath: r.dyn.rpath ?? null,
  runpath: r.dyn.runpath ?? null,
  flags: r.dyn.flags,
  flags1: r.dyn.flags1,
  dynamic: r.dyn.dynamic,
});

const readOf = (e: Entry): ElfRead => ({
  header: { class: e.class, data: e.data, machine: e.machine },
  dyn: { needed: e.needed, soname: e.soname ?? undefined, rpath: e.rpath ?? undefined, runpath: e.runpath ?? undefined, flags: e.flags, flags1: e.flags1, dynamic: e.dynamic },
  kind: e.kind,
  interp: e.interp ?? undefined,
});

export const defaultElfReadCacheDir = (env: NodeJS.ProcessEnv = process.env): string => path.join(cacheRoot(env), 'elf');

/** How long after its last change a file's entry may be kept (see the top). */
const SETTLED_MS = 2000;

/** A cache in a directory (created on first write). `now` and `source` are for tests. */
export function fileElfReadCache(root: string = defaultElfReadCacheDir(), now: () => number = Date.now, source: string = sourceId ?? 'source'): ElfReadCache {
  // The directory's path is kept in its file too (DirFile.dir): a name shared by two is a miss.
  const fileOf = (dir: string): string => path.join(root, `${fnv1a64(dir)}.json`);
  /** Each directory's entries as kept on disk, read once per process. */
  const loaded = new Map<string, Record<string, unknown>>();
  const pending = new Map<string, Map<string, Entry>>();
  const load = (dir: string): Record<string, unknown> => {
    let table = loaded.get(dir);
    if (table) return table;
    table = {};
    // none yet, unreadable or another user's: every object is read from its file
    const f = readOwnedJson(fileOf(dir)) as Partial<DirFile> | null | undefined;
    if (typeof f === 'object' && f !== null && f.format === FORMAT && f.source === source && f.dir === dir && typeof f.entries === 'object' && f.entries !== null && !Array.isArray(f.entries)) table = f.entries;
    loaded.set(dir, table);
    return table;
  };
  return {
    read(file, st) {
      if (st.dev === 0) return undefined;
      const table = load(path.dirname(file));
      const name = path.basename(file);
      const e = Object.hasOwn(table, name) ? table[name] : undefined;
      if (!isEntry(e) || e.dev !== st.dev || e.ino !== st.ino || e.size !== st.size || e.mtimeMs !== st.mtimeMs || e.ctimeMs !== st.ctimeMs) return undefined;
      return readOf(e);
    },
    record(file, st, r) {
      if (st.dev === 0 || now() - Math.max(st.mtimeMs, st.ctimeMs) < SETTLED_MS) return;
      const dir = path.dirname(file);
      let m = pending.get(dir);
      if (!m) pending.set(dir, (m = new Map()));
      m.set(path.basename(file), entryOf(st, r));
    },
    flush() {
      if (pending.size === 0) return;
      try {
        makeDirs(root);
      } catch {
        pending.clear();
        return; // a read-only cache only costs time
      }
      for (const [dir, m] of pending) {
        // What another process kept meanwhile stays, unless this one read the same file anew.
        loaded.delete(dir);
        const entries = { ...load(dir), ...Object.fromEntries(m) };
        loaded.set(dir, entries);
        try {
          writeFileAtomic(fileOf(dir), JSON.stringify({ format: FORMAT, source, dir, entries } satisfies DirFile));
        } catch {
          // something in the way: read from the files next time
        }
      }
      pending.clear();
    },
  };
}
