// The declared contents: `executables`, `libraries` and `files` entries, from the root
// configuration or from an osv-up module (same shapes, different provenance).

import { OsvError, type Source } from '../diagnostics/error.js';
import type { ExecutableSpec, FileSpec, LibrarySpec } from '../config/types.js';
import { libraryDestIsFile } from '../config/values.js';
import { posix } from 'node:path';
import { addClosure, pathRoot } from './closure.js';
import type { PlanContext } from './context.js';
import { fileKindName, pseudoFileSystem } from '../hostfs.js';
import { compileExclude, expandHostGlob, hasGlob, type GlobWalk } from './glob.js';
import { guestJoin, normalizeGuestPath } from './guest-path.js';
import { isUnder, locateHostPath, realpath } from './host-path.js';
import { DEFAULT_PATH, lookupOnPath } from './path-lookup.js';
import { copyTree, notUtf8Name } from './tree.js';
import type { PlanEntry, Provenance } from './types.js';

/** Makes the provenance of one declaration (`files[2]`), optionally with a detail. */
export type ProvenanceOf = (key: string, source: Source | undefined, detail?: string) => Provenance;

export const fromConfig: ProvenanceOf = (key, source, detail) => ({ kind: 'config', key, ...(source ? { source } : {}), ...(detail ? { detail } : {}) });
export const fromModule =
  (module: string): ProvenanceOf =>
  (key, source, detail) => ({ kind: 'module', module, key, ...(source ? { source } : {}), ...(detail ? { detail } : {}) });

function fail(ctx: PlanContext, code: string, message: string, hint: string, source: Source | undefined): void {
  pushOnce(ctx, new OsvError({ code, message, hint, ...(source ? { source } : {}) }));
}

/** An error, unless the same one is already there (a glob's matches can overlap: `dir/**` matches a directory and what is in it). */
function pushOnce(ctx: PlanContext, e: OsvError): void {
  if (!ctx.errors.some((x) => x.code === e.code && x.message === e.message)) ctx.errors.push(e);
}

/** A guest path from the configuration, normalized; an error (and undefined) when unusable. */
export function guestPath(ctx: PlanContext, path: string, key: string, source: Source | undefined): string | undefined {
  const n = normalizeGuestPath(path);
  if (n.ok) return n.path;
  fail(ctx, 'plan.bad-guest-path', `${key}: guest path "${path}" ${n.reason}`, n.hint, source);
  return undefined;
}

/** With `from:`, the configuration's paths are inside the image and never fall back to the host. */
export const strict = (ctx: PlanContext): boolean => ctx.config.from !== undefined;

/** The PATH a bare program name is looked up on: the host's, or with an image the run's own (its Env). */
export function searchPath(ctx: PlanContext, env: Record<string, string> = ctx.config.defaultRun.env): string | undefined {
  return strict(ctx) ? (env['PATH'] ?? DEFAULT_PATH) : ctx.env['PATH'];
}

/** Where a program named in `executables` or `cmd` is on the host: PATH for bare names. */
export function findProgram(ctx: PlanContext, src: string, key: string, source: Source | undefined, pathVar: string | undefined = searchPath(ctx)): string | undefined {
  if (!src.includes('/')) {
    const found = lookupOnPath(ctx.fs, src, pathVar, ctx.config.sysroot);
    if (found.found) return found.path;
    ctx.errors.push(
      new OsvError({
        code: 'plan.not-on-path',
        message: `${key}: "${src}" is not on PATH`,
        details: ['tried:', ...found.tried.map((t) => `  ${t}`)],
        hint: strict(ctx) ? `give its absolute path in the image (${ctx.config.from!.text}), or set PATH in env` : 'give its absolute path, or install it',
        ...(source ? { source } : {}),
      }),
    );
    return undefined;
  }
  const abs = src.startsWith('/') ? src : posix.join(ctx.config.dir, src);
  // With an image, an absolute program path is inside it; `./x` is the project's.
  const host = strict(ctx) ? (src.startsWith('/') ? ctx.config.sysroot + abs : abs) : locateHostPath(ctx.fs, ctx.config.sysroot, abs);
  const st = ctx.fs.stat(host);
  if (st?.kind === 'file') return host;
  const where = strict(ctx) && src.startsWith('/') ? `${abs} in the image ${ctx.config.from!.text}` : host;
  fail(ctx, 'plan.not-found', `${key}: ${where} ${st ? `is ${fileKindName(st)}, not a program` : 'does not exist'}`, strict(ctx) && src.startsWith('/') ? 'absolute paths are inside the image; name a project file ./relative/to/osv.yaml' : 'fix the path, or build the program first', source);
  return undefined;
}

