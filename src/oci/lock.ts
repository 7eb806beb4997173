// The images of osv.lock: per reference (as osv.yaml writes it) and platform, the manifest
// digest it resolved to. Builds use the locked digest and never move with a tag; `osv pull`
// resolves again and rewrites the entry. Nothing secret is ever stored here.
//
//   "images": { "docker.io/library/redis:7": { "linux/amd64": { "digest": "sha256:…" } } }

import { ExitCode, OsvError } from '../diagnostics/error.js';
import { err, ok, type Result } from '../diagnostics/result.js';
import { lockPath, readLock, writeLockKey } from '../kernel/lock.js';
import { isDigest, type Digest } from './digest.js';

export type ImageLocks = Record<string, Record<string, { digest: Digest }>>;

export function readImageLocks(projectDir: string): Result<ImageLocks, OsvError> {
  const r = readLock(projectDir);
  if (!r.ok) return r;
  const images = r.value['images'];
  if (images === undefined) return ok({});
  const bad = (): Result<never, OsvError> =>
    err(new OsvError({ code: 'oci.lock-invalid', message: `${lockPath(projectDir)}: "images" must map each reference to platforms with a sha256 digest`, hint: 'fix the entry, or remove it and run `osv pull` to pin the image again', exitCode: ExitCode.invalidInput }));
  if (typeof images !== 'object' || images === null || Array.isArray(images)) return bad();
  for (const platforms of Object.values(images as Record<string, unknown>)) {
    if (typeof platforms !== 'object' || platforms === null) return bad();
    for (const p of Object.values(platforms as Record<string, unknown>)) if (typeof p !== 'object' || p === null || !isDigest((p as { digest?: unknown }).digest)) return bad();
  }
  return ok(images as ImageLocks);
}

export const lockedDigest = (locks: ImageLocks, reference: string, platform: string): Digest | undefined => locks[reference]?.[platform]?.digest;

export function writeImageLock(projectDir: string, reference: string, platform: string, digest: Digest): Result<string, OsvError> {
  const current = readImageLocks(projectDir);
  if (!current.ok) return current;
  const images: ImageLocks = { ...current.value, [reference]: { ...current.value[reference], [platform]: { digest } } };
  // Sorted keys: the file diffs cleanly.
  const sorted = Object.fromEntries(Object.keys(images).sort().map((k) => [k, images[k]!]));
  return writeLockKey(projectDir, 'images', sorted);
}
