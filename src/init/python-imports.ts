// The Python packages an application imports, found by reading its source (never by running
// it): its `import` statements name top-level modules, which are looked up like sys.path would
// (the script's directory, the standard library, then the site directories), and the packages
// found in a site directory are read in turn. A package's own imports count only at module
// level (column 0): those inside functions, `try:` blocks or `if` branches are lazy or optional
// (blinker in Flask, cryptography in Werkzeug's TLS) and would bring what a person would not
// ship; `osv trace --write` adds what a run really loads. The application's own files count
// every import.

import * as path from 'node:path';
import type { HostFs } from '../hostfs.js';

export interface ImportSearch {
  fs: HostFs;
  /** The application's directory: its own modules and packages (shipped with it). */
  local: string;
  /** The standard library (`<prefix>/lib/pythonX.Y`): found there, nothing to add. */
  stdlib: string;
  /** Site directories in sys.path order (a venv's site-packages, dist-packages). */
  sites: string[];
}

export interface FoundModule {
  /** The top-level module name. */
  name: string;
  /** The directory it was found in (`local` or one of `sites`). */
  from: string;
  /** The package directory or module file. */
  path: string;
  /** Its distribution's metadata directory (`*.dist-info`, `*.egg-info`), when there is one. */
  metadata?: string;
}

const LIMITS = { files: 20_000, bytes: 1 << 20 } as const;

/** Top-level module names of the import statements in Python source. */
export function importedNames(source: string, moduleLevelOnly: boolean): string[] {
  const names = new Set<string>();
  for (const line of source.split('\n')) {
    if (moduleLevelOnly && /^\s/.test(line)) continue;
    const imp = /^\s*import\s+([^#;]+)/.exec(line);
    if (imp) for (const part of imp[1]!.split(',')) addName(names, part.trim().split(/\s+/)[0]);
    const from = /^\s*from\s+([A-Za-z_][\w.]*)\s+import\b/.exec(line);
    if (from) addName(names, from[1]);
  }
  return [...names];
}

function addName(names: Set<string>, dotted: string | undefined): void {
  const top = dotted?.split('.')[0];
  if (top && /^[A-Za-z_]\w*$/.test(top) && top !== '__future__') names.add(top);
}

/** Normalized distribution or module name (PEP 503): lowercase, runs of -_. as _. */
const norm = (n: string): string => n.toLowerCase().replace(/[-_.]+/g, '_');

export class ImportScanner {
  private readonly found = new Map<string, FoundModule>();
  private readonly done = new Set<string>();
  private readonly listings = new Map<string, string[]>();
  private filesRead = 0;

  constructor(private readonly s: ImportSearch) {}

  /** Code given on the command line (`-c`), a module run with `-m`, or script files. */
  addCode(code: string): void {
    for (const n of importedNames(code, false)) this.module(n);
  }

  addModule(name: string): void {
    this.module(name.split('.')[0]!);
  }

  addScript(file: string): void {
    this.readImports(file, false);
  }

  /** What was found outside the standard library, in the order first imported. */
  modules(): FoundModule[] {
    return [...this.found.values()];
  }

  private list(dir: string): string[] {
    let names = this.listings.get(dir);
    if (!names) {
      try {
        names = this.s.fs.stat(dir)?.kind === 'dir' ? this.s.fs.readdir(dir) : [];
      } catch {
        names = [];
      }
      this.listings.set(dir, names);
    }
    return names;
  }

  /** Where `name` is in `dir`: a package directory, a module file or an extension module. */
  private lookup(dir: string, name: string): string | undefined {
    const names = this.list(dir);
    if (names.includes(name) && this.s.fs.stat(path.join(dir, name))?.kind === 'dir') return path.join(dir, name);
    const file = names.find((n) => n === `${name}.py` || (n.startsWith(`${name}.`) && n.endsWith('.so')));
    return file ? path.join(dir, file) : undefined;
  }

  private module(name: string): void {
    if (this.done.has(name)) return;
    this.done.add(name);
    const local = this.lookup(this.s.local, name);
    if (local) {
      this.found.set(name, { name, from: this.s.local, path: local });
      this.readTree(local, false);
      return;
    }
    if (this.lookup(this.s.stdlib, name) || this.lookup(path.join(this.s.stdlib, 'lib-dynload'), name)) return;
    for (const site of this.s.sites) {
      const hit = this.lookup(site, name);
      if (!hit) continue;
      const metadata = this.metadata(site, name);
      this.found.set(name, { name, from: site, path: hit, ...(metadata ? { metadata } : {}) });
      this.readTree(hit, true);
      return;
    }
    // Not found: a built-in module (sys, _io), or not installed (the program fails the same on the host).
  }

  /** The `*.dist-info`/`*.egg-info` of the distribution that provides `name` in `site`. */
  private metadata(site: string, name: string): string | undefined {
    for (const n of this.list(site)) {
      const m = /^(.+?)-[^-]*\.(dist-info|egg-info)$/.exec(n) ?? /^(.+)\.(egg-info)$/.exec(n);
      if (!m) continue;
      const dir = path.join(site, n);
      if (norm(m[1]!) === norm(name)) return dir;
      const top = this.read(path.join(dir, 'top_level.txt'));
      if (top?.split(/\s+/).includes(name)) return dir;
    }
    return undefined;
  }

  private read(file: string): string | undefined {
    if (this.filesRead >= LIMITS.files) return undefined;
    try {
      const st = this.s.fs.stat(file);
      if (st?.kind !== 'file') return undefined;
      this.filesRead++;
      return this.s.fs.readRange(file, 0, LIMITS.bytes).toString('utf8');
    } catch {
      return undefined;
    }
  }

  private readImports(file: string, moduleLevelOnly: boolean): void {
    const text = this.read(file);
    if (text !== undefined) for (const n of importedNames(text, moduleLevelOnly)) this.module(n);
  }

  /** Every .py file of a package (or the one module file). */
  private readTree(p: string, moduleLevelOnly: boolean): void {
    if (p.endsWith('.py')) return this.readImports(p, moduleLevelOnly);
    if (this.s.fs.stat(p)?.kind !== 'dir') return;
    for (const n of this.list(p)) {
      if (n === '__pycache__' || n === 'tests' || n === 'test') continue;
      const child = path.join(p, n);
      if (n.endsWith('.py')) this.readImports(child, moduleLevelOnly);
      else if (!n.includes('.') && this.s.fs.lstat(child)?.kind === 'dir') this.readTree(child, moduleLevelOnly);
    }
  }
}
