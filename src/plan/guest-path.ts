// Guest paths: what OSv's manifest syntax and file systems can hold. Normalized here once, so
// every later comparison (conflicts, sorting, the manifest writer) is plain string equality.

/** Why a guest path is unusable, or its normalized form. */
export type GuestPathCheck = { ok: true; path: string } | { ok: false; reason: string; hint: string };

const MAX_NAME_BYTES = 255;

/**
 * Normalize an absolute guest path: collapse `//` and `.`, drop a trailing `/`. Refuses what an
 * OSv image cannot hold or the manifest syntax cannot express, rather than guessing.
 */
export function normalizeGuestPath(input: string): GuestPathCheck {
  if (!input.startsWith('/')) return { ok: false, reason: 'is not absolute', hint: `write it as "/${input}"` };
  if (input.includes(': ')) return checkGuestName(input) ?? { ok: false, reason: 'contains ": "', hint: '' };
  const names: string[] = [];
  for (const name of input.split('/')) {
    if (name === '' || name === '.') continue;
    if (name === '..') return { ok: false, reason: 'contains "..", which could escape the image root', hint: 'write the path without ".." components' };
    const bad = checkGuestName(name);
    if (bad) return bad;
    names.push(name);
  }
  return { ok: true, path: '/' + names.join('/') };
}

/** One file name (no slash) as it will appear in the image; undefined when it is fine. */
export function checkGuestName(name: string): (GuestPathCheck & { ok: false }) | undefined {
  if (name.includes('\0')) return { ok: false, reason: 'contains a NUL byte', hint: 'remove the NUL byte from the path' };
  if (/[\n\r]/.test(name)) return { ok: false, reason: 'contains a line break', hint: 'OSv manifests are line based: use a name without line breaks' };
  if (/\p{Cs}/u.test(name)) return { ok: false, reason: 'contains a lone UTF-16 surrogate, which has no UTF-8 form', hint: 'use a name made of characters' };
  if (name.includes(': ')) {
    return { ok: false, reason: 'contains ": ", which OSv\'s manifest syntax uses as its separator', hint: 'rename it without the colon-space sequence' };
  }
  const bytes = Buffer.byteLength(name);
  if (bytes > MAX_NAME_BYTES) {
    return { ok: false, reason: `has a name of ${bytes} bytes ("${name.slice(0, 24)}..."); file systems allow at most ${MAX_NAME_BYTES}`, hint: 'shorten that name' };
  }
  // OSv's manifest reader strips whitespace around the guest path, so a name cannot end with it.
  if (name !== name.trimEnd()) return { ok: false, reason: "has a name ending in whitespace, which OSv's manifest reader strips", hint: 'rename it without trailing spaces' };
  return undefined;
}

/** Join a normalized guest directory and a relative path (already free of `..`). */
export function guestJoin(dir: string, rel: string): string {
  if (rel === '' || rel === '.') return dir;
  return dir === '/' ? `/${rel}` : `${dir}/${rel}`;
}

export function guestDirname(path: string): string {
  const i = path.lastIndexOf('/');
  return i <= 0 ? '/' : path.slice(0, i);
}

export function guestBasename(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/** Every ancestor directory of a guest path, outermost first, excluding `/` and the path itself. */
export function guestAncestors(path: string): string[] {
  const out: string[] = [];
  let i = path.indexOf('/', 1);
  while (i > 0) {
    out.push(path.slice(0, i));
    i = path.indexOf('/', i + 1);
  }
  return out;
}
