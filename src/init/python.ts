// `osv init` for a Python interpreter: the interpreter's version and installation (a venv's:
// the one it was made from) go into template:python's variables, the script into `files`, and
// the packages the application imports from the venv's site-packages or the system's
// dist-packages into `files` as one tree per package, at their host paths (where Python's
// site module, or PYTHONPATH for a venv, finds them in the guest).

import * as path from 'node:path';
import type { HostFs } from '../hostfs.js';
import { appPath, type DraftGroup, type InitDraft } from './draft.js';
import type { Program } from './program.js';
import { ImportScanner, type FoundModule } from './python-imports.js';

export interface PythonFacts {
  version: string;
  /** The installation of the real interpreter (`/usr`, `/usr/local`, a pyenv version). */
  prefix: string;
  /** The interpreter binary the template copies. */
  binary: string;
  /** The venv the program belongs to. */
  venv?: string;
  /** Site directories in sys.path order. */
  sites: string[];
  notes: string[];
}

const PY_NAME = /^python3(\.\d+)?$/;

/** Whether a program file (its name, or the real file's) is a CPython 3 interpreter. */
export const isPython = (p: Program): boolean => PY_NAME.test(path.basename(p.real)) || (PY_NAME.test(path.basename(p.path)) && path.basename(p.real).startsWith('python'));

function readText(fs: HostFs, file: string): string | undefined {
  try {
    return fs.stat(file)?.kind === 'file' ? fs.readFile(file).toString('utf8') : undefined;
  } catch {
    return undefined;
  }
}

/** `key = value` of a venv's pyvenv.cfg. */
const cfgValue = (cfg: string, key: string): string | undefined => new RegExp(`^\\s*${key}\\s*=\\s*(.*?)\\s*$`, 'm').exec(cfg)?.[1];

const isDir = (fs: HostFs, p: string): boolean => fs.stat(p)?.kind === 'dir';

export function pythonFacts(fs: HostFs, p: Program): PythonFacts {
  const notes: string[] = [];
  // A venv: <venv>/bin/python3 beside <venv>/pyvenv.cfg. Its interpreter is a link to the base
  // one (or a copy of it, --copies: then `home` in pyvenv.cfg names the base's bin/).
  const venvDir = path.dirname(path.dirname(p.path));
  const cfg = readText(fs, path.join(venvDir, 'pyvenv.cfg'));
  let real = p.real;
  if (cfg !== undefined && real.startsWith(venvDir + '/')) {
    const home = cfgValue(cfg, 'home');
    const base = home ? fs.readdir(home).find((n) => n === path.basename(real)) ?? fs.readdir(home).find((n) => /^python3\.\d+$/.test(n)) : undefined;
    if (home && base) real = path.join(home, base);
  }
  const prefix = path.dirname(path.dirname(real));
  const version =
    /python(3\.\d+)$/.exec(path.basename(real))?.[1] ??
    (cfg !== undefined ? /^(3\.\d+)/.exec(cfgValue(cfg, 'version') ?? cfgValue(cfg, 'version_info') ?? '')?.[1] : undefined) ??
    onlyStdlib(fs, prefix) ??
    '3';
  const binary = /python3\.\d+$/.test(real) ? real : path.join(prefix, 'bin', `python${version}`);
  if (!readText(fs, path.join(prefix, 'lib', `python${version}`, 'os.py')))
    notes.push(`${prefix}/lib/python${version} holds no standard library (os.py): set pythonPrefix and pythonVersion to the installation the interpreter uses`);

  const sites: string[] = [];
  const venv = cfg !== undefined ? venvDir : undefined;
  if (venv) sites.push(path.join(venv, 'lib', `python${version}`, 'site-packages'));
  if (!venv || cfgValue(cfg!, 'include-system-site-packages') === 'true') {
    sites.push(path.join(prefix, 'lib', `python${version}`, 'site-packages'));
    // Debian's layout (its site.py): /usr/local/lib/python3.X/dist-packages, /usr/lib/python3/dist-packages.
    if (prefix === '/usr') sites.push(`/usr/local/lib/python${version}/dist-packages`, '/usr/lib/python3/dist-packages', `/usr/lib/python${version}/dist-packages`);
  }
  return { version, prefix, binary, ...(venv ? { venv } : {}), sites: sites.filter((s) => isDir(fs, s)), notes };
}

