// The dependency closure, computed as glibc's ld.so would load it: breadth-first from the
// roots, each library once (matched by the names it was asked for, its soname, and its
// file), each DT_NEEDED searched with _dl_map_object's rules, inside the sysroot.

import { posix } from 'node:path';
import { OsvError } from '../diagnostics/error.js';
import { err, ok, type Result } from '../diagnostics/result.js';
import { classify } from '../elf/classify.js';
import { DF_1_NODEFLIB, machineName } from '../elf/constants.js';
import { dynamicInfo, type DynamicInfo } from '../elf/dynamic.js';
import { ElfError } from '../elf/error.js';
import { ElfFile } from '../elf/file.js';
import { fileKindName, type HostFs, type HostStat } from '../hostfs.js';
import { archFacts, ldsoLayout, type ArchFacts, type LdsoLayout } from './arch.js';
import { splitSearchPath, expandDst, type DstValues } from './dst.js';
import { kernelSonames } from './kernel-libraries.js';
import { parseLdCache, type LdCache } from './ldcache.js';
import { ldSoConfDirs } from './ldconf.js';
import { noElfReadCache, type ElfIdent, type ElfRead, type ElfReadCache } from './read-cache.js';
import { Sysroot } from './sysroot.js';
import type {
  Closure,
  MissingLibrary,
  ResolveOptions,
  ResolveRoot,
  ResolvedObject,
  SearchRule,
  SkippedCandidate,
} from './types.js';

/** An ELF file as far as the resolver needs it. */
type Parsed = ElfRead;

/** An object in the closure with what the search needs to know about it. */
interface Loaded {
  obj: ResolvedObject;
  /** Real path inside the sysroot; '' for an absent kernel library. */
  real: string;
  dyn: DynamicInfo | undefined;
  loader: Loaded | undefined;
  /** Expanded DT_RPATH; undefined when absent or when the object has DT_RUNPATH (ld.so then ignores it). */
  rpathDirs: string[] | undefined;
  runpathDirs: string[] | undefined;
  nodeflib: boolean;
  dst: DstValues;
  /** In `objects` yet (the interpreter waits until something needs it). */
  listed: boolean;
}

interface Found {
  path: string;
  real: string;
  rule: SearchRule;
  existing?: Loaded;
  parsed?: Parsed;
}

interface Search {
  found: Found | undefined;
  tried: string[];
  skipped: SkippedCandidate[];
}

const MISSING = Symbol('missing');

/**
 * What resolvers over one file system may share while it does not change (one plan resolves a
 * closure per root: python's 60 extension modules each need libc, and each walked /usr/lib
 * again): the sysroot's path lookups, and the ELF files read (by real path, for one arch); and
 * where what was read of each ELF file is kept between processes (read-cache.ts), if anywhere.
 */
export interface SharedReads {
  sys: Sysroot;
  parsed: Map<string, Parsed | OsvError>;
  kept: ElfReadCache;
}

/** A source of SharedReads for each file system, sysroot and architecture asked for, all keeping ELF reads in `kept`. */
export function sharedReads(kept: ElfReadCache = noElfReadCache): (fs: HostFs, options: ResolveOptions) => SharedReads {
  const byFs = new WeakMap<HostFs, Map<string, SharedReads>>();
  return (fs, options) => {
    let m = byFs.get(fs);
    if (!m) byFs.set(fs, (m = new Map()));
    const key = `${options.arch}\0${options.sysroot}`;
    let r = m.get(key);
    if (!r) m.set(key, (r = { sys: new Sysroot(fs, options.sysroot), parsed: new Map(), kept }));
    return r;
  };
}

/** The last ld.so.cache parsed through each HostFs, by file identity. */
const parsedCaches = new WeakMap<HostFs, { id: string; cache: LdCache }>();

export class Resolver {
  private readonly sys: Sysroot;
  private readonly facts: ArchFacts;
  private readonly layout: LdsoLayout;
  private readonly kernel: Set<string>;
  private readonly optional: Set<string>;
  private readonly parsed: Map<string, Parsed | OsvError>;
  private readonly kept: ElfReadCache;
  private cache: LdCache | null | undefined;
  private conf: string[] | undefined;
  private readonly byName = new Map<string, Loaded | typeof MISSING>();
  private readonly byReal = new Map<string, Loaded>();
  private readonly objects: Loaded[] = [];
  private readonly missing: MissingLibrary[] = [];
  private main: Loaded | undefined;
  /** Objects known by name but listed only when needed (the interpreter). */
  private readonly pending: Loaded[] = [];
  /** Whether the kernel's libraries count as provided. */
  private readonly filter: boolean;

