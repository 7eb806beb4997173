// The image as OSv's loader will see it: the plan's ELF objects by guest path, and DT_NEEDED
// resolved inside the image the way OSv resolves it (facts doc §7; observed in core/elf.cc):
// a name already loaded (by path or soname, the kernel's own sonames included) is reused;
// else a name with a slash is a path; else the object's DT_RUNPATH (or, without one, its
// DT_RPATH, "$ORIGIN" replaced by its directory), then "/", then "/usr/lib".

import { posix } from 'node:path';
import type { Arch } from '../config/types.js';
import type { ElfKind } from '../elf/classify.js';
import { classify } from '../elf/classify.js';
import * as C from '../elf/constants.js';
import { dynamicInfo } from '../elf/dynamic.js';
import { isElfError, type ElfError } from '../elf/error.js';
import { ElfFile } from '../elf/file.js';
import type { HostFile, HostFs } from '../hostfs.js';
import type { HostFileEntry, Plan, PlanEntry, Provenance } from '../plan/types.js';
import { noObjectCache, type ObjectCache, type ObjectFacts } from './object-cache.js';
import { objectSymbols, type ObjectSymbols } from './object-symbols.js';

/** One loadable ELF object of the image. */
export interface ImageObject {
  guest: string;
  host: string;
  /** DT_SONAME, else the file name. */
  soname: string;
  hasSoname: boolean;
  kind: ElfKind;
  needed: string[];
  /** RUNPATH or RPATH directories with $ORIGIN replaced, as OSv searches them. */
  searchDirs: string[];
  /** Why the plan has it (its first reason). */
  why: Provenance | undefined;
  symbols: ObjectSymbols;
}

/** A plan file that looks like an ELF object but cannot be loaded or read. */
export interface Unreadable {
  guest: string;
  host: string;
  reason: string;
}

const { ELFMAG } = C;
const machineOf: Record<Arch, number> = { x86_64: C.EM_X86_64, aarch64: C.EM_AARCH64 };
const SO_NAME = /\.so(\.[0-9][0-9.]*)?$|\.so$/;

/** Files worth opening: ELF by provenance, a shared-object name, or an executable bit. */
function candidate(e: HostFileEntry): boolean {
  if ((e.mode ?? 0) & 0o111) return true;
  if (SO_NAME.test(e.guest)) return true;
  return e.why.some((w) => w.kind === 'needed' || (w.kind === 'config' && /^(executables|libraries|cmd|runs\.)/.test(w.key)));
}

/** An object of the image from what its file says; the guest path decides its search directories. */
function imageObject(e: HostFileEntry, facts: ObjectFacts, symbols: ObjectSymbols): ImageObject {
  const dir = posix.dirname(e.guest);
  return {
    guest: e.guest,
    host: e.host,
    soname: facts.soname ?? posix.basename(e.guest),
    hasSoname: facts.soname !== undefined,
    kind: facts.kind,
    needed: facts.needed,
    searchDirs: facts.searchPath ? facts.searchPath.split(':').map((d) => d.replaceAll('$ORIGIN', dir)) : [],
    why: e.why[0],
    symbols,
  };
}

/** The plan's files that may be ELF objects, in plan order: the ones imageObjects opens. */
export function candidates(plan: Plan): HostFileEntry[] {
  return plan.entries.filter((e): e is HostFileEntry => e.kind === 'file' && e.content === undefined && candidate(e));
}

/**
 * Every loadable ELF object of the plan, in plan (guest path) order. An object `cache` keeps
 * (object-cache.ts) is not read again; what is read is given to it.
 */
export function imageObjects(plan: Plan, fs: HostFs, cache: ObjectCache = noObjectCache): { objects: ImageObject[]; unreadable: Unreadable[] } {
  const objects: ImageObject[] = [];
  const unreadable: Unreadable[] = [];
  const machine = machineOf[plan.arch];
  for (const e of candidates(plan)) {
    const st = cache === noObjectCache ? undefined : fs.stat(e.host);
    const kept = st?.kind === 'file' ? cache.read(st) : undefined;
    if (kept) {
      objects.push(imageObject(e, kept.facts, kept.symbols));
      continue;
    }
    let handle: HostFile | undefined;
    let f: ElfFile | undefined;
    try {
      try {
        handle = fs.open(e.host);
      } catch (x) {
        unreadable.push({ guest: e.guest, host: e.host, reason: `cannot open: ${(x as NodeJS.ErrnoException).code ?? String(x)}` });
        continue;
      }
      // Most candidates of a tree (scripts with an executable bit) are not ELF: tell by the
      // magic, without the cost of an exception.
      if (!handle.read(0, 4).equals(ELFMAG)) continue;
      f = ElfFile.fromHandle(handle);
      if (f.header.machine !== machine || f.header.class !== C.ELFCLASS64) {
        unreadable.push({ guest: e.guest, host: e.host, reason: `a ${f.header.class === C.ELFCLASS64 ? '64' : '32'}-bit ${C.machineName(f.header.machine)} object, which an ${plan.arch} OSv cannot load` });
        continue;
      }
      const dyn = dynamicInfo(f);
      const kind = classify(f, dyn);
      if (kind === 'static' || !dyn.dynamic) continue; // binds nothing at run time
      const facts: ObjectFacts = { soname: dyn.soname, kind, needed: dyn.needed, searchPath: dyn.runpath ?? dyn.rpath };
      const symbols = objectSymbols(f);
      if (st?.kind === 'file') cache.record(st, facts, symbols);
      objects.push(imageObject(e, facts, symbols));
    } catch (x) {
      if (!isElfError(x)) throw x;
      const ex = x as ElfError;
      // Not ELF at all (a script, data) or not loadable (.o): nothing OSv would link.
      if (ex.code === 'elf.bad-magic' || ex.code === 'elf.not-loadable') continue;
      if (ex.code === 'elf.truncated' && f === undefined && e.size < 64) continue; // a tiny file starting with \x7fELF
      unreadable.push({ guest: e.guest, host: e.host, reason: ex.message });
    } finally {
      handle?.close();
    }
  }
  return { objects, unreadable };
}
