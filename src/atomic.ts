// Every file osv-up writes in place of another (records, the lock, caches, images) is first
// written to a temporary file created exclusively (O_CREAT|O_EXCL, which never follows a
// symlink) in the destination's own directory, then renamed over the destination: a planted
// symlink at a predictable name cannot redirect the write, a reader never sees half a file, and
// the rename stays on one file system. No node:crypto here: the no-op build loads this module,
// and exclusivity, not an unguessable name, is what makes the temp file safe.

import * as fs from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { ExitCode, OsvError } from './diagnostics/error.js';
import { statsKindName } from './hostfs.js';

const TMP_RE = /\.(\d+)-[0-9a-f]{8}\.tmp$/;

const randomHex = (): string => Math.floor(Math.random() * 0x100000000).toString(16).padStart(8, '0');

/** A temp path in dest's directory, hidden and recognisable (`.NAME<tag>.<pid>-<random>.tmp`). */
export function tempPathFor(dest: string, tag = ''): string {
  return join(dirname(dest), `.${basename(dest)}${tag}.${process.pid}-${randomHex()}.tmp`);
}

export function removeQuietly(path: string): void {
  try {
    fs.rmSync(path, { force: true, recursive: true });
  } catch {
    // best effort: the caller is already reporting a more useful error
  }
}

const errno = (e: unknown): string | undefined => (e as NodeJS.ErrnoException | undefined)?.code;

/** Create a new temp file for `dest` with O_EXCL (retrying on the rare name collision); returns its path and descriptor. */
export function createTemp(dest: string, mode = 0o666, tag = ''): { path: string; fd: number } {
  for (let attempt = 0; ; attempt++) {
    const path = tempPathFor(dest, tag);
    try {
      return { path, fd: fs.openSync(path, 'wx', mode) };
    } catch (e) {
      if (errno(e) !== 'EEXIST' || attempt >= 8) throw e;
    }
  }
}

/**
 * What is at `dest` when a new file may not be renamed over it: a directory, a device, a FIFO or
 * a socket (a rename would replace the node itself: `-o /dev/null`, run as root, replaced
 * /dev/null with a regular file). Undefined when there is nothing, a regular file, or a symlink
 * (a rename replaces the link, never what it points to); or when lstat fails (the write says why).
 */
export function nodeInTheWay(dest: string): string | undefined {
  let st: fs.Stats | undefined;
  try {
    st = fs.lstatSync(dest, { throwIfNoEntry: false });
  } catch {
    return undefined;
  }
  return !st || st.isFile() || st.isSymbolicLink() ? undefined : statsKindName(st);
}

/** The error for writing a file where `nodeInTheWay` found something else. */
export function notAFileToReplace(dest: string, what: string, exitCode: ExitCode = ExitCode.usage): OsvError {
  return new OsvError({
    code: 'output.not-a-file',
    message: `${dest} is ${what}: osv-up writes a file only where there is none yet or a regular file, which it replaces`,
    hint: 'give the path of a new file (or of a regular file to replace)',
    exitCode,
  });
}

/** Throws notAFileToReplace when something other than a regular file (or nothing) is at `dest`. */
export function checkReplaceable(dest: string, exitCode: ExitCode = ExitCode.usage): void {
  const what = nodeInTheWay(dest);
  if (what !== undefined) throw notAFileToReplace(dest, what, exitCode);
}

export interface WriteOptions {
  /** Permission bits of the new file (before the umask); 0o600 for records that may hold secrets. */
  mode?: number;
}