  constructor(
    private readonly options: ResolveOptions,
    fs: HostFs,
    shared: SharedReads = { sys: new Sysroot(fs, options.sysroot), parsed: new Map(), kept: noElfReadCache },
  ) {
    this.sys = shared.sys;
    this.parsed = shared.parsed;
    this.kept = shared.kept;
    this.facts = archFacts[options.arch];
    const multi = this.sys.stat(`/lib/${this.facts.multiarch}`) ?? this.sys.stat(`/usr/lib/${this.facts.multiarch}`);
    this.layout = ldsoLayout(this.facts, multi?.st.kind === 'dir');
    this.filter = options.osvFilter !== false;
    this.kernel = this.filter ? kernelSonames(options.arch, options.hiddenSymbols) : new Set();
    this.optional = new Set(options.optional ?? []);
  }

  run(roots: ResolveRoot[]): Result<Closure, OsvError> {
    try {
      for (const r of roots) if ('path' in r) this.addPathRoot(r.path);
      // What ld.so loads at start-up first, then what the program dlopen()s: a library that is
      // both a dependency and a soname root is then listed as the dependency it is, with the
      // chain of objects that needed it (a root too, but not with an empty chain).
      this.followNeeds(0);
      const started = this.objects.length;
      for (const r of roots) if ('soname' in r) this.addSonameRoot(r.soname, r.optional ?? false);
      this.followNeeds(started);
      this.checkCollisions();
      return ok({ objects: this.objects.map((l) => l.obj), missing: this.missing });
    } catch (e) {
      if (e instanceof OsvError) return err(e);
      throw e;
    }
  }

  /** Breadth-first from objects[from]; the interpreter, when nothing needed it, comes last (as in ld.so's list). */
  private followNeeds(from: number): void {
    for (let i = from; ; ) {
      for (; i < this.objects.length; i++) {
        const l = this.objects[i]!;
        if (l.obj.providedByKernel || !l.dyn) continue;
        for (const name of l.dyn.needed) this.need(name, l);
      }
      const waiting = this.pending.filter((l) => !l.listed);
      if (waiting.length === 0) break;
      for (const l of waiting) this.list(l);
    }
  }

  // ---- roots ----

  private addPathRoot(path: string): void {
    const abs = path.startsWith('/') ? path : '/' + path;
    const hit = this.sys.stat(abs);
    if (!hit) {
      throw new OsvError({
        code: 'resolve.not-found',
        message: `${this.sys.host(abs)} does not exist`,
        hint: this.sys.root === '/' ? 'check the path' : `paths are inside the sysroot ${this.sys.root}`,
      });
    }
    if (hit.st.kind !== 'file') throw new OsvError({ code: 'resolve.not-a-file', message: `${this.sys.host(abs)} is ${fileKindName(hit.st)}, not a program or a library` });
    const p = this.parse(hit.real);
    if (p instanceof OsvError) throw p;
    this.checkArch(p.header, this.sys.host(abs));
    if (p.kind === 'static' || p.kind === 'static-pie') {
      throw new OsvError({
        code: 'resolve.static-executable',
        message: `${this.sys.host(abs)} is a ${p.kind === 'static' ? 'statically linked' : 'static-pie'} executable; OSv can only run dynamically linked programs and libraries`,
        hint: 'rebuild it as a position-independent executable (gcc -fPIE -pie) linked against shared libraries',
      });
    }
    const l = this.register({ path: abs, real: hit.real, rule: 'path', parsed: p }, posix.basename(abs), undefined, [], [], [], true);
    this.main ??= l;
    if (p.interp) this.addInterpreter(p.interp, l, p.header);
  }

  private addSonameRoot(name: string, optional: boolean): void {
    const before = this.byName.get(name);
    if (before && before !== MISSING) {
      before.obj.root = true;
      return;
    }
    // dlopen() from the main program: its RPATH and RUNPATH apply.
    const l = this.resolveName(name, this.main, [], optional || this.optional.has(name));
    if (l) l.obj.root = true;
  }

