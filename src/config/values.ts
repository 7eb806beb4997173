// Parsers for the value syntaxes of osv.yaml. Each returns the value or a message; the schema
// has already checked the rough shape, these check what a pattern cannot (ranges, overflow).

import * as path from 'node:path';
import type { PortForward } from './types.js';
import { waitProblem } from '../units.js';

export type Parsed<T> = { ok: true; value: T } | { ok: false; message: string };
const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const bad = (message: string): Parsed<never> => ({ ok: false, message });

const UNITS: Record<string, number> = { '': 1, b: 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40 };

/** `512M`, `1.5G`, `2GiB`, `4096`: binary units (K = 1024), like QEMU's -m. */
export function parseSize(v: unknown): Parsed<number> {
  if (typeof v !== 'string' && typeof v !== 'number') return bad(`invalid size: expected a number of bytes or a string such as 512M`);
  if (typeof v === 'number') return Number.isSafeInteger(v) && v > 0 ? ok(v) : bad(`invalid size ${v}: expected a whole number of bytes greater than 0`);
  const m = /^([0-9]+(?:\.[0-9]+)?)\s*(?:([KkMmGgTt])(?:[Ii]?[Bb])?|([Bb]))?$/.exec(v.trim());
  if (!m) return bad(`invalid size ${JSON.stringify(v)}: expected a number of bytes, or a number with a unit K, M, G or T (512M, 2G)`);
  const unit = (m[2] ?? m[3] ?? '').toLowerCase();
  const bytes = Number(m[1]) * UNITS[unit]!;
  if (!Number.isSafeInteger(bytes)) {
    return bad(bytes > Number.MAX_SAFE_INTEGER ? `size ${JSON.stringify(v)} is too large` : `size ${JSON.stringify(v)} is not a whole number of bytes`);
  }
  if (bytes <= 0) return bad(`size ${JSON.stringify(v)} must be greater than 0`);
  return ok(bytes);
}

/** The least memory a VM is given (the runner refuses less, qemu-args.ts); OSv needs far more to run a program. */
export const MIN_MEMORY = 16 * 2 ** 20;

/** Memory is given to QEMU and Firecracker in MiB, and at least MIN_MEMORY. */
export function parseMemory(v: unknown): Parsed<number> {
  const s = parseSize(v);
  if (!s.ok) return s;
  if (s.value % 2 ** 20 !== 0) return bad(`${JSON.stringify(v)} is not a whole number of MiB (1M = 1048576 bytes)`);
  if (s.value < MIN_MEMORY) return bad(`${JSON.stringify(v)} is less than the 16M a VM is given at least`);
  return s;
}

/**
 * run.expect and --expect: a JavaScript regular expression that cannot match an empty string.
 * One that can (`x*`, `a|`, `(?:)`) matches the first console line, the firmware's, and would
 * pass a run on no evidence of the program at all.
 */
export function parseExpect(source: string): Parsed<RegExp> {
  let re: RegExp;
  try {
    re = new RegExp(source);
  } catch (e) {
    return bad(`invalid regular expression: ${(e as Error).message.replace(/^Invalid regular expression: /, '')}`);
  }
  if (re.test('')) return bad(`${JSON.stringify(source)} matches an empty string, so every console line would pass (the firmware's first among them)`);
  return ok(re);
}

