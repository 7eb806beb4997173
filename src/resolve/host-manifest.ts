// `osv resolve`: the output of OSv's scripts/manifest_from_host.sh (facts doc §2), computed
// from our own closure. Same modes and line format; correct labels, the true closure (only
// the kernel's libraries are left out), every name a library is needed by, and errors
// instead of silent gaps.

import { posix } from 'node:path';
import { OsvError } from '../diagnostics/error.js';
import { err, ok, type Result } from '../diagnostics/result.js';
import type { Arch } from '../config/types.js';
import { kindLabel } from '../elf/classify.js';
import { ElfFile } from '../elf/file.js';
import { specialFileName, type HostFs } from '../hostfs.js';
import { resolveSession } from './index.js';
import type { ElfReadCache } from './read-cache.js';
import { Sysroot } from './sysroot.js';
import type { Closure, ResolvedObject, ResolveRoot } from './types.js';

export interface HostManifestOptions {
  /** -l: a name that is not a file is a library soname, found as dlopen would. */
  library: boolean;
  /** -r: in directory mode, also resolve the shared libraries under it. */
  recursive: boolean;
  /** -R: in directory mode, the guest prefix is the directory's real path. */
  realPrefix: boolean;
  /** -i: with -l, a library that is not found prints nothing and is not an error. */
  ignoreMissing: boolean;
  sysroot: string;
  arch: Arch;
  libraryPath: string[];
  hiddenSymbols: boolean;
  /** false: list every library, kernel-provided ones too (like dl=linux without the path rewrite). */
  kernelFilter: boolean;
  optional: string[];
  /** The directory relative targets are taken from. */
  cwd: string;
  /** PATH, for a program given by name. */
  pathEnv: string;
  /** Where what is read of each ELF file is kept between processes (none by default). */
  elfReads?: ElfReadCache;
}

export interface ManifestLine {
  guest: string;
  host: string;
}

export interface HostManifest {
  mode: 'file' | 'library' | 'program' | 'directory';
  /** The comment line before the target (not in directory mode). */
  label?: string;
  target: ManifestLine[];
  /** undefined: no dependency section (directory mode without -r, or -i with nothing found). */
  deps?: ManifestLine[];
  closure?: Closure;
  /** What manifest_from_host.sh -w puts in append_cmdline for a program. */
  cmdline?: string;
}

export function hostManifest(target: string, sub: string | undefined, o: HostManifestOptions, fs: HostFs): Result<HostManifest, OsvError> {
  try {
    return ok(build(target, sub, o, fs));
  } catch (e) {
    if (e instanceof OsvError) return err(e);
    throw e;
  }
}

function build(target: string, sub: string | undefined, o: HostManifestOptions, fs: HostFs): HostManifest {
  const sys = new Sysroot(fs, o.sysroot);
  const looksLikePath = target.includes('/');
  const inside = looksLikePath ? toSysroot(target, o, sys) : undefined;
  // Like the script's `[ -d ]` / `[ -f ]`: a bare name is first tried in the current directory.
  const hit = sys.stat(inside ?? posix.join(sys.inside(posix.resolve(o.cwd)) ?? '/', target));

  if (hit?.st.kind === 'dir') return directory(hit.real, sub, o, sys);
  if (hit?.st.kind === 'file') {
    const c = closure([{ path: hit.real }], o, fs);
    const root = c.objects[0]!;
    const lib = root.kind === 'shared-library';
    return {
      mode: 'file',
      label: kindLabel[root.kind],
      target: [{ guest: lib ? `/usr/lib/${posix.basename(target)}` : `/${posix.basename(target)}`, host: sys.host(hit.real) }],
      deps: deps(c, sys),
      closure: c,
      ...(lib ? {} : { cmdline: `/${posix.basename(target)} --help` }),
    };
  }
  if (hit) {
    throw new OsvError({
      code: 'resolve.not-a-file',
      message: `${target} is ${specialFileName(hit.st)}: neither a program, a library nor a directory`,
      hint: 'give a compiled program, a shared library or a directory',
    });
  }
  if (looksLikePath) throw new OsvError({ code: 'resolve.not-found', message: `${target} does not exist${o.sysroot === '/' ? '' : ` in the sysroot ${o.sysroot}`}` });
  if (o.library) {
    const c = closure([{ soname: target, optional: true }], o, fs);
    const lib = c.objects.find((x) => x.root);
    if (!lib) {
      if (o.ignoreMissing) return { mode: 'library', target: [], closure: c };
      // The library is the only root, so the only library that can be missing.
      throw new OsvError({
        code: 'resolve.not-found',
        message: `could not find the library ${target}`,
        details: c.missing[0]!.tried.map((t) => `tried ${sys.host(t)}`),
        hint: 'give its soname exactly (e.g. libssl.so.3), or add its directory with --library-path',
      });
    }
    return { mode: 'library', label: 'Shared library', target: [{ guest: `/usr/lib/${lib.soname}`, host: sys.host(lib.path) }], deps: deps(c, sys), closure: c };
  }
  const prog = onPath(target, o, sys);
  const c = closure([{ path: prog }], o, fs);
  const root = c.objects[0]!;
  return {
    mode: 'program',
    label: kindLabel[root.kind],
    target: [{ guest: `/${target}`, host: root.hostPath }],
    deps: deps(c, sys),
    closure: c,
    cmdline: `/${target} --help`,
  };
}