  /** ld.so itself: matched by its path and soname, listed where first needed (or last). */
  private addInterpreter(interp: string, root: Loaded, program: ElfIdent): void {
    if (this.byName.has(interp)) return;
    const hit = this.sys.stat(interp);
    const p = hit && hit.st.kind === 'file' ? this.parse(hit.real) : undefined;
    // With the OSv filter the kernel is the dynamic linker and never reads the file PT_INTERP
    // names: one that the kernel of Linux would refuse stands for OSv's own, as an absent one does.
    if (hit && p && !this.filter) this.checkInterpreter(interp, hit.real, p, root, program);
    if (!hit || !p || p instanceof OsvError || !this.runsHere(p.header)) {
      if (this.filter) {
        const soname = posix.basename(interp);
        const l = this.absentKernel(interp, soname, [root.obj.soname]);
        this.byName.set(interp, l);
        this.byName.set(soname, l);
        this.pending.push(l);
        return;
      }
      if (p instanceof OsvError) throw p;
      this.missing.push({ soname: interp, chain: [root.obj.soname], tried: [interp], optional: false });
      this.byName.set(interp, MISSING);
      return;
    }
    const l = this.register({ path: interp, real: hit.real, rule: 'path', parsed: p }, interp, root, [], [], [root.obj.soname], false, false);
    l.obj.providedByKernel = this.filter;
    this.pending.push(l);
  }

  /** An ELF of the class and machine resolved for. */
  private runsHere(h: ElfIdent): boolean {
    return h.class === this.facts.elfClass && h.machine === this.facts.machine;
  }

  /**
   * Linux's own check of PT_INTERP before it starts a program (binfmt_elf): the file must be an
   * ELF file whose machine the kernel runs, or execve fails with ELIBBAD. There is no search to go
   * on with, so unlike a library of another architecture (which ld.so passes over) it is fatal.
   * Only without the OSv filter: OSv never reads the file. An absent interpreter, and a damaged
   * one of the right class and machine (what the kernel checks stops at the header), are left as
   * they were.
   */
  private checkInterpreter(interp: string, real: string, p: Parsed | OsvError, root: Loaded, program: ElfIdent): void {
    let what: string;
    if (p instanceof OsvError) {
      if (p.code !== 'elf.bad-magic') return;
      what = 'not an ELF file';
    } else {
      if (this.runsHere(p.header)) return;
      what = describe(p.header);
    }
    throw new OsvError({
      code: 'resolve.bad-interpreter',
      message: `${root.obj.hostPath} names the interpreter ${interp} (PT_INTERP), and ${this.sys.host(real)} is ${what}; the program is ${describe(program)}`,
      hint: `the kernel refuses to start it (execve fails: ELIBBAD, "Accessing a corrupted shared library"): put the ${this.facts.arch} dynamic linker at ${interp}, or relink the program (or patchelf --set-interpreter ${this.facts.interpreter})`,
    });
  }

  // ---- dependencies ----

  private need(name: string, parent: Loaded): void {
    const chain = [...parent.obj.chain, parent.obj.soname];
    this.resolveName(name, parent, chain, this.optional.has(name));
  }

  /** Find a name as ld.so's _dl_map_object does for `loader`; undefined when missing. */
  private resolveName(name: string, loader: Loaded | undefined, chain: string[], optional: boolean): Loaded | undefined {
    const key = name.includes('/') ? this.slashPath(name, loader) : name;
    const known = this.byName.get(key);
    if (known === MISSING) return undefined;
    if (known) {
      if (!known.listed) {
        known.obj.chain = chain;
        this.list(known);
      }
      this.alias(known, name);
      return known;
    }
    const isKernel = this.kernel.has(name);
    let s: Search;
    try {
      s = this.search(name, loader);
    } catch (e) {
      if (!isKernel) throw this.inChain(e, name, chain);
      s = { found: undefined, tried: [], skipped: [] };
    }
    const existing = s.found?.existing;
    if (existing) {
      this.byName.set(key, existing);
      if (!existing.listed) {
        existing.obj.chain = chain;
        this.list(existing);
      }
      this.alias(existing, name);
      return existing;
    }
    if (s.found) return this.register(s.found, name, loader, s.tried, s.skipped, chain, false);
    if (isKernel) {
      const l = this.absentKernel(name, name, chain);
      l.obj.tried = s.tried;
      this.byName.set(key, l);
      this.list(l);
      return l;
    }
    this.missing.push({ soname: name, chain, tried: s.tried, optional, ...(s.skipped.length ? { skipped: s.skipped } : {}) });
    this.byName.set(key, MISSING);
    return undefined;
  }

