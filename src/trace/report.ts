// Turns what the program used (loader and strace logs) into what the plan lacks: each finding
// with its category, the reason it matters, and the configuration entry that would add it.

import * as fs from 'node:fs';
import { posix } from 'node:path';
import { classifyFile, classifyLibrary, REASONS, type Category } from './classify.js';
import type { LoaderTrace, LoadHow } from './ld-debug.js';
import type { SyscallTrace } from './strace.js';

/** What the image already holds, to subtract from what the program used. */
export interface PlannedPaths {
  /** Guest paths of every entry (files, directories, symlinks). */
  guests: ReadonlySet<string>;
  /** Real host paths of every copied file. */
  hosts: ReadonlySet<string>;
}

export const EMPTY_PLAN: PlannedPaths = { guests: new Set(), hosts: new Set() };

/** A line to add to osv.yaml. */
export type Addition =
  | { key: 'libraries'; value: string | { name: string; dest: string } }
  | { key: 'files'; value: { src: string; dest: string } | { dest: string; dir: true } };

export interface Finding {
  kind: 'library' | 'file' | 'directory';
  /** The path the program used: where the guest needs it. */
  path: string;
  /** The real host file (symlinks followed). */
  hostPath: string;
  category: Category;
  reason: string;
  /** Libraries: the name the loader was asked for, and the object that asked. */
  request?: string;
  by?: string;
  /** What `--write` adds; absent when the planner derives it (explained by `reason`). */
  add?: Addition;
}

export interface Ignored {
  path: string;
  why: string;
}

export interface TraceFindings {
  findings: Finding[];
  /** Other programs it started: OSv runs a single process. */
  programs: string[];
  /** Files it wrote: they need a writable filesystem (ext) or /tmp in the guest. */
  written: string[];
  ignored: Ignored[];
}

export interface AnalyzeInput {
  /** Absolute path of the traced program. */
  program: string;
  loader: LoaderTrace;
  syscalls?: SyscallTrace;
  plan: PlannedPaths;
  /** Sonames the OSv kernel provides (never shipped). */
  kernelSonames: ReadonlySet<string>;
  /** Directory the trace wrote its own logs in. */
  workDir: string;
  /** The working directory the program started in. */
  cwd?: string;
}

const PSEUDO = ['/proc/', '/sys/', '/dev/', '/run/'];
const LOADER_FILES = new Set(['/etc/ld.so.cache', '/etc/ld.so.preload']);

function realpath(p: string): string | undefined {
  try {
    return fs.realpathSync(p);
  } catch {
    return undefined;
  }
}

function kindOf(p: string): 'file' | 'dir' | 'other' | undefined {
  try {
    const s = fs.statSync(p);
    return s.isFile() ? 'file' : s.isDirectory() ? 'dir' : 'other';
  } catch {
    return undefined;
  }
}

const isLoader = (p: string): boolean => /^ld-linux[-\w.]*\.so\.\d+$|^ld64\.so\.\d+$|^ld-musl/.test(posix.basename(p));

/** Is `dir` a strict ancestor of `p`? */
const contains = (dir: string, p: string): boolean => p.startsWith(dir === '/' ? '/' : dir + '/');

