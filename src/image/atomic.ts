// Images are written to a temporary file next to the destination and renamed over it only
// when complete, so a failed or interrupted build never leaves a half-written image where
// the last good one was. Same directory = same file system = rename is atomic. The temp files
// are created exclusively (src/atomic.ts), removed when a signal stops the build, and those a
// killed build left behind are removed by the next one.

import * as fs from 'node:fs';
import { dirname } from 'node:path';
import { err, type Result } from '../diagnostics/result.js';
import { ExitCode, type OsvError } from '../diagnostics/error.js';
import { buildFailed, errnoCode, writeFailureHint } from './errors.js';
import { createTemp, makeDirs, nodeInTheWay, notAFileToReplace, removeOnSignal, removeQuietly, removeStaleTemps } from '../atomic.js';

export { tempPathFor, removeQuietly } from '../atomic.js';

/**
 * Run `write(tmp)`; on success rename tmp over `dest`. On an error result or a throw, remove
 * tmp (and any extra temps the writer registered) and leave `dest` untouched.
 */
export async function writeAtomically<T>(
  dest: string,
  write: (tmp: string, scratch: (path: string) => string) => Promise<Result<T, OsvError>>,
): Promise<Result<T, OsvError>> {
  // Checked first (nothing is written for a `-o /dev/null`), and again before the rename.
  const inTheWay = (): OsvError | undefined => {
    const what = nodeInTheWay(dest);
    return what === undefined ? undefined : notAFileToReplace(dest, what, ExitCode.usage);
  };
  const before = inTheWay();
  if (before) return err(before);
  try {
    makeDirs(dirname(dest));
  } catch (e) {
    return err(buildFailed('image.write-failed', `cannot create ${dirname(dest)}: ${errnoCode(e) ?? String(e)}`, writeFailureHint(e, dirname(dest))));
  }
  removeStaleTemps(dest);
  let tmp: string;
  try {
    const created = createTemp(dest);
    fs.closeSync(created.fd);
    tmp = created.path;
  } catch (e) {
    return err(buildFailed('image.write-failed', `cannot create a temporary file beside ${dest}: ${errnoCode(e) ?? String(e)}`, writeFailureHint(e, dirname(dest))));
  }
  const extras: string[] = [];
  const forget = [removeOnSignal(tmp)];
  const scratch = (p: string): string => (extras.push(p), forget.push(removeOnSignal(p)), p);
  let done = false;
  try {
    const r = await write(tmp, scratch);
    if (!r.ok) return r;
    const now = inTheWay();
    if (now) return err(now);
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
    for (const f of forget) f();
  }
}

/**
 * Open `path` for writing and reading, run `use` with its descriptor, and always close it. The
 * file must be the temp file writeAtomically made, or a scratch path that does not exist yet
 * (created exclusively: a symlink planted there is refused, not followed).
 */
export async function withNewFile<T>(path: string, use: (fd: number) => Promise<Result<T, OsvError>>): Promise<Result<T, OsvError>> {
  let fd: number;
  try {
    fd = fs.openSync(path, fs.existsSync(path) && fs.lstatSync(path).isFile() ? 'r+' : 'wx+');
  } catch (e) {
    return err(buildFailed('image.write-failed', `cannot create ${path}: ${errnoCode(e) ?? String(e)}`));
  }
  try {
    return await use(fd);
  } finally {
    fs.closeSync(fd);
  }
}