  /** A DT_NEEDED with a slash is a path: DSTs expanded, relative ones from "/". */
  private slashPath(name: string, loader: Loaded | undefined): string {
    const p = expandDst(name, (loader ?? this.main)?.dst ?? this.dstFor('/'));
    return posix.normalize('/' + p); // an absolute p's leading "//" is "/" again
  }

  /** The search of glibc's _dl_map_object, in its order. */
  private search(name: string, loader: Loaded | undefined): Search {
    const s: Search = { found: undefined, tried: [], skipped: [] };
    const attempt = (path: string, rule: SearchRule): boolean => {
      s.found = this.attempt(path, rule, s);
      return s.found !== undefined;
    };
    const inDirs = (dirs: string[] | undefined, rule: SearchRule): boolean =>
      (dirs ?? []).some((d) => attempt(d === '/' ? '/' + name : `${d}/${name}`, rule));

    if (name.includes('/')) {
      attempt(this.slashPath(name, loader), 'path');
      return s;
    }
    // DT_RPATH of the loader and its loaders, then of the program, unless the loader has DT_RUNPATH.
    if (!loader?.dyn?.runpath) {
      let sawMain = false;
      for (let l = loader; l; l = l.loader) {
        if (inDirs(l.rpathDirs, 'rpath')) return s;
        sawMain ||= l === this.main;
      }
      if (!sawMain && this.main && inDirs(this.main.rpathDirs, 'rpath')) return s;
    }
    const mainDst = this.main?.dst ?? this.dstFor('/');
    if (inDirs(this.options.libraryPath.flatMap((d) => splitSearchPath(d, mainDst)), 'library-path')) return s;
    if (inDirs(loader?.runpathDirs, 'runpath')) return s;
    if (!(loader ?? this.main)?.nodeflib) {
      const cache = this.ldCache();
      if (cache) {
        const hit = cache.lookup(name, this.facts.cacheFlags);
        if (hit && attempt(hit.value, 'ld.so.cache')) return s;
      } else if (inDirs(this.confDirs(), 'ld.so.cache')) return s;
    }
    if (!loader?.nodeflib && inDirs(this.layout.defaultDirs, 'default')) return s;
    return s;
  }

  /**
   * Open one candidate as ld.so's open_verify does: absent, or of another class or machine =
   * keep looking. Anything else by that name that is not a regular file stops the search with
   * an error, and is never opened here:
   * - a directory opens, then reading its header fails (EISDIR): ld.so reports it and stops;
   * - a character or block device opens, and what it reads is no ELF header (/dev/null: "file
   *   too short", most others: "invalid ELF header"): reported, the search stops;
   * - a FIFO: ld.so's open(O_RDONLY) waits for a writer, so the program hangs at start-up
   *   (and so would we, were we to open it);
   * - a socket: open fails with ENXIO, which ld.so does not take for "absent" (only ENOENT and
   *   EACCES are): it gives up the rest of that search list and goes on with the next one,
   *   failing with "No such device or address" when nothing else is found. Modelling that
   *   would make the closure depend on a rule nobody relies on; a socket named like a library
   *   is a mistake, so it is reported like the others.
   */
  private attempt(path: string, rule: SearchRule, s: Search): Found | undefined {
    const hit = this.sys.stat(path);
    if (hit && hit.st.kind !== 'file') throw this.notALibrary(path, hit.real, hit.st);
    if (!hit) {
      s.tried.push(path);
      return undefined;
    }
    const existing = this.byReal.get(hit.real);
    if (existing) return { path, real: hit.real, rule, existing };
    const p = this.parse(hit.real);
    if (p instanceof OsvError) throw p;
    const h = p.header;
    if (h.class !== this.facts.elfClass || h.machine !== this.facts.machine) {
      s.tried.push(path);
      s.skipped.push({ path, reason: `${describe(h)}, not ${this.facts.arch}` });
      return undefined;
    }
    return { path, real: hit.real, rule, parsed: p };
  }

  // ---- bookkeeping ----