export function planExecutable(ctx: PlanContext, spec: ExecutableSpec, key: string, prov: ProvenanceOf): void {
  const host = findProgram(ctx, spec.src, key, spec.source);
  if (!host) return;
  const guest = spec.dest !== undefined ? guestPath(ctx, spec.dest, `${key}.dest`, spec.source) : `/${posix.basename(spec.src)}`;
  if (!guest) return;
  addClosure(ctx, { root: pathRoot(ctx, host), host, guest: () => guest, declared: prov(key, spec.source) });
}

/**
 * A library loaded with dlopen: by soname (found as ld.so would), by path, or by a glob over
 * paths, each with its own closure. `dest` is the library's guest path when its last name
 * contains ".so", otherwise the directory it goes in (always a directory for globs).
 */
export function planLibrary(ctx: PlanContext, spec: LibrarySpec, key: string, prov: ProvenanceOf): void {
  let destDir = '/usr/lib';
  let destPath: string | undefined;
  if (spec.dest !== undefined) {
    const d = guestPath(ctx, spec.dest, `${key}.dest`, spec.source);
    if (!d) return;
    if (libraryDestIsFile(spec.name, d)) destPath = d;
    else destDir = d;
  }
  const declared = prov(key, spec.source);
  if (!spec.name.includes('/')) {
    addClosure(ctx, { root: { soname: spec.name, optional: spec.optional }, guest: (o) => destPath ?? guestJoin(destDir, o.soname), declared, optional: spec.optional });
    return;
  }
  const matches = hasGlob(spec.name) ? globInSysroot(ctx, spec.name, key, spec.source) : [locateHostPath(ctx.fs, ctx.config.sysroot, spec.name)].filter((p) => ctx.fs.stat(p));
  if (!matches) return;
  if (matches.length === 0) {
    if (spec.optional) ctx.warnings.push(`${key}: ${spec.name} matches nothing (optional, skipped)`);
    else fail(ctx, 'plan.not-found', `${key}: ${spec.name} ${hasGlob(spec.name) ? 'matches no file' : 'does not exist'}`, 'fix the path or pattern, or mark the library optional', spec.source);
    return;
  }
  for (const host of matches) {
    const st = ctx.fs.stat(host);
    if (st?.kind !== 'file') {
      // A pattern may match directories; a path names one file, so anything else is a mistake.
      if (!hasGlob(spec.name)) {
        const hint = st?.kind === 'dir' ? `name the library file in it, or a pattern such as ${spec.name.replace(/\/+$/, '')}/*.so*` : 'name a shared library file';
        fail(ctx, 'plan.not-a-file', `${key}: ${host} is ${st ? fileKindName(st) : 'gone'}, not a library`, hint, spec.source);
      }
      continue;
    }
    const name = posix.basename(host);
    addClosure(ctx, { root: pathRoot(ctx, host), host, guest: () => destPath ?? guestJoin(destDir, name), declared: hasGlob(spec.name) ? prov(key, spec.source, `matched ${host}`) : declared });
  }
}

/**
 * Expand a host glob inside the sysroot first, then on the host itself (with an image: as given).
 * A directory it cannot list is an error at the entry (what it would match is unknown); /proc
 * and /sys of this host are skipped with a warning, as a tree copy skips them.
 */
