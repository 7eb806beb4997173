// A V8 code cache for osv's own bundles in dist/. Node 20 compiles every bundle it loads, and
// each function again on its first call; for a small command that was a large part of its time.
// `npm run build` (scripts/code-cache.mjs) runs each command once and keeps what V8 compiled
// beside the bundle, as BUNDLE.v8cache; later loads hand it to V8 instead of compiling.
//
// Sound by construction:
// - The cache lives in the package's dist/, written only by the build, never in ~/.cache (a
//   restored or poisoned cache directory must not run code: docs/security.md).
// - V8 checks its own version, flags and the source's length, and rejects what does not fit
//   (then the bundle is compiled as without a cache). The source's content it does not check,
//   so the build stamps each bundle with the sha256 of its content (a last comment line) and
//   writes the same stamp at the head of the cache: a bundle rebuilt since, stamped or not,
//   does not match and loads without the cache; nor does a bundle edited in place since (its
//   modification time is later than its cache's).
// - Read-only: nothing here writes (the build's training run calls keptScripts()).

import { closeSync, fstatSync, openSync, readSync, statSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { Script } from 'node:vm';

/** The last line of a stamped bundle: this, then the sha256 (hex) of the source before it. */
export const STAMP = '\n//# osv-code-cache ';
const HEX_LENGTH = 64;

export const cacheFileOf = (bundle: string): string => `${bundle}.v8cache`;

/** The stamp at the end of a bundle's source, or undefined when it has none. */
export function stampOf(source: string): string | undefined {
  const at = source.length - HEX_LENGTH - 1;
  if (at < STAMP.length || source.slice(at - STAMP.length, at) !== STAMP) return undefined;
  const hex = source.slice(at, at + HEX_LENGTH);
  return /^[0-9a-f]{64}\n$/.test(source.slice(at)) ? hex : undefined;
}

/** A cache file's bytes: the stamp of the source it was made from, a newline, V8's data. */
export const cacheBytes = (stamp: string, data: Buffer): Buffer => Buffer.concat([Buffer.from(`${stamp}\n`, 'latin1'), data]);

/** V8's data kept for `bundle`, when it was made from this very source. */
export function cachedDataFor(bundle: string, source: string): Buffer | undefined {
  const stamp = stampOf(source);
  if (stamp === undefined) return undefined;
  const bytes = readCache(bundle);
  if (bytes === undefined) return undefined;
  if (bytes.length <= HEX_LENGTH + 1 || bytes[HEX_LENGTH] !== 0x0a || bytes.toString('latin1', 0, HEX_LENGTH) !== stamp) return undefined;
  return bytes.subarray(HEX_LENGTH + 1);
}

/** A bundle's cache file, unless it is missing, unreadable or older than the bundle. */
function readCache(bundle: string): Buffer | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(cacheFileOf(bundle), 'r');
    const st = fstatSync(fd);
    if (st.mtimeMs < statSync(bundle).mtimeMs) return undefined;
    const bytes = Buffer.allocUnsafe(st.size);
    let done = 0;
    while (done < st.size) {
      const n = readSync(fd, bytes, done, st.size - done, done);
      if (n === 0) break;
      done += n;
    }
    return bytes.subarray(0, done);
  } catch {
    return undefined; // not made (or not readable): compile as usual
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** How a bundle was loaded: with its cache, with a cache V8 refused, or without one. */
export type CacheUse = 'accepted' | 'rejected' | 'none';

interface Compiled {
  script: Script;
  use: CacheUse;
}

/** Compile CommonJS `source` of `file` as Node would wrap it, with its cache when there is one. */
export function compileBundle(file: string, source: string): Compiled {
  const cachedData = cachedDataFor(file, source);
  const script = new Script(Module.wrap(source), { filename: file, ...(cachedData ? { cachedData } : {}) });
  return { script, use: cachedData === undefined ? 'none' : script.cachedDataRejected === true ? 'rejected' : 'accepted' };
}

type CompileMethod = (this: Module, content: string, filename: string, format?: string) => unknown;

/** Scripts compiled in this process, by file (kept only for the build's training run). */
const kept = new Map<string, Script>();
let installed = false;

/**
 * From now on, every .cjs file under `dir` that require() loads is compiled through
 * compileBundle. A file without a usable cache is left to Node, unless `keep` (the build's
 * training run), which compiles it here too and keeps its Script for keptScripts().
 */
export function installCodeCache(dir: string, keep = false): void {
  if (installed) return;
  installed = true;
  const proto = Module.prototype as unknown as { _compile: CompileMethod };
  const nodeCompile = proto._compile;
  proto._compile = function (this: Module, content, filename, format) {
    if (!filename.startsWith(dir) || !filename.endsWith('.cjs')) return nodeCompile.call(this, content, filename, format);
    const compiled = compileBundle(filename, content);
    if (compiled.use === 'none' && !keep) return nodeCompile.call(this, content, filename, format);
    if (keep) kept.set(filename, compiled.script);
    const wrapper = compiled.script.runInThisContext() as (this: unknown, ...args: unknown[]) => unknown;
    return wrapper.call(this.exports, this.exports, createRequire(filename), this, filename, dirname(filename));
  };
}

/** The scripts compiled since installCodeCache(dir, true): the training run writes their caches. */
export const keptScripts = (): ReadonlyMap<string, Script> => kept;