  private register(
    f: Found,
    name: string,
    loader: Loaded | undefined,
    tried: string[],
    skipped: SkippedCandidate[],
    chain: string[],
    root: boolean,
    listNow = true,
  ): Loaded {
    const p = f.parsed!;
    const soname = p.dyn.soname ?? posix.basename(name);
    // $ORIGIN of a program is the directory of its real file (the kernel's /proc/self/exe);
    // of a library, the directory of the path it was opened by.
    const origin = posix.dirname(root ? f.real : f.path);
    const dst = this.dstFor(origin);
    const obj: ResolvedObject = {
      soname,
      path: f.path,
      hostPath: this.sys.host(f.real),
      kind: p.kind,
      root,
      rule: f.rule,
      chain,
      tried,
      needed: p.dyn.needed,
      providedByKernel: this.kernel.has(name) || this.kernel.has(soname),
      requestedAs: [name],
      ...(skipped.length ? { skipped } : {}),
      ...(p.interp !== undefined ? { interpreter: p.interp } : {}),
      ...(p.dyn.rpath !== undefined ? { rpath: p.dyn.rpath } : {}),
      ...(p.dyn.runpath !== undefined ? { runpath: p.dyn.runpath } : {}),
    };
    const l: Loaded = {
      obj,
      real: f.real,
      dyn: p.dyn,
      loader,
      rpathDirs: p.dyn.runpath === undefined && p.dyn.rpath !== undefined ? splitSearchPath(p.dyn.rpath, dst) : undefined,
      runpathDirs: p.dyn.runpath !== undefined ? splitSearchPath(p.dyn.runpath, dst) : undefined,
      nodeflib: (p.dyn.flags1 & DF_1_NODEFLIB) !== 0,
      dst,
      listed: false,
    };
    for (const k of [name.includes('/') ? this.slashPath(name, loader) : name, soname, f.path]) if (!this.byName.has(k)) this.byName.set(k, l);
    this.byReal.set(f.real, l);
    if (listNow) this.list(l);
    return l;
  }

  private absentKernel(path: string, soname: string, chain: string[]): Loaded {
    const obj: ResolvedObject = {
      soname,
      path,
      hostPath: '',
      kind: 'shared-library',
      root: false,
      rule: 'kernel',
      chain,
      tried: [],
      needed: [],
      providedByKernel: true,
      requestedAs: [path],
    };
    return { obj, real: '', dyn: undefined, loader: undefined, rpathDirs: undefined, runpathDirs: undefined, nodeflib: false, dst: this.dstFor('/'), listed: false };
  }

  private list(l: Loaded): void {
    l.listed = true;
    this.objects.push(l);
  }

  private alias(l: Loaded, name: string): void {
    const names = (l.obj.requestedAs ??= []);
    if (!names.includes(name)) names.push(name);
  }

  private dstFor(origin: string): DstValues {
    return { origin, lib: this.layout.lib, platform: this.facts.platform };
  }

  /** Without a cache file: the directories ld.so.conf names, which ldconfig would have cached. */
  private confDirs(): string[] {
    this.conf ??= ldSoConfDirs(this.sys);
    return this.conf;
  }

  private ldCache(): LdCache | undefined {
    if (this.cache === undefined) {
      this.cache = null;
      const hit = this.sys.stat('/etc/ld.so.cache');
      if (hit?.st.kind === 'file') {
        const file = this.sys.host(hit.real);
        // Parsed once per file version: the planner resolves many roots against one cache.
        const id = `${file}\0${hit.st.dev}:${hit.st.ino}:${hit.st.size}:${hit.st.mtimeMs}`;
        const known = parsedCaches.get(this.sys.fs);
        if (known?.id === id) this.cache = known.cache;
        else {
          let bytes: Buffer;
          try {
            bytes = this.sys.fs.readFile(file);
          } catch {
            return undefined; // unreadable: ld.so goes on without it
          }
          const r = parseLdCache(bytes, file);
          if (!r.ok) throw r.error;
          this.cache = r.value;
          parsedCaches.set(this.sys.fs, { id, cache: r.value });
        }
      }
    }
    return this.cache ?? undefined;
  }