export function analyze(input: AnalyzeInput): TraceFindings {
  const { plan, kernelSonames } = input;
  const findings: Finding[] = [];
  const ignored: Ignored[] = [];
  const programReal = realpath(input.program) ?? input.program;
  const seen = new Set<string>(); // real host paths already reported or ignored as libraries

  // Libraries, in load order. A library needed by a dlopen'd one comes with its closure.
  const dynamic = new Set<string>();
  const libraryReals = new Set<string>();
  for (const lib of input.loader.libraries) {
    const real = realpath(lib.path) ?? lib.path;
    libraryReals.add(real);
    const how: LoadHow | 'closure' = lib.how === 'needed' && dynamic.has(lib.by) ? 'closure' : lib.how;
    if (how !== 'needed') dynamic.add(lib.path);
    if (seen.has(real)) continue;
    seen.add(real);
    const soname = lib.request.includes('/') ? posix.basename(lib.path) : lib.request;
    if (kernelSonames.has(soname) || isLoader(lib.path)) {
      ignored.push({ path: lib.path, why: 'provided by the OSv kernel' });
      continue;
    }
    const byName = !lib.request.includes('/');
    const inPlan = byName
      ? plan.hosts.has(real) || plan.guests.has(`/usr/lib/${soname}`) || plan.guests.has(`/${soname}`)
      : plan.guests.has(lib.request);
    if (inPlan) {
      ignored.push({ path: lib.path, why: 'already in the plan' });
      continue;
    }
    const category = classifyLibrary(lib.path, how);
    const finding: Finding = {
      kind: 'library',
      path: byName ? lib.path : lib.request,
      hostPath: real,
      category,
      reason: REASONS[category],
      request: lib.request,
      by: lib.by,
    };
    // A soname is found by the guest's search path; a path must be at the same guest path.
    if (how === 'dlopen') finding.add = { key: 'libraries', value: byName ? lib.request : { name: lib.request, dest: lib.request } };
    findings.push(finding);
  }

  // Files and directories the program opened.
  const written = new Set<string>();
  const opened = new Map<string, { directory: boolean }>();
  for (const f of input.syscalls?.opened ?? []) {
    if (f.writes) written.add(f.path);
    if (!f.reads) continue;
    // Python reads __pycache__/NAME.cpython-3X.pyc only beside NAME.py: the source is what the
    // guest needs (the python template leaves caches out).
    const path = pythonSource(f.path) ?? f.path;
    const prev = opened.get(path);
    opened.set(path, { directory: (prev?.directory ?? false) || f.directory });
  }
  const files: Finding[] = [];
  const dirs: Finding[] = [];
  for (const [path, { directory }] of opened) {
    const why = ignoreReason(path);
    if (why) {
      ignored.push({ path, why });
      continue;
    }
    const real = realpath(path);
    const kind = real === undefined ? undefined : kindOf(real);
    if (real === undefined || kind === undefined) ignored.push({ path, why: 'gone when the program finished (a temporary file)' });
    else if (real === programReal) ignored.push({ path, why: 'the program itself' });
    else if (contains(input.workDir, path) || path === input.workDir) continue;
    else if (input.cwd !== undefined && path === input.cwd) ignored.push({ path, why: 'the directory the trace ran in' });
    else if (libraryReals.has(real)) continue; // mapped by the loader: reported as a library above
    else if (kind === 'other') ignored.push({ path, why: 'not a regular file or directory' });
    else if (plan.guests.has(path)) ignored.push({ path, why: 'already in the plan' });
    // The application's own files are in the image at another path (a script copied to /app).
    else if (kind === 'file' && plan.hosts.has(real)) ignored.push({ path, why: 'already in the plan (copied from this host file)' });
    else {
      const isDir = kind === 'dir' || directory;
      const category = classifyFile(path, isDir);
      const f: Finding = {
        kind: isDir ? 'directory' : 'file',
        path,
        hostPath: real,
        category,
        reason: isDir && category !== 'directory' ? `${REASONS[category]} (directory listed)` : REASONS[category],
        add: { key: 'files', value: isDir ? { dest: path, dir: true } : { src: path, dest: path } },
      };
      (isDir ? dirs : files).push(f);
    }
  }
  // A listed directory matters only when nothing reported or planned lies inside it.
  const covered = (d: string): boolean =>
    files.some((f) => contains(d, f.path)) || [...plan.guests].some((g) => contains(d, g)) || dirs.some((o) => contains(d, o.path));
  for (const d of dirs) {
    if (covered(d.path)) ignored.push({ path: d.path, why: 'implied by files inside it' });
    else files.push(d);
  }
  findings.push(...files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)));

  // Other programs it executed (the first exec is the program itself).
  const programs = [...new Set((input.syscalls?.executed ?? []).slice(1).map((e) => e.path))].filter(
    (p) => (realpath(p) ?? p) !== programReal,
  );
  return {
    findings,
    programs,
    written: [...written].filter((p) => !ignoreReason(p) && !contains(input.workDir, p)).sort(),
    ignored,
  };
}

function ignoreReason(path: string): string | undefined {
  if (PSEUDO.some((d) => path.startsWith(d) || path === d.slice(0, -1))) return 'kernel or runtime pseudo-file: OSv provides its own';
  if (LOADER_FILES.has(path)) return "the Linux loader's cache: OSv's loader does not read it";
  return undefined;
}

/** `/d/__pycache__/m.cpython-311.pyc` -> `/d/m.py` when that source exists. */
function pythonSource(path: string): string | undefined {
  const m = /^(.*)\/__pycache__\/([^/.]+)\.[^/]*\.pyc$/.exec(path);
  if (!m) return undefined;
  const src = `${m[1]}/${m[2]}.py`;
  return kindOf(src) === 'file' ? src : undefined;
}