function globInSysroot(ctx: PlanContext, pattern: string, key: string, source: Source | undefined): string[] | undefined {
  const sysroot = ctx.config.sysroot;
  const unreadable = new Map<string, string>();
  const walk: GlobWalk = {
    unreadable: (dir, e) => void unreadable.set(dir, e.message),
    skip: (dir) => {
      const pseudo = sysroot === '/' && !strict(ctx) ? pseudoFileSystem(dir) : undefined;
      if (pseudo) ctx.warnings.push(`${key}: skipped ${dir} while matching ${pattern}: /${pseudo} is a pseudo file system, made up by the kernel as it is read`);
      return pseudo !== undefined;
    },
  };
  const expand = (): string[] => {
    if (strict(ctx)) return expandHostGlob(ctx.fs, pattern, walk);
    if (sysroot !== '/' && !isUnder(sysroot, pattern)) {
      const inRoot = expandHostGlob(ctx.fs, sysroot + pattern, walk);
      if (inRoot.length > 0) return inRoot;
    }
    return expandHostGlob(ctx.fs, pattern, walk);
  };
  const matches = expand();
  for (const [dir, message] of unreadable)
    fail(ctx, 'plan.unreadable', `${key}: cannot read directory ${dir} while matching ${pattern}: ${message}`, 'check its permissions, or narrow the pattern so that it does not cross that directory', source);
  // Undefined: an error was reported, and what the pattern matches is not known.
  return unreadable.size > 0 ? undefined : matches;
}

export function planFile(ctx: PlanContext, spec: FileSpec, key: string, prov: ProvenanceOf): void {
  const dest = guestPath(ctx, spec.dest, `${key}.dest`, spec.source);
  if (!dest) return;
  if (spec.kind === 'link') {
    if (spec.link === '' || /[\0\n\r]/.test(spec.link)) {
      fail(ctx, 'plan.bad-link', `${key}: symlink target ${JSON.stringify(spec.link)} is empty or contains a NUL or line break`, 'give the path the link points to', spec.source);
      return;
    }
    add(ctx, { guest: dest, kind: 'symlink', target: spec.link, why: [prov(key, spec.source)] });
    return;
  }
  if (spec.kind === 'dir') {
    add(ctx, { guest: dest, kind: 'dir', ...(spec.mode !== undefined ? { mode: spec.mode } : {}), why: [prov(key, spec.source)] });
    return;
  }
  if (spec.kind === 'content') {
    const content = Buffer.from(spec.content, 'utf8');
    add(ctx, { guest: dest, kind: 'file', content, size: content.byteLength, mode: spec.mode ?? 0o644, why: [prov(key, spec.source)] });
    return;
  }
  const glob = hasGlob(spec.src);
  // A pattern inside /proc or /sys: said once, as for a path there (its matches cannot be copied).
  if (glob && pseudoSource(ctx, spec, spec.src, key)) return;
  const sources = glob ? globInSysroot(ctx, spec.src, key, spec.source) : [locateHostPath(ctx.fs, ctx.config.sysroot, spec.src)];
  if (!sources) return;
  if (glob && sources.length === 0) {
    if (!spec.optional) fail(ctx, 'plan.not-found', `${key}: ${spec.src} matches no file`, 'fix the pattern, or mark the entry optional', spec.source);
    return;
  }
  const exclude = compileExclude(spec.exclude);
  // ELF objects among the copied files get their libraries afterwards (spec.resolve).
  const objects: Array<{ guest: string; host: string; mode: number | undefined; why: Provenance }> = [];
  const emit = (entry: PlanEntry): void => {
    add(ctx, entry);
    if (spec.resolve && entry.kind === 'file' && entry.host !== undefined && mayBeElfObject(ctx, entry.host, entry.mode ?? 0)) objects.push({ guest: entry.guest, host: entry.host, mode: entry.mode, why: entry.why[0]! });
  };
  for (const src of sources) {
    // A glob puts each match inside dest; a plain source becomes dest itself.
    const guest = glob ? guestJoin(dest, posix.basename(src)) : dest;
    copySource(ctx, spec, src, guest, exclude, key, glob ? (d) => prov(key, spec.source, d ? `matched ${src}, ${d}` : `matched ${src}`) : (d) => prov(key, spec.source, d || undefined), emit);
  }
  for (const o of objects) addClosure(ctx, { root: pathRoot(ctx, o.host), host: o.host, guest: () => o.guest, declared: o.why, copied: true, ...(o.mode !== undefined ? { mode: o.mode } : {}) });
}