  /** Read what the resolver needs of one real file, once. Wrong-arch files stop after the header. */
  private parse(real: string): Parsed | OsvError {
    const memo = this.parsed.get(real);
    if (memo) return memo;
    const st = this.sys.stat(real)?.st;
    const kept = st ? this.kept.read(this.sys.host(real), st) : undefined;
    if (kept) {
      this.parsed.set(real, kept);
      return kept;
    }
    let out: Parsed | OsvError;
    let f: ElfFile | undefined;
    try {
      f = ElfFile.open(this.sys.fs, this.sys.host(real));
      const h = f.header;
      // Both targets are little-endian, and ElfFile knows only the two encodings.
      if (h.class === this.facts.elfClass && h.data !== this.facts.elfData) {
        throw new ElfError('elf.bad-ident', f.path, 5, `big-endian ELF where ${this.facts.arch} needs little-endian`);
      }
      if (h.class !== this.facts.elfClass || h.machine !== this.facts.machine) {
        out = { header: h, dyn: emptyDyn, kind: 'shared-library', interp: undefined };
      } else {
        const dyn = dynamicInfo(f);
        out = { header: h, dyn, kind: classify(f, dyn), interp: f.interpreter() };
        if (st) this.kept.record(f.path, st, out);
      }
    } catch (e) {
      if (!(e instanceof OsvError)) throw e;
      out = e;
    } finally {
      f?.close();
    }
    this.parsed.set(real, out);
    return out;
  }

  /** A candidate of a library's name that is not a regular file (see attempt). */
  private notALibrary(path: string, real: string, st: HostStat): OsvError {
    const file = this.sys.host(path) === this.sys.host(real) ? this.sys.host(real) : `${this.sys.host(path)} (${this.sys.host(real)})`;
    const why =
      st.kind === 'dir'
        ? 'ld.so stops there ("cannot read file data: Is a directory")'
        : st.special === 'fifo'
          ? 'ld.so would wait there for a writer, and the program hang at start-up'
          : st.special === 'char-device' || st.special === 'block-device'
            ? 'ld.so stops there: what it reads is no ELF header ("file too short" or "invalid ELF header")'
            : st.special === 'socket'
              ? 'ld.so cannot open it ("No such device or address") and searches no further along that path'
              : 'ld.so does not load it';
    return new OsvError({
      code: 'resolve.not-a-file',
      message: `${file} is ${fileKindName(st)}, where ld.so opens a library`,
      hint: `${why}: rename it, or take its directory off the search path`,
    });
  }

  private checkArch(h: ElfIdent, file: string): void {
    if (h.class !== this.facts.elfClass || h.machine !== this.facts.machine) {
      throw new OsvError({
        code: 'resolve.wrong-arch',
        message: `${file} is ${describe(h)}; the target architecture is ${this.facts.arch}`,
        hint: `give a ${this.facts.arch} binary, or set the target architecture (--arch / arch:) to match it`,
      });
    }
  }

  private inChain(e: unknown, name: string, chain: string[]): unknown {
    if (!(e instanceof OsvError)) return e;
    return new OsvError({
      code: e.code,
      message: e.message,
      details: [`while looking for ${name}, needed by ${chain.join(' -> ') || '(root)'}`, ...e.details],
      ...(e.hint ? { hint: e.hint } : {}),
    });
  }

  /** Two different files under one soname would both be /usr/lib/<soname> in the guest. */
  private checkCollisions(): void {
    const seen = new Map<string, Loaded>();
    for (const l of this.objects) {
      if (l.obj.providedByKernel || (l.obj.root && l.obj.kind !== 'shared-library')) continue;
      const other = seen.get(l.obj.soname);
      if (other && other.real !== l.real) {
        const who = (x: Loaded): string => `${x.obj.hostPath} (${x.obj.root ? 'a root' : `needed by ${x.obj.chain.join(' -> ')}`}, found by ${x.obj.rule})`;
        throw new OsvError({
          code: 'resolve.soname-collision',
          message: `two different files claim the soname ${l.obj.soname}`,
          details: [who(other), who(l)],
          hint: 'both would be installed as /usr/lib/' + l.obj.soname + '; remove one from the search path, or fix RPATH/RUNPATH/libraryPath so that one is found',
        });
      }
      seen.set(l.obj.soname, l);
    }
  }
}

const emptyDyn: DynamicInfo = { needed: [], soname: undefined, rpath: undefined, runpath: undefined, flags: 0, flags1: 0, dynamic: false };

function describe(h: ElfIdent): string {
  return `an ELF${h.class === 1 ? '32' : '64'} ${machineName(h.machine)} file`;
}