/**
 * A path argument as a path inside the sysroot: absolute ones are inside it already (on the
 * host itself too, where the host path is the path inside).
 */
function toSysroot(target: string, o: HostManifestOptions, sys: Sysroot): string {
  if (target.startsWith('/')) return posix.normalize(target);
  const host = posix.resolve(o.cwd, target);
  const inside = sys.inside(host);
  if (inside === undefined) {
    throw new OsvError({ code: 'resolve.outside-sysroot', message: `${host} is not inside the sysroot ${o.sysroot}`, hint: 'give a path inside the sysroot (absolute paths are taken inside it)' });
  }
  return inside;
}

/**
 * The closure, or an error listing every library that is missing and not optional. Each of
 * those was needed by something (a root named by soname is optional), so its chain is never empty.
 */
function closure(roots: ResolveRoot[], o: HostManifestOptions, fs: HostFs): Closure {
  const r = resolveSession(o.elfReads)(roots, { arch: o.arch, sysroot: o.sysroot, libraryPath: o.libraryPath, hiddenSymbols: o.hiddenSymbols, optional: o.optional, osvFilter: o.kernelFilter }, fs);
  if (!r.ok) throw r.error;
  const fatal = r.value.missing.filter((m) => !m.optional);
  if (fatal.length > 0) {
    throw new OsvError({
      code: 'resolve.missing',
      message: `${fatal.length === 1 ? 'a library is' : `${fatal.length} libraries are`} missing: ${fatal.map((m) => m.soname).join(', ')}`,
      details: fatal.flatMap((m) => [`${m.soname}, needed by ${m.chain.join(' -> ')}; tried:`, ...m.tried.map((t) => `  ${t}`)]),
      hint: 'install it, add its directory with --library-path, or mark it optional with --optional <soname>',
    });
  }
  return r.value;
}

/**
 * One line per name a shipped library is asked for: OSv's loader opens a DT_NEEDED name as a
 * file in / and /usr/lib, so a library needed as libfoo.so whose soname is libfoo.so.1 needs
 * both names. A DT_NEEDED path (with a slash) is placed at that path.
 */
function deps(c: Closure, sys: Sysroot, exclude?: (o: ResolvedObject) => boolean): ManifestLine[] {
  const lines = new Map<string, ManifestLine>();
  for (const obj of c.objects) {
    // (A library without a host file is the kernel's: providedByKernel.)
    if (obj.root || obj.providedByKernel || exclude?.(obj)) continue;
    const host = sys.host(obj.path);
    for (const name of new Set([obj.soname, ...(obj.requestedAs ?? [])])) {
      const guest = name.includes('/') ? obj.path : `/usr/lib/${name}`;
      lines.set(`${guest}: ${host}`, { guest, host });
    }
  }
  return [...lines.keys()].sort(byBytes).map((k) => lines.get(k)!);
}