/** Cheap first look: named like a library or executable, and starting with the ELF magic. */
function mayBeElfObject(ctx: PlanContext, host: string, mode: number): boolean {
  if (!/\.so(\.[0-9]+)*$/.test(host) && (mode & 0o111) === 0) return false;
  try {
    return ctx.fs.readRange(host, 0, 4).toString('latin1') === '\x7fELF';
  } catch {
    return false;
  }
}

function copySource(
  ctx: PlanContext,
  spec: Extract<FileSpec, { kind: 'copy' }>,
  src: string,
  guest: string,
  exclude: (rel: string) => boolean,
  key: string,
  why: (detail: string) => Provenance,
  emit: (entry: PlanEntry) => void,
): void {
  if (pseudoSource(ctx, spec, src, key)) return;
  const real = realpath(ctx.fs, src, ctx.config.sysroot);
  if (real.ok && pseudoSource(ctx, spec, real.path, key, src)) return;
  if (!real.ok) {
    if (real.reason === 'loop') {
      // Worded as a tree copy words it, so that a glob matching the link and its directory says it once.
      const text = ctx.fs.lstat(src)?.kind === 'symlink' ? ctx.fs.readlink(src) : undefined;
      fail(ctx, 'plan.symlink-loop', `${key}: ${text !== undefined ? `symlink loop: ${src} -> ${text} never reaches a file` : `symlink loop at ${src}`}`, 'fix the link, or point src at the real file', spec.source);
    } else if (src.includes('\uFFFD') && ctx.fs.lstat(src) === undefined) {
      // A glob's match whose name is not UTF-8: Node read it with U+FFFD, so it is not the file's name.
      const e = notUtf8Name(posix.dirname(src), posix.basename(src));
      fail(ctx, e.code, `${key}: ${e.message}`, e.hint!, spec.source);
    } else if (!spec.optional) fail(ctx, 'plan.not-found', `${key}: ${src} does not exist`, 'fix the path, or mark the entry optional', spec.source);
    return;
  }
  const st = ctx.fs.stat(real.path);
  if (st?.kind === 'file') {
    emit({ guest, kind: 'file', host: real.path, size: st.size, mtimeMs: st.mtimeMs, ino: st.ino, mode: spec.mode ?? st.mode, why: [why('')] });
    return;
  }
  if (st?.kind !== 'dir') {
    fail(ctx, 'plan.not-a-file', `${key}: ${src} is ${st ? fileKindName(st) : 'gone'}, neither a regular file nor a directory`, 'sockets, devices and FIFOs cannot go into an image', spec.source);
    return;
  }
  add(ctx, { guest, kind: 'dir', why: [why(`tree ${real.path}`)] });
  const errors: OsvError[] = [];
  copyTree({
    fs: ctx.fs,
    sysroot: ctx.config.sysroot,
    root: real.path,
    guest,
    exclude,
    ...(spec.mode !== undefined ? { mode: spec.mode } : {}),
    why,
    emit,
    errors,
    warnings: ctx.warnings,
  });
  // What went wrong inside the tree is reported at the entry that copies it, under its key.
  for (const e of errors) pushOnce(ctx, new OsvError({ code: e.code, message: `${key}: ${e.message}`, details: e.details, ...(e.hint ? { hint: e.hint } : {}), ...(spec.source ? { source: spec.source } : {}) }));
}

/**
 * A source in /proc or /sys of this host, as written or where its links lead, cannot be copied:
 * the kernel makes those files up as they are read. Said once, naming the entry.
 */
function pseudoSource(ctx: PlanContext, spec: Extract<FileSpec, { kind: 'copy' }>, path: string, key: string, written?: string): boolean {
  const pseudo = ctx.config.sysroot === '/' ? pseudoFileSystem(path) : undefined;
  if (!pseudo) return false;
  fail(
    ctx,
    'plan.pseudo-file',
    `${key}: ${written !== undefined ? `${written} (${path})` : path} is in /${pseudo}, a pseudo file system that the kernel makes up as it is read: it cannot be copied into an image`,
    'copy what the program needs to a regular file or directory first (cp -rL SRC DIR) and name that as src',
    spec.source,
  );
  return true;
}

function add(ctx: PlanContext, entry: Parameters<PlanContext['table']['add']>[0]): void {
  const e = ctx.table.add(entry);
  if (e) ctx.errors.push(e);
}
