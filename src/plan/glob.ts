// Glob patterns for `files[].src`, `files[].exclude` and `libraries[].name`.
// `*` and `?` stay inside one path component, `[...]` is a character class (`[!...]` negates),
// `**` as a whole component spans any number of components (also none), `\` escapes.
// Dot files are matched like any other name: an image copies what is there, hidden or not.

import type { HostFs, HostStat } from '../hostfs.js';
import { compareBytes } from '../hostfs.js';

export { hasGlob } from '../config/values.js';
import { hasGlob } from '../config/values.js';

function componentSource(c: string): string {
  let re = '';
  for (let i = 0; i < c.length; i++) {
    const ch = c[i] as string;
    if (ch === '\\' && i + 1 < c.length) re += escapeRe(c[++i] as string);
    else if (ch === '*') re += '[^/]*';
    else if (ch === '?') re += '[^/]';
    else if (ch === '[') {
      const end = c.indexOf(']', i + 2);
      if (end < 0) {
        re += '\\[';
        continue;
      }
      let body = c.slice(i + 1, end);
      const negate = body.startsWith('!') || body.startsWith('^');
      if (negate) body = body.slice(1);
      re += charClass(body, negate);
      i = end;
    } else re += escapeRe(ch);
  }
  return re;
}

/**
 * A `[...]` class as a regular expression. A range written backwards (`[z-a]`) matches no
 * character, as in fnmatch: the class then matches nothing, instead of failing to compile.
 */
function charClass(body: string, negate: boolean): string {
  const cls = `[${negate ? '^/' : ''}${body.replace(/\\/g, '\\\\').replace(/\]/g, '\\]')}]`;
  try {
    new RegExp(cls);
    return cls;
  } catch {
    return negate ? '[^/]' : '(?!)';
  }
}

const escapeRe = (s: string): string => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/** A regular expression for a whole slash-separated pattern (no leading slash). */
function patternSource(pattern: string): string {
  const parts = pattern.split('/');
  let re = '';
  parts.forEach((p, i) => {
    const last = i === parts.length - 1;
    if (p === '**') re += last ? '(?:.*)' : '(?:[^/]+/)*';
    else re += componentSource(p) + (last ? '' : '/');
  });
  return re;
}

/**
 * A matcher for `exclude` patterns, applied to paths relative to the copied tree (as the
 * schema says): `*.pyc` is a top-level name, `**\/*.pyc` any depth, `test/**` a subtree. A
 * leading `/` is allowed. `dir/**` also matches `dir` itself, so an excluded directory does
 * not leave an empty shell behind.
 */
export function compileExclude(patterns: string[]): (rel: string) => boolean {
  if (patterns.length === 0) return () => false;
  const sources = patterns.map((raw) => {
    const p = raw.replace(/\/+$/, '').replace(/^\/+/, '');
    if (p.endsWith('/**')) return `${patternSource(p.slice(0, -3))}(?:/.*)?`;
    return patternSource(p);
  });
  const re = new RegExp(`^(?:${sources.join('|')})$`, 's');
  return (rel) => re.test(rel);
}

/** Whole-string match of one absolute or relative pattern. */
export function globToRegExp(pattern: string): RegExp {
  const abs = pattern.startsWith('/');
  return new RegExp(`^${abs ? '/' : ''}${patternSource(abs ? pattern.slice(1) : pattern)}$`, 's');
}

/** How a glob expansion treats the directories it walks. */
export interface GlobWalk {
  /** A directory that cannot be listed (EACCES): told here, and nothing below it matches. Absent: the error is thrown. */
  unreadable?: (dir: string, e: Error) => void;
  /** A directory neither matched nor looked into (a pseudo file system): true to skip it. */
  skip?: (dir: string) => boolean;
}

/**
 * Expand an absolute host glob through HostFs, sorted in byte order. Symlinked directories are
 * matched but not descended by `**` (that is how loops are avoided); missing directories
 * simply match nothing.
 */
export function expandHostGlob(fs: HostFs, pattern: string, walk: GlobWalk = {}): string[] {
  const parts = pattern.split('/').filter((p) => p !== '');
  let current: string[] = ['/'];
  parts.forEach((part, i) => {
    const last = i === parts.length - 1;
    const next: string[] = [];
    for (const dir of current) {
      if (part === '**') {
        for (const d of descendants(fs, dir, walk)) next.push(d);
        continue;
      }
      if (!hasGlob(part)) {
        const p = join(dir, part.replace(/\\(.)/g, '$1'));
        if (last ? look(fs, p, walk, false) : look(fs, p, walk, true)?.kind === 'dir') next.push(p);
        continue;
      }
      if (look(fs, dir, walk, true)?.kind !== 'dir') continue;
      const re = new RegExp(`^${componentSource(part)}$`, 's');
      for (const name of list(fs, dir, walk)) {
        const p = join(dir, name);
        if (!re.test(name)) continue;
        if (look(fs, p, walk, true)?.kind === 'dir' ? !walk.skip?.(p) : last) next.push(p);
      }
    }
    current = next;
  });
  // `**` as last component: every descendant, files included.
  if (parts[parts.length - 1] === '**') current = current.flatMap((d) => [d, ...filesUnder(fs, d, walk)]);
  return [...new Set(current)].filter((p) => p !== '/').sort(compareBytes);
}

const join = (dir: string, name: string): string => (dir === '/' ? `/${name}` : `${dir}/${name}`);

/** The names in a directory; one that cannot be read is told to `walk` (and has none) or throws. */
function list(fs: HostFs, dir: string, walk: GlobWalk): string[] {
  try {
    return fs.readdir(dir);
  } catch (e) {
    if (!walk.unreadable) throw e;
    walk.unreadable(dir, e as Error);
    return [];
  }
}

/** stat or lstat; a path that cannot be looked at (EACCES on its directory) is told to `walk` (and absent) or throws. */
function look(fs: HostFs, p: string, walk: GlobWalk, follow: boolean): HostStat | undefined {
  try {
    return follow ? fs.stat(p) : fs.lstat(p);
  } catch (e) {
    if (!walk.unreadable) throw e;
    walk.unreadable(p.slice(0, p.lastIndexOf('/')) || '/', e as Error);
    return undefined;
  }
}

function descendants(fs: HostFs, dir: string, walk: GlobWalk): string[] {
  if (look(fs, dir, walk, false)?.kind !== 'dir' || walk.skip?.(dir)) return [];
  const out = [dir];
  for (const name of list(fs, dir, walk)) {
    const p = join(dir, name);
    if (look(fs, p, walk, false)?.kind === 'dir') out.push(...descendants(fs, p, walk));
  }
  return out;
}

function filesUnder(fs: HostFs, dir: string, walk: GlobWalk): string[] {
  if (look(fs, dir, walk, false)?.kind !== 'dir') return [];
  return list(fs, dir, walk).map((name) => join(dir, name)).filter((p) => look(fs, p, walk, false)?.kind !== 'dir');
}
