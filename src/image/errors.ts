// Error constructors shared by the image writers and readers, so codes stay consistent.

import { ExitCode, OsvError } from '../diagnostics/error.js';
import type { Result } from '../diagnostics/result.js';

/** A structurally broken image: the reader cannot go on. `where` names the image and offset. */
export function corrupt(image: string, message: string, offset?: number, details: string[] = []): OsvError {
  const at = offset === undefined ? '' : ` (at byte ${offset})`;
  return new OsvError({
    code: 'image.corrupt',
    message: `${image}: ${message}${at}`,
    details,
    hint: 'the image is damaged or not an osv-up/OSv image; rebuild it with `osv build`',
    exitCode: ExitCode.invalidInput,
  });
}

/** The entry list given to a writer cannot be written (bad guest path, conflict, too long). */
export function badEntry(guest: string, message: string, hint?: string): OsvError {
  return new OsvError({
    code: 'image.bad-entry',
    message: `${guest}: ${message}`,
    ...(hint ? { hint } : {}),
    exitCode: ExitCode.invalidInput,
  });
}

/** Writing failed for a reason outside the entry list (I/O, a host file vanished or changed). */
export function buildFailed(code: string, message: string, hint?: string, cause?: unknown): OsvError {
  return new OsvError({
    code,
    message,
    ...(hint ? { hint } : {}),
    exitCode: ExitCode.buildFailed,
    ...(cause === undefined ? {} : { cause }),
  });
}

/** Run a function that throws OsvError internally and turn that into a Result at the boundary. */
export function catchOsv<T>(fn: () => T): Result<T> {
  try {
    return { ok: true, value: fn() };
  } catch (e) {
    if (e instanceof OsvError) return { ok: false, error: e };
    throw e;
  }
}

export async function catchOsvAsync<T>(fn: () => Promise<T>): Promise<Result<T>> {
  try {
    return { ok: true, value: await fn() };
  } catch (e) {
    if (e instanceof OsvError) return { ok: false, error: e };
    throw e;
  }
}

/** Node's errno code of a thrown system error, if any. */
export function errnoCode(e: unknown): string | undefined {
  return typeof e === 'object' && e !== null && 'code' in e && typeof (e as { code: unknown }).code === 'string'
    ? (e as { code: string }).code
    : undefined;
}

/** What to do when writing the image fails, by its errno: no free-space talk for a permission or a read-only mount. */
export function writeFailureHint(e: unknown, dir: string): string | undefined {
  const code = errnoCode(e);
  if (code === 'EACCES' || code === 'EPERM') return `${dir} is not writable for this user: fix its permissions, or write the image elsewhere with -o PATH`;
  if (code === 'EROFS') return `${dir} is on a read-only file system: write the image elsewhere with -o PATH`;
  if (code === 'ENOSPC' || code === 'EDQUOT') return 'the disk (or your quota) is full: free some space';
  if (code === 'EFBIG') return 'the file system holding it cannot hold a file this large';
  return undefined;
}
