// The planning core reads the host only through this interface, so tests can point it at a
// sysroot and so that nothing in the core writes. Synchronous on purpose: the resolver makes
// many tiny reads, and sync fs calls are the fastest way to do those in Node.

import * as fs from 'node:fs';

export type HostKind = 'file' | 'dir' | 'symlink' | 'other';

export interface HostStat {
  kind: HostKind;
  size: number;
  mtimeMs: number;
  /** Moves with every change to the file, and cannot be set back (unlike the mtime). */
  ctimeMs: number;
  ino: number;
  dev: number;
  /** Permission bits (st_mode & 0o7777). */
  mode: number;
  /** What an 'other' file is, when the file system knows (the host's does; an image's has none). */
  special?: HostSpecial;
}

/** The kinds of file that are neither regular files, directories nor symlinks. */
export type HostSpecial = 'fifo' | 'socket' | 'char-device' | 'block-device';

/** What kind of file `st` is, for messages: "a directory", "a FIFO (named pipe)". */
/** A symlink that stat cannot follow, in messages: the same words wherever osv meets one. */
export const LINK_TO_NOTHING = 'a symbolic link to nothing (dangling, or a loop of links)';

export const fileKindName = (st: HostStat): string => (st.kind === 'file' ? 'a regular file' : st.kind === 'dir' ? 'a directory' : st.kind === 'symlink' ? 'a symlink' : specialFileName(st));

/** What a file that is not a regular file, a directory or a symlink is, for messages: "a FIFO (named pipe)". */
export function specialFileName(st: HostStat): string {
  switch (st.special) {
    case 'fifo':
      return 'a FIFO (named pipe)';
    case 'socket':
      return 'a socket';
    case 'char-device':
      return 'a character device';
    case 'block-device':
      return 'a block device';
    default:
      return 'not a regular file';
  }
}

/** An error from openRegularFile for a path that is there but is not a regular file. */
export class NotARegularFile extends Error {
  readonly code = 'ENOTREG';
  constructor(
    readonly path: string,
    /** "a directory", "a FIFO (named pipe)", ... */
    readonly kind: string,
  ) {
    super(`${path} is ${kind}, not a regular file`);
    this.name = 'NotARegularFile';
  }
}

/**
 * Open a file osv reads as a whole (a configuration, a kernel, an image, an archive), for
 * reading. O_NONBLOCK: a FIFO opens at once instead of waiting for a writer (such a command
 * hung), and is then refused with the rest of what is not a regular file (NotARegularFile).
 * Errors of open itself (ENOENT, ELOOP, EACCES) are thrown as they are: fileProblem words them.
 */
export function openRegularFile(path: string): number {
  return openRegular(path).fd;
}

function openRegular(path: string): { fd: number; size: number } {
  const fd = fs.openSync(path, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  let st: fs.Stats;
  try {
    st = fs.fstatSync(fd);
  } catch (e) {
    fs.closeSync(fd);
    throw e;
  }
  if (st.isFile()) return { fd, size: st.size };
  fs.closeSync(fd);
  throw new NotARegularFile(path, fileKindName(toStat(st)));
}

/** What kind of file Node's `st` is, for messages (fileKindName of a host stat). */
export const statsKindName = (st: fs.Stats): string => fileKindName(toStat(st));

/** What an error of opening or reading a host file says of it, after the path: "does not exist", "is a FIFO (named pipe)". */
export function fileProblem(e: unknown): string {
  if (e instanceof NotARegularFile) return `is ${e.kind}, not a regular file`;
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'ENOENT':
      return 'does not exist';
    case 'ELOOP':
      return 'is a loop of symbolic links';
    case 'EACCES':
    case 'EPERM':
      return 'cannot be read (permission denied)';
    case 'EISDIR':
      return 'is a directory, not a regular file';
    case 'ENOTDIR':
      return 'does not exist (a component of its path is not a directory)';
    case 'ENAMETOOLONG':
      return 'has a name too long for the file system';
    default:
      return `cannot be read (${code ?? (e as Error | undefined)?.message ?? String(e)})`;
  }
}

/** Where a file of a container image's merged view comes from (`osv plan` and `osv why` show it). */
export interface ImageOrigin {
  /** The image as osv.yaml names it, and its manifest digest. */
  image: string;
  digest: string;
  /** 1-based layer number, and the layer's digest as its manifest names it. */
  layer: number;
  layerDigest: string;
  /** The file's canonical path inside the image. */
  path: string;
}