/** Write `data` to `dest` atomically through an exclusive temp file beside it. Throws on failure. */
export function writeFileAtomic(dest: string, data: string | Uint8Array, opts: WriteOptions = {}): void {
  checkReplaceable(dest, ExitCode.buildFailed);
  const mode = opts.mode ?? 0o666;
  const { path, fd } = createTemp(dest, mode);
  try {
    try {
      fs.writeFileSync(fd, data);
      // The umask can only take bits away; an explicit mode is applied as given.
      if (opts.mode !== undefined) fs.fchmodSync(fd, mode);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(path, dest);
  } catch (e) {
    removeQuietly(path);
    throw e;
  }
}

/**
 * `mkdir -p dir`: the missing directories of the path, each with `mode` (before the umask).
 * Not fs.mkdirSync(dir, { recursive: true }): on Node 20 that never returns for a directory
 * whose parent exists but refuses new entries with ENOENT, as /proc does (`-o /proc/x/app.img`
 * spun at full CPU): it makes the parent (EEXIST, a directory) and tries the child again, for
 * ever. Here each directory is tried at most twice, and the second error is the answer.
 */
export function makeDirs(dir: string, mode = 0o777): void {
  const tryMake = (): NodeJS.ErrnoException | undefined => {
    try {
      fs.mkdirSync(dir, { mode });
      return undefined;
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      return err.code === 'EEXIST' && fs.statSync(dir, { throwIfNoEntry: false })?.isDirectory() ? undefined : err;
    }
  };
  const first = tryMake();
  if (first === undefined) return;
  const parent = dirname(dir);
  if (first.code !== 'ENOENT' || parent === dir) throw first;
  makeDirs(parent, mode);
  const second = tryMake();
  if (second) throw second;
}

/**
 * Make sure `dir`, a directory osv-up keeps its own files in (a project's .osv/), is a real
 * directory, creating it if missing. A symlink there (a repository can ship one) is refused:
 * it would send images and records out of the project.
 */
export function ensureOwnDir(dir: string): void {
  const st = fs.lstatSync(dir, { throwIfNoEntry: false });
  if (st?.isSymbolicLink())
    throw new OsvError({
      code: 'project.dir-symlink',
      message: `${dir} is a symbolic link (to ${fs.readlinkSync(dir)}): osv-up writes its images and records only into a real directory of the project`,
      hint: `remove the link (rm ${dir}); osv-up creates the directory itself`,
      exitCode: ExitCode.invalidInput,
    });
  if (st && !st.isDirectory())
    throw new OsvError({ code: 'project.dir-not-dir', message: `${dir} is not a directory`, hint: `move it away; osv-up keeps its files there`, exitCode: ExitCode.invalidInput });
  if (!st) makeDirs(dir);
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return errno(e) === 'EPERM';
  }
};

/**
 * Remove the temp files that writes of `dest` left behind when their process died (a Ctrl-C
 * or a crash in the middle of a large image). A temp file of a live process is left alone.
 */
export function removeStaleTemps(dest: string): string[] {
  const prefix = `.${basename(dest)}`;
  const removed: string[] = [];
  let names: string[];
  try {
    names = fs.readdirSync(dirname(dest));
  } catch {
    return removed;
  }
  for (const name of names) {
    const m = TMP_RE.exec(name);
    if (!m || !name.startsWith(prefix) || Number(m[1]) === process.pid || alive(Number(m[1]))) continue;
    removeQuietly(join(dirname(dest), name));
    removed.push(name);
  }
  return removed;
}

/**
 * Paths to remove if the process is stopped by a signal while they exist. While any is
 * registered, SIGINT, SIGTERM and SIGHUP remove them first and then end the process as the
 * signal would have (unless someone else also listens for it, who then decides).
 */
const pending = new Set<string>();
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
function onSignal(signal: NodeJS.Signals): void {
  for (const p of pending) removeQuietly(p);
  pending.clear();
  for (const s of SIGNALS) process.off(s, onSignal);
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
}

export function removeOnSignal(path: string): () => void {
  if (pending.size === 0) for (const s of SIGNALS) process.on(s, onSignal);
  pending.add(path);
  return () => {
    pending.delete(path);
    if (pending.size === 0) for (const s of SIGNALS) process.off(s, onSignal);
  };
}
