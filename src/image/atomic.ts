// Images are written to a temporary file next to the destination and renamed over it only
// when complete, so a failed or interrupted build never leaves a half-written image where
// the last good one was. Same directory = same file system = rename is atomic.

import * as fs from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { err, type Result } from '../diagnostics/result.js';
import type { OsvError } from '../diagnostics/error.js';
import { buildFailed, errnoCode } from './errors.js';

/** A temp path in dest's directory, hidden and recognisable (`.NAME.<random>.tmp`). */
export function tempPathFor(dest: string, tag = ''): string {
  return join(dirname(dest), `.${basename(dest)}${tag}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`);
}

export function removeQuietly(path: string): void {
  try {
    fs.rmSync(path, { force: true, recursive: true });
  } catch {
    // best effort: the caller is already reporting a more useful error
  }
}

/**
 * Run `write(tmp)`; on success rename tmp over `dest`. On an error result or a throw, remove
 * tmp (and any extra temps the writer registered) and leave `dest` untouched.
 */
export async function writeAtomically<T>(
  dest: string,
  write: (tmp: string, scratch: (path: string) => string) => Promise<Result<T, OsvError>>,
): Promise<Result<T, OsvError>> {
  try {
    fs.mkdirSync(dirname(dest), { recursive: true });
  } catch (e) {
    return err(buildFailed('image.write-failed', `cannot create ${dirname(dest)}: ${errnoCode(e) ?? String(e)}`));
  }
  const tmp = tempPathFor(dest);
  const extras: string[] = [];
  const scratch = (p: string): string => (extras.push(p), p);
  let done = false;
  try {
    const r = await write(tmp, scratch);
    if (!r.ok) return r;
    try {
      fs.renameSync(tmp, dest);
    } catch (e) {
      return err(buildFailed('image.write-failed', `cannot rename the new image to ${dest}: ${errnoCode(e) ?? String(e)}`));
    }
    done = true;
    return r;
  } finally {
    if (!done) removeQuietly(tmp);
    for (const p of extras) removeQuietly(p);
  }
}

/** Create (or truncate) `path`, run `use` with its descriptor, and always close it. */
export async function withNewFile<T>(path: string, use: (fd: number) => Promise<Result<T, OsvError>>): Promise<Result<T, OsvError>> {
  let fd: number;
  try {
    fd = fs.openSync(path, 'w+');
  } catch (e) {
    return err(buildFailed('image.write-failed', `cannot create ${path}: ${errnoCode(e) ?? String(e)}`));
  }
  try {
    return await use(fd);
  } finally {
    fs.closeSync(fd);
  }
}