/** The one pythonX.Y standard library under a prefix. */
function onlyStdlib(fs: HostFs, prefix: string): string | undefined {
  let names: string[];
  try {
    names = fs.readdir(path.join(prefix, 'lib'));
  } catch {
    return undefined;
  }
  const libs = names.filter((n) => /^python3\.\d+$/.test(n) && readText(fs, path.join(prefix, 'lib', n, 'os.py')) !== undefined);
  return libs.length === 1 ? libs[0]!.slice('python'.length) : undefined;
}

/** Interpreter options that take a value (`-W arg`, `-X opt`). */
const WITH_VALUE = new Set(['-W', '-X', '-Q']);

export function pythonDraft(fs: HostFs, p: Program, args: string[], projectDir: string): InitDraft {
  const facts = pythonFacts(fs, p);
  const cmd = ['/usr/bin/python3'];
  const groups: DraftGroup[] = [];
  let i = 0;
  for (; i < args.length && args[i]!.startsWith('-') && !['-c', '-m', '-'].includes(args[i]!); i++) {
    cmd.push(args[i]!);
    if (WITH_VALUE.has(args[i]!) && i + 1 < args.length) cmd.push(args[++i]!);
  }
  const first = args[i];
  const scanner = (local: string): ImportScanner => new ImportScanner({ fs, local, stdlib: path.join(facts.prefix, 'lib', `python${facts.version}`), sites: facts.sites });
  let scan: ImportScanner | undefined;
  let what = 'the interpreter';
  let local = projectDir;
  if ((first === '-c' || first === '-m') && i + 1 < args.length) {
    scan = scanner(projectDir);
    if (first === '-c') scan.addCode(args[i + 1]!);
    else scan.addModule(args[i + 1]!);
    what = first === '-c' ? 'the code given with -c' : `the module ${args[i + 1]}`;
    cmd.push(...args.slice(i));
  } else if (first !== undefined && first !== '-') {
    const script = path.resolve(projectDir, first);
    local = path.dirname(script);
    scan = scanner(local);
    scan.addScript(script);
    const mapped = appPath(projectDir, script);
    groups.push({ comment: 'The script.', files: [mapped] });
    what = path.basename(script);
    cmd.push(mapped.dest, ...args.slice(i + 1));
  } else cmd.push(...args.slice(i));

  const found = scan?.modules() ?? [];
  const own = found.filter((m) => m.from === local);
  if (own.length) groups.push({ comment: `The modules of this application that ${what} imports.`, files: own.map((m) => appPath(projectDir, m.path)) });
  for (const site of facts.sites) {
    const from = found.filter((m) => m.from === site);
    if (from.length) groups.push({ comment: `Packages ${what} imports, from ${site} (one tree each, at the same path).`, files: from.flatMap(siteEntries) });
  }
  const moduleRun = first === '-c' || first === '-m';
  return {
    runtime: 'python',
    why: `${p.given} is Python ${facts.version} (${facts.binary}${facts.venv ? `, the venv ${facts.venv}` : ''})`,
    notes: facts.notes,
    vars: [
      { name: 'pythonPrefix', value: facts.prefix, comment: 'the interpreter\'s installation (osv init read it from the program given)' },
      { name: 'pythonVersion', value: facts.version },
      ...(facts.binary !== path.join(facts.prefix, 'bin', `python${facts.version}`) ? [{ name: 'python', value: facts.binary }] : []),
    ],
    files: groups,
    env: facts.venv ? { PYTHONPATH: path.join(facts.venv, 'lib', `python${facts.version}`, 'site-packages') } : {},
    cmd,
    // -c and -m start from the working directory: the application's own modules are in /app.
    ...(moduleRun && own.length ? { cwd: '/app' } : {}),
  };
}

/** A package (or module) from a site directory, and its metadata, each at its host path. */
function siteEntries(m: FoundModule): Array<{ src: string; dest: string }> {
  return [m.path, ...(m.metadata ? [m.metadata] : [])].map((p) => ({ src: p, dest: p }));
}