/** An image file's origin, and where its bytes are on this machine (the cached layer). */
export interface ImageFileData extends ImageOrigin {
  file: string;
  offset: number;
  mtimeMs: number;
}

export interface HostFs {
  /** Stat without following a final symlink; undefined when the path does not exist. */
  lstat(path: string): HostStat | undefined;
  /** Stat following symlinks; undefined when the path (or a link target) does not exist. */
  stat(path: string): HostStat | undefined;
  readlink(path: string): string;
  /** Names in a directory, sorted by byte order for determinism. */
  readdir(path: string): string[];
  /** Up to `length` bytes at `offset`; shorter at end of file. */
  readRange(path: string, offset: number, length: number): Buffer;
  readFile(path: string): Buffer;
  /** An open handle for many small reads of one file (ELF parsing). */
  open(path: string): HostFile;
  /** For a file inside a container image (mounted into this view): where it comes from. */
  origin?(path: string): ImageFileData | undefined;
}

export interface HostFile {
  readonly path: string;
  readonly size: number;
  /** Up to `length` bytes at `offset`; shorter at end of file. */
  read(offset: number, length: number): Buffer;
  close(): void;
}

function toStat(s: fs.Stats): HostStat {
  const kind: HostKind = s.isFile() ? 'file' : s.isDirectory() ? 'dir' : s.isSymbolicLink() ? 'symlink' : 'other';
  const st: HostStat = { kind, size: s.size, mtimeMs: s.mtimeMs, ctimeMs: s.ctimeMs, ino: s.ino, dev: s.dev, mode: s.mode & 0o7777 };
  if (kind === 'other') {
    const special = s.isFIFO() ? 'fifo' : s.isSocket() ? 'socket' : s.isCharacterDevice() ? 'char-device' : s.isBlockDevice() ? 'block-device' : undefined;
    if (special) st.special = special;
  }
  return st;
}

/**
 * The pseudo file system a host path belongs to (`proc`, `sys`), judged by its name: the kernel
 * makes those files up as they are read, so their size says nothing and they cannot be copied.
 */
export function pseudoFileSystem(path: string): 'proc' | 'sys' | undefined {
  return /^\/(proc|sys)(?:\/|$)/.exec(path)?.[1] as 'proc' | 'sys' | undefined;
}

/**
 * Byte-order comparison of names as UTF-8 (what `LC_ALL=C sort` does), independent of locale.
 * Below U+D800, UTF-16 code units compare as code points do, and so as their UTF-8 bytes: only a
 * difference at a surrogate or above is settled by encoding (sorting a directory's names by
 * encoding each pair cost several ms of `osv plan`).
 */
export function compareBytes(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    return x < 0xd800 && y < 0xd800 ? x - y : Buffer.compare(Buffer.from(a), Buffer.from(b));
  }
  return a.length - b.length;
}

class NodeHostFile implements HostFile {
  private fd: number | undefined;
  constructor(readonly path: string, fd: number, readonly size: number) {
    this.fd = fd;
  }
  read(offset: number, length: number): Buffer {
    if (this.fd === undefined) throw new Error(`read after close: ${this.path}`);
    const n = Math.max(0, Math.min(length, this.size - offset));
    const buf = Buffer.allocUnsafe(n);
    let done = 0;
    while (done < n) {
      const r = fs.readSync(this.fd, buf, done, n - done, offset + done);
      if (r === 0) break;
      done += r;
    }
    return done === n ? buf : buf.subarray(0, done);
  }
  close(): void {
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
  }
}

/** The real file system of this machine. */
export const nodeHostFs: HostFs = {
  lstat(path) {
    const s = fs.lstatSync(path, { throwIfNoEntry: false });
    return s ? toStat(s) : undefined;
  },
  stat(path) {
    try {
      const s = fs.statSync(path, { throwIfNoEntry: false });
      return s ? toStat(s) : undefined;
    } catch {
      return undefined; // ELOOP, ENOTDIR, EACCES on a component: treat as absent
    }
  },
  readlink: (path) => fs.readlinkSync(path),
  readdir: (path) => fs.readdirSync(path).sort(compareBytes),
  readRange(path, offset, length) {
    const f = this.open(path);
    try {
      return f.read(offset, length);
    } finally {
      f.close();
    }
  },
  // Through openRegularFile: a FIFO or a device met among host files is refused, never read
  // (reading a FIFO waits for a writer).
  readFile(path) {
    const fd = openRegularFile(path);
    try {
      return fs.readFileSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  },
  open(path) {
    const { fd, size } = openRegular(path);
    return new NodeHostFile(path, fd, size);
  },
};
