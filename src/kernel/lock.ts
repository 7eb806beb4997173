// osv.lock, next to osv.yaml: the downloaded kernel a project builds with, pinned by sha256
// (and, under `images`, the container images it builds from: src/oci/lock.ts). JSON (which is
// also YAML) so that reading it costs nothing on a no-op build. Each writer rewrites its own
// key and keeps the others as they are.

import * as fs from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../atomic.js';
import { err, ok, type Result } from '../diagnostics/result.js';
import { ExitCode, OsvError } from '../diagnostics/error.js';
import type { Arch } from '../config/types.js';

export const LOCK_FILE = 'osv.lock';

export interface LockedFile {
  sha256: string;
  /** The release asset it came from (absent for files placed by hand). */
  asset?: string;
}

export interface KernelLock {
  /** As configured (kernel.version): "latest", a tag, or owner/repo@tag. */
  version: string;
  repo: string;
  /** The tag it resolved to ("latest" pinned to what latest was). */
  tag: string;
  arch: Arch;
  files: { elf?: LockedFile; img?: LockedFile };
}

interface LockFile {
  comment?: string;
  kernel?: KernelLock;
  [key: string]: unknown;
}

export const lockPath = (projectDir: string): string => join(projectDir, LOCK_FILE);

function invalid(path: string, why: string): OsvError {
  return new OsvError({
    code: 'kernel.lock-invalid',
    message: `${path} is not a valid lock file: ${why}`,
    hint: `delete ${path} to pin the kernel again on the next build`,
    exitCode: ExitCode.invalidInput,
  });
}

const isSha = (v: unknown): v is string => typeof v === 'string' && /^[0-9a-f]{64}$/.test(v);

export function readLock(projectDir: string): Result<LockFile, OsvError> {
  const path = lockPath(projectDir);
  let text: string;
  try {
    text = fs.readFileSync(path, 'utf8');
  } catch {
    return ok({});
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    return err(invalid(path, (e as Error).message));
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return err(invalid(path, 'not a JSON object'));
  const k = (data as LockFile).kernel;
  if (k !== undefined) {
    const bad =
      typeof k !== 'object' ||
      typeof k.version !== 'string' ||
      typeof k.repo !== 'string' ||
      typeof k.tag !== 'string' ||
      typeof k.arch !== 'string' ||
      typeof k.files !== 'object' ||
      k.files === null ||
      Object.values(k.files).some((f) => !f || !isSha((f as LockedFile).sha256));
    if (bad) return err(invalid(path, '"kernel" needs version, repo, tag, arch and files with sha256 values'));
  }
  return ok(data as LockFile);
}

export function writeLock(projectDir: string, kernel: KernelLock): Result<string, OsvError> {
  return writeLockKey(projectDir, 'kernel', kernel);
}

/** Rewrite one top-level key of osv.lock (atomically), keeping the others. */
export function writeLockKey(projectDir: string, key: string, value: unknown): Result<string, OsvError> {
  const current = readLock(projectDir);
  const data: LockFile = {
    comment: 'Written by osv-up: the kernel and the images this project builds with, pinned by digest. Commit this file.',
    ...(current.ok ? current.value : {}),
    [key]: value,
  };
  const path = lockPath(projectDir);
  try {
    writeFileAtomic(path, JSON.stringify(data, null, 2) + '\n');
  } catch (e) {
    return err(new OsvError({ code: 'kernel.lock-write', message: `cannot write ${path}: ${(e as Error).message}`, exitCode: ExitCode.buildFailed }));
  }
  return ok(path);
}