/** `30`, `1.5s`, `250ms`, `2m`, `1h` -> seconds. */
export function parseDuration(v: unknown): Parsed<number> {
  if (typeof v !== 'string' && typeof v !== 'number') return bad(`invalid duration: expected seconds or a string such as 30s`);
  if (typeof v === 'number') return v > 0 && Number.isFinite(v) ? withinWait(v, String(v)) : bad(`invalid duration ${v}: expected a number of seconds greater than 0`);
  const m = /^([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)?$/.exec(v);
  if (!m) return bad(`invalid duration ${JSON.stringify(v)}: expected seconds, or a number with a unit ms, s, m or h (30s, 2m)`);
  const factor = { ms: 0.001, s: 1, m: 60, h: 3600 }[(m[2] ?? 's') as 'ms' | 's' | 'm' | 'h'];
  const seconds = Number(m[1]) * factor;
  return seconds > 0 ? withinWait(seconds, JSON.stringify(v)) : bad(`duration ${JSON.stringify(v)} must be greater than 0`);
}

function withinWait(seconds: number, shown: string): Parsed<number> {
  const problem = waitProblem(seconds);
  return problem === undefined ? ok(seconds) : bad(`duration ${shown} ${problem}`);
}

function portNumber(s: string, what: string, spec: string): Parsed<number> {
  const n = Number(s);
  if (!Number.isInteger(n) || n < 1 || n > 65535) return bad(`${what} port ${s} in ${JSON.stringify(spec)} is out of range 1-65535`);
  return ok(n);
}

/** `8080:80`, `5353:53/udp`, `127.0.0.1:8080:80`, `8080` (same port both sides). */
export function parsePort(v: unknown): Parsed<Omit<PortForward, 'source'>> {
  if (typeof v !== 'string' && typeof v !== 'number') return bad(`invalid port mapping: expected a string such as "8080:80" or a port number`);
  if (typeof v === 'number') {
    if (!Number.isInteger(v) || v < 1 || v > 65535) return bad(`port ${v} is out of range 1-65535`);
    return ok({ host: v, guest: v, protocol: 'tcp' });
  }
  const m = /^(?:((?:[0-9]{1,3}\.){3}[0-9]{1,3}):)?([0-9]+)(?::([0-9]+))?(?:\/(tcp|udp))?$/.exec(v);
  if (!m) return bad(`invalid port mapping ${JSON.stringify(v)}: expected "HOST:GUEST", "HOST:GUEST/udp" or "ADDRESS:HOST:GUEST"`);
  const [, address, hostS, guestS, proto] = m;
  if (address !== undefined) {
    if (address.split('.').some((o) => Number(o) > 255)) return bad(`invalid address ${address} in ${JSON.stringify(v)}: each part must be 0-255`);
    if (guestS === undefined) return bad(`invalid port mapping ${JSON.stringify(v)}: with an address, give both ports (ADDRESS:HOST:GUEST)`);
  }
  const host = portNumber(hostS!, 'host', v);
  if (!host.ok) return host;
  const guest = portNumber(guestS ?? hostS!, 'guest', v);
  if (!guest.ok) return guest;
  return ok({ host: host.value, guest: guest.value, protocol: (proto ?? 'tcp') as 'tcp' | 'udp', ...(address ? { hostAddress: address } : {}) });
}

/** Permission bits, always octal as written: `0644`, `755`, `0o600`. */
export function parseMode(raw: string): Parsed<number> {
  const m = /^(?:0o)?([0-7]{1,4})$/.exec(raw.trim());
  if (!m) return bad(`invalid mode ${JSON.stringify(raw)}: expected octal permission bits such as 0644 (one to four digits 0-7, optionally after 0o)`);
  return ok(parseInt(m[1]!, 8));
}

/**
 * Split a command string into words like a POSIX shell, without any expansion: blanks
 * separate words; 'single quotes' keep everything; "double quotes" keep everything but
 * \" \\ \$ \`; a backslash outside quotes keeps the next character.
 */
export function splitCommand(s: string): Parsed<string[]> {
  const words: string[] = [];
  let cur = '';
  let inWord = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === ' ' || c === '\t' || c === '\n') {
      if (inWord) words.push(cur);
      cur = '';
      inWord = false;
      continue;
    }
    inWord = true;
    if (c === "'") {
      const end = s.indexOf("'", i + 1);
      if (end < 0) return bad(`unterminated ' quote in ${JSON.stringify(s)}`);
      cur += s.slice(i + 1, end);
      i = end;
    } else if (c === '"') {
      let j = i + 1;
      for (; j < s.length && s[j] !== '"'; j++) {
        if (s[j] === '\\' && j + 1 < s.length && '"\\$`'.includes(s[j + 1]!)) j++;
        cur += s[j];
      }
      if (j >= s.length) return bad(`unterminated " quote in ${JSON.stringify(s)}`);
      i = j;
    } else if (c === '\\') {
      if (i + 1 >= s.length) return bad(`trailing backslash in ${JSON.stringify(s)}`);
      cur += s[++i];
    } else {
      cur += c;
    }
  }
  if (inWord) words.push(cur);
  return words.length ? ok(words) : bad('the command is empty');
}

/**
 * Check and normalize a guest path: absolute, no NUL or newline, no `..` above the root, no
 * name longer than 255 bytes, and no `": "` (the separator of OSv's manifest lines).
 */
/** A UTF-16 surrogate that is not half of a pair (in `u` mode a pair is one code point, not \p{Cs}). */
export const LONE_SURROGATE = /\p{Cs}/u;

export function normalizeGuestPath(p: string): Parsed<string> {
  if (!p.startsWith('/')) return bad(`guest path ${JSON.stringify(p)} is not absolute: it must start with /`);
  if (p.includes('\0')) return bad(`guest path ${JSON.stringify(p)} contains a NUL character`);
  if (/[\n\r]/.test(p)) return bad(`guest path ${JSON.stringify(p)} contains a line break`);
  if (p.includes(': ')) return bad(`guest path ${JSON.stringify(p)} contains ": ", which OSv manifests cannot express`);
  // A lone UTF-16 surrogate (YAML's "\ud800") has no UTF-8 form: written as U+FFFD, it made two
  // different names one and the image corrupt.
  if (LONE_SURROGATE.test(p)) return bad(`guest path ${JSON.stringify(p)} contains a lone UTF-16 surrogate, which is no character and has no UTF-8 form`);
  const parts: string[] = [];
  for (const seg of p.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') {
      if (!parts.length) return bad(`guest path ${JSON.stringify(p)} escapes the image root with ".."`);
      parts.pop();
      continue;
    }
    if (Buffer.byteLength(seg) > 255) return bad(`guest path ${JSON.stringify(p)} has a name longer than 255 bytes`);
    // Refused by the planner too (src/plan/guest-path.ts); here the error points at the key.
    if (seg !== seg.trimEnd()) return bad(`guest path ${JSON.stringify(p)} has a name ending in whitespace, which OSv's manifest reader strips`);
    parts.push(seg);
  }
  return ok('/' + parts.join('/'));
}

/** Whether a host path or library name is a glob pattern (`*`, `?`, `[...]`). */
export const hasGlob = (s: string): boolean => /[*?[]/.test(s);

/**
 * A library's `dest` is its full guest path when it names one `.so` file (`/opt/lib/libx.so.1`);
 * otherwise, and always for a glob, it is the directory the library goes in.
 */
export function libraryDestIsFile(name: string, dest: string): boolean {
  return !hasGlob(name) && path.posix.basename(dest).includes('.so');
}