const byBytes = (a: string, b: string): number => Buffer.compare(Buffer.from(a), Buffer.from(b));

function directory(real: string, sub: string | undefined, o: HostManifestOptions, sys: Sysroot): HostManifest {
  const rel = sub ? `${sub.replace(/^\/+|\/+$/g, '')}/` : '';
  const line: ManifestLine = { guest: `${o.realPrefix ? sys.host(real) : ''}/${rel}**`, host: `${sys.host(real)}/${rel}**` };
  if (!o.recursive) return { mode: 'directory', target: [line] };
  const libs = sharedLibraries(sys, posix.join(real, rel), 0);
  if (libs.length === 0) return { mode: 'directory', target: [line], deps: [] };
  const c = closure(
    libs.map((path) => ({ path })),
    o,
    sys.fs,
  );
  // A library's host path is a file's, never the directory's own.
  const within = (x: ResolvedObject): boolean => x.hostPath.startsWith(sys.host(real) + '/');
  return { mode: 'directory', target: [line], deps: deps(c, sys, within), closure: c };
}

/** Regular files under a directory named like shared libraries (lib.so, lib.so.1.2) that are ELF. */
function sharedLibraries(sys: Sysroot, dir: string, depth: number): string[] {
  if (depth > 64) return [];
  const out: string[] = [];
  let names: string[];
  try {
    names = sys.fs.readdir(sys.host(dir));
  } catch {
    return [];
  }
  for (const n of names) {
    const p = dir === '/' ? `/${n}` : `${dir}/${n}`;
    const st = sys.fs.lstat(sys.host(p));
    if (st?.kind === 'dir') out.push(...sharedLibraries(sys, p, depth + 1));
    else if (st?.kind === 'file' && /\.so(\.\d+)*$/.test(n) && isElf(sys, p)) out.push(p);
  }
  return out;
}

function isElf(sys: Sysroot, p: string): boolean {
  try {
    ElfFile.open(sys.fs, sys.host(p)).close();
    return true;
  } catch {
    return false;
  }
}

/** A program name looked up on PATH inside the sysroot, as `which` would; scripts are refused with a hint. */
function onPath(name: string, o: HostManifestOptions, sys: Sysroot): string {
  const hits: Array<{ path: string; real: string }> = [];
  for (const d of o.pathEnv.split(':')) {
    if (!d.startsWith('/')) continue;
    const path = `${d.replace(/\/+$/, '')}/${name}`;
    const hit = sys.stat(path);
    if (hit?.st.kind === 'file' && hit.st.mode & 0o111) hits.push({ path, real: hit.real });
  }
  const first = hits[0];
  if (first === undefined) {
    throw new OsvError({ code: 'resolve.not-found', message: `could not find the program ${name} on PATH`, hint: 'give its path, or use -l for a library' });
  }
  if (!isElf(sys, first.real)) {
    const elf = hits.find((h) => isElf(sys, h.real));
    throw new OsvError({
      code: 'resolve.not-elf',
      message: `${sys.host(first.path)} (found on PATH for ${name}) is not an ELF program (a script or a shim)`,
      hint: elf ? `the next ${name} on PATH is an ELF program: osv resolve ${sys.host(elf.path)}` : 'give the path of the real program',
    });
  }
  return first.real;
}

/** The manifest_from_host.sh text. */
export function formatHostManifest(m: HostManifest): string {
  const out: string[] = [];
  if (m.label !== undefined) out.push(`# ${m.label}`);
  for (const l of m.target) out.push(`${l.guest}: ${l.host}`);
  if (m.deps) {
    out.push('# --------------------', '# Dependencies        ', '# --------------------');
    for (const l of m.deps) out.push(`${l.guest}: ${l.host}`);
    out.push('# --------------------');
  }
  return out.length ? out.join('\n') + '\n' : '';
}
