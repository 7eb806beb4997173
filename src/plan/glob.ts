// Glob patterns for `files[].src`, `files[].exclude` and `libraries[].name`.
// `*` and `?` stay inside one path component, `[...]` is a character class (`[!...]` negates),
// `**` as a whole component spans any number of components (also none), `\` escapes.
// Dot files are matched like any other name: an image copies what is there, hidden or not.

import type { HostFs } from '../hostfs.js';
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

/**
 * Expand an absolute host glob through HostFs, sorted in byte order. Symlinked directories are
 * matched but not descended by `**` (that is how loops are avoided); missing directories
 * simply match nothing.
 */
export function expandHostGlob(fs: HostFs, pattern: string): string[] {
  const parts = pattern.split('/').filter((p) => p !== '');
  let current: string[] = ['/'];
  parts.forEach((part, i) => {
    const last = i === parts.length - 1;
    const next: string[] = [];
    for (const dir of current) {
      if (part === '**') {
        for (const d of descendants(fs, dir)) next.push(d);
        continue;
      }
      if (!hasGlob(part)) {
        const p = join(dir, part.replace(/\\(.)/g, '$1'));
        if (last ? fs.lstat(p) : fs.stat(p)?.kind === 'dir') next.push(p);
        continue;
      }
      if (fs.stat(dir)?.kind !== 'dir') continue;
      const re = new RegExp(`^${componentSource(part)}$`, 's');
      for (const name of fs.readdir(dir)) {
        const p = join(dir, name);
        if (!re.test(name)) continue;
        if (last || fs.stat(p)?.kind === 'dir') next.push(p);
      }
    }
    current = next;
  });
  // `**` as last component: every descendant, files included.
  if (parts[parts.length - 1] === '**') current = current.flatMap((d) => [d, ...filesUnder(fs, d)]);
  return [...new Set(current)].filter((p) => p !== '/').sort(compareBytes);
}

const join = (dir: string, name: string): string => (dir === '/' ? `/${name}` : `${dir}/${name}`);

function descendants(fs: HostFs, dir: string): string[] {
  const out = [dir];
  if (fs.lstat(dir)?.kind !== 'dir') return [];
  for (const name of fs.readdir(dir)) {
    const p = join(dir, name);
    if (fs.lstat(p)?.kind === 'dir') out.push(...descendants(fs, p));
  }
  return out;
}

function filesUnder(fs: HostFs, dir: string): string[] {
  if (fs.lstat(dir)?.kind !== 'dir') return [];
  return fs.readdir(dir).map((name) => join(dir, name)).filter((p) => fs.lstat(p)?.kind !== 'dir');
}
