// Version-manager shims: `python3` on PATH is often a small shell script of pyenv or asdf that
// picks an installed version and execs it. OSv cannot run a script, and the shim is not the
// interpreter anyway: the real one is found here by reading what the shim would read (its
// environment variables and version files), never by running it.
//
// pyenv: $PYENV_ROOT/shims/NAME; the version comes from $PYENV_VERSION, else the first
//   .python-version from the working directory up, else $PYENV_ROOT/version ("system" means the
//   next NAME on PATH); the program is $PYENV_ROOT/versions/<version>/bin/NAME.
// asdf: $ASDF_DATA_DIR/shims/NAME (default ~/.asdf), whose text names its plugins
//   ("# asdf-plugin: python 3.12.1"); the version comes from $ASDF_<PLUGIN>_VERSION, else the
//   first .tool-versions from the working directory up (then ~/.tool-versions); the program
//   is $ASDF_DATA_DIR/installs/<plugin>/<version>/bin/NAME.
// nvm needs nothing: its node is a real binary under ~/.nvm/versions/node/<v>/bin.

import * as path from 'node:path';
import type { HostFs } from '../hostfs.js';
import { lookupOnPath } from '../plan/path-lookup.js';

export type ShimResult =
  | { kind: 'none' }
  /** Followed: the program the shim would run, and how that was decided. */
  | { kind: 'followed'; manager: 'pyenv' | 'asdf'; program: string; note: string }
  /** A shim whose choice could not be made out: why, in a sentence. */
  | { kind: 'unresolved'; manager: 'pyenv' | 'asdf'; why: string };

const HEAD_BYTES = 4096;

function head(fs: HostFs, file: string): string | undefined {
  try {
    const text = fs.readRange(file, 0, HEAD_BYTES).toString('latin1');
    return text.startsWith('#!') ? text : undefined;
  } catch {
    return undefined;
  }
}

/** A file's text, when it is a readable regular file. */
function fileAt(fs: HostFs, file: string): { file: string; text: string } | undefined {
  try {
    return fs.stat(file)?.kind === 'file' ? { file, text: fs.readFile(file).toString('utf8') } : undefined;
  } catch {
    return undefined;
  }
}

/** The first `name` file from `dir` up to `/`. */
function findUp(fs: HostFs, dir: string, name: string): { file: string; text: string } | undefined {
  for (let d = dir; ; d = path.dirname(d)) {
    const found = fileAt(fs, path.join(d, name));
    if (found || d === path.dirname(d)) return found;
  }
}

/** The words of a version file, comments left out. */
const words = (text: string): string[] => text.split('\n').flatMap((l) => l.replace(/#.*/, '').trim().split(/\s+/)).filter(Boolean);

const isExecutable = (fs: HostFs, p: string): boolean => {
  const st = fs.stat(p);
  return st?.kind === 'file' && (st.mode & 0o111) !== 0;
};

export interface ShimContext {
  fs: HostFs;
  env: Record<string, string | undefined>;
  /** Where version files are looked for (the working directory). */
  cwd: string;
  home: string;
}

/** If `file` (found on PATH as `name`) is a pyenv or asdf shim, the program it would run. */
export function followShim(ctx: ShimContext, file: string, name: string): ShimResult {
  const text = head(ctx.fs, file);
  if (text === undefined) return { kind: 'none' };
  if (/\bpyenv\b/.test(text) && /\bexec\b/.test(text)) return pyenv(ctx, file, name, text);
  if (/^# asdf-plugin: /m.test(text)) return asdf(ctx, file, name, text);
  return { kind: 'none' };
}

/** The versions pyenv would try, in order, and where that choice was read. */
function pyenvVersions(ctx: ShimContext, root: string): { versions: string[]; from: string } {
  const fromEnv = ctx.env['PYENV_VERSION'];
  if (fromEnv) return { versions: fromEnv.split(':'), from: 'PYENV_VERSION' };
  const file = findUp(ctx.fs, ctx.cwd, '.python-version') ?? fileAt(ctx.fs, path.join(root, 'version'));
  const versions = file ? words(file.text) : [];
  return file && versions.length ? { versions, from: file.file } : { versions: ['system'], from: 'no version file' };
}

function pyenv(ctx: ShimContext, shim: string, name: string, text: string): ShimResult {
  const shims = path.dirname(shim);
  // The shim exports the root pyenv baked into it, over the environment's.
  const root = /^export PYENV_ROOT="([^"]+)"$/m.exec(text)?.[1] || ctx.env['PYENV_ROOT'] || path.dirname(shims);
  const { versions, from } = pyenvVersions(ctx, root);
  for (const v of versions) {
    if (v === 'system') {
      // The next NAME on PATH that is not one of pyenv's shims.
      const rest = (ctx.env['PATH'] ?? '').split(':').filter((d) => path.resolve(d) !== shims && !d.startsWith(path.join(root, 'plugins')));
      const found = lookupOnPath(ctx.fs, name, rest.join(':'), '/');
      if (found.found) return { kind: 'followed', manager: 'pyenv', program: found.path, note: `${shim} is a pyenv shim; pyenv selects "system" (${from}): ${found.path}` };
      continue;
    }
    const program = path.join(root, 'versions', v, 'bin', name);
    if (isExecutable(ctx.fs, program)) return { kind: 'followed', manager: 'pyenv', program, note: `${shim} is a pyenv shim; pyenv selects ${v} (${from}): ${program}` };
  }
  return { kind: 'unresolved', manager: 'pyenv', why: `${shim} is a pyenv shim, and none of the versions it would use (${versions.join(', ')}, from ${from}) has bin/${name} under ${path.join(root, 'versions')}` };
}

function asdf(ctx: ShimContext, shim: string, name: string, text: string): ShimResult {
  const data = ctx.env['ASDF_DATA_DIR'] || path.dirname(path.dirname(shim));
  const plugins = [...new Set([...text.matchAll(/^# asdf-plugin: (\S+)/gm)].map((m) => m[1]!))];
  const files = [findUp(ctx.fs, ctx.cwd, '.tool-versions'), fileAt(ctx.fs, path.join(ctx.home, '.tool-versions'))].filter((f) => f !== undefined);
  for (const plugin of plugins) {
    const variable = `ASDF_${plugin.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_VERSION`;
    const line = (t: string): string[] => words(new RegExp(`^${plugin}[ \t]+(.+)$`, 'm').exec(t)?.[1] ?? '');
    const chosen = ctx.env[variable]
      ? { versions: words(ctx.env[variable]), from: variable }
      : files.map((f) => ({ versions: line(f.text), from: f.file })).find((c) => c.versions.length > 0);
    for (const v of chosen?.versions ?? []) {
      const program = path.join(data, 'installs', plugin, v, 'bin', name);
      if (isExecutable(ctx.fs, program)) return { kind: 'followed', manager: 'asdf', program, note: `${shim} is an asdf shim; asdf selects ${plugin} ${v} (${chosen!.from}): ${program}` };
    }
  }
  return { kind: 'unresolved', manager: 'asdf', why: `${shim} is an asdf shim, and no version of ${plugins.join(', ') || 'its plugin'} set in .tool-versions or ASDF_*_VERSION is installed under ${path.join(data, 'installs')}` };
}
