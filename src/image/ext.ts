// A writable ext4 root without root privileges: the entries are staged into a directory
// (copies, symlinks, dirs), then `mke2fs -d` builds the filesystem from it, directly at the
// partition offset of the image file (`-E offset=`), so nothing is copied twice.
// Feature flags are the ones OSv's ext driver reads (facts §4.4/§13): 4 KiB blocks, no
// 64bit, no metadata_csum. The result is deterministic for the same inputs: UUID and hash
// seed derive from the entries, the creation time is pinned, staged times are fixed (files
// keep their host mtime, which Python's .pyc checks rely on).

import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { err, ok, type Result } from '../diagnostics/result.js';
import { ExitCode, OsvError } from '../diagnostics/error.js';
import type { ImageEntry } from './entries.js';
import { badEntry, buildFailed, catchOsv, errnoCode } from './errors.js';
import { buildTree, childrenOf, type TreeDir } from './tree.js';
import { runTool, TOOLS } from './tools.js';
import { device } from './extread.js';
import { writeAtomically, tempPathFor } from './atomic.js';
import { removeOnSignal } from '../atomic.js';
import { MiB, roundUp } from './sector.js';
import { formatBytes } from '../units.js';
import type { WriteProgress } from './bufwriter.js';
import { interrupted } from './bufwriter.js';

export const EXT_BLOCK = 4096;
export const EXT_FEATURES = '^64bit,^metadata_csum';
const EXT_MAX_NAME = 255;
/** Creation/modification time written by mke2fs (E2FSPROGS_FAKE_TIME) and given to staged dirs. */
export const FIXED_TIME = 1;
/** Smaller filesystems get no journal from mke2fs; keep every image journaled the same way. */
const MIN_BYTES = 16 * MiB;

export interface ExtOptions extends WriteProgress {
  /** Exact filesystem size in bytes (rounded up to 4 KiB); an error if the contents do not fit. */
  sizeBytes?: number;
  /** Free space to add on top of what the contents need (ignored with sizeBytes). */
  freeBytes?: number;
  /** Where to stage (default: next to the image). Removed afterwards. */
  stagingParent?: string;
  /** The largest file system the disk can hold (its partition table's limit). */
  maxBytes?: number;
}

export interface ExtSummary {
  bytes: number;
  blockSize: number;
  files: number;
  dirs: number;
  symlinks: number;
  dataBytes: number;
  uuid: string;
}

interface Staged {
  files: number;
  dirs: number;
  symlinks: number;
  dataBytes: number;
  /** Blocks the contents take, estimated from sizes (data, directories, long symlinks). */
  blocks: number;
  inodes: number;
  /** Every staged path, as the image will have it (`/etc/fstab`), parents first. */
  paths: string[];
}

/** Stage the tree into `dir` (which must exist and be empty). */
export async function stageTree(entries: readonly ImageEntry[], dir: string, progress: WriteProgress = {}): Promise<Result<Staged, OsvError>> {
  const tree = catchOsv(() => buildTree(entries));
  if (!tree.ok) return tree;
  const total = entries.reduce((s, e) => s + (e.kind === 'file' ? e.size : 0), 0);
  const st: Staged = { files: 0, dirs: 1, symlinks: 0, dataBytes: 0, blocks: 1, inodes: 1, paths: [] };
  const dirs: Array<{ path: string; node: TreeDir }> = [{ path: dir, node: tree.value }];
  try {
    for (let i = 0; i < dirs.length; i++) {
      const { path, node } = dirs[i]!;
      fs.chmodSync(path, node.mode ?? 0o755);
      let direntBytes = 24;
      for (const child of childrenOf(node, 'sorted')) {
        const name = child.name.toString();
        if (child.name.length > EXT_MAX_NAME) throw badEntry(`${path.slice(dir.length)}/${name}`, `ext4 names are at most ${EXT_MAX_NAME} bytes`);
        direntBytes += 8 + roundUp(child.name.length, 4);
        const host = join(path, name);
        st.inodes++;
        st.paths.push(host.slice(dir.length));
        if (child.kind === 'dir') {
          fs.mkdirSync(host);
          dirs.push({ path: host, node: child });
          st.dirs++;
        } else if (child.kind === 'symlink') {
          fs.symlinkSync(child.target.toString(), host);
          fs.lutimesSync(host, FIXED_TIME, FIXED_TIME);
          if (child.target.length > 59) st.blocks++; // longer targets do not fit in the inode
          st.symlinks++;
        } else {
          const e = child.entry;
          if (e.content !== undefined) {
            fs.writeFileSync(host, e.content);
            fs.chmodSync(host, e.mode ?? 0o644); // the mode as declared, whatever the umask
            fs.utimesSync(host, FIXED_TIME, FIXED_TIME);
          } else {
            let mtime: Date;
            if (e.offset !== undefined) {
              copyRange(e.host, e.offset, e.size, host);
              mtime = new Date(e.mtimeMs ?? 0);
            } else {
              const src = fs.statSync(e.host);
              if (src.size !== e.size) throw changed(e.host, e.guest, e.size);
              fs.copyFileSync(e.host, host, fs.constants.COPYFILE_FICLONE);
              mtime = e.mtimeMs !== undefined ? new Date(e.mtimeMs) : src.mtime;
            }
            if (e.mode !== undefined) fs.chmodSync(host, e.mode);
            // atime = mtime: reading the source (this very copy) moves its atime.
            fs.utimesSync(host, mtime, mtime);
          }
          st.files++;
          st.dataBytes += e.size;
          st.blocks += Math.ceil(e.size / EXT_BLOCK) + (e.size > 512 * MiB ? Math.ceil(e.size / (512 * MiB)) : 0);
          progress.onProgress?.(st.dataBytes, total);
          if (progress.signal?.aborted) throw interrupted();
        }
      }
      st.blocks += Math.ceil(direntBytes / EXT_BLOCK);
      await new Promise<void>((r) => setImmediate(r));
    }
    // Directory times last: creating children changed them.
    for (let i = dirs.length - 1; i >= 0; i--) fs.utimesSync(dirs[i]!.path, FIXED_TIME, FIXED_TIME);
  } catch (e) {
    if (e instanceof OsvError) return err(e);
    return err(buildFailed('image.stage-failed', `staging the ext tree in ${dir} failed: ${errnoCode(e) ?? String(e)}`, undefined, e));
  }
  return ok(st);
}

/** `size` bytes of `src` from `offset` into a new file (a file inside a cached image layer). */
function copyRange(src: string, offset: number, size: number, dest: string): void {
  const from = fs.openSync(src, 'r');
  const to = fs.openSync(dest, 'w', 0o644);
  try {
    const buf = Buffer.allocUnsafe(Math.min(size, 1 << 20));
    for (let done = 0; done < size; ) {
      const n = fs.readSync(from, buf, 0, Math.min(buf.length, size - done), offset + done);
      if (n === 0) throw buildFailed('image.input-changed', `${src} ends before the ${size} bytes at ${offset} it should hold`, 'the image cache is damaged: `osv cache prune --all`, then build again');
      fs.writeSync(to, buf, 0, n);
      done += n;
    }
  } finally {
    fs.closeSync(from);
    fs.closeSync(to);
  }
}

function changed(host: string, guest: string, size: number): OsvError {
  return buildFailed('image.input-changed', `${host} (for ${guest}) changed since it was planned (planned size ${size} bytes)`, 'run the build again');
}

/**
 * Filesystem size for staged contents: data and directory blocks, inode tables (256 bytes
 * each, plus a quarter spare), the journal mke2fs will choose, 5% for group metadata, and
 * the requested free space.
 */
export function extSizeFor(st: Staged, freeBytes = 0): number {
  const content = st.blocks * EXT_BLOCK;
  const inodes = Math.ceil((st.inodes + 16) * 1.25) * 256;
  const base = content + inodes + freeBytes;
  const journal = base < 100 * MiB ? 4 * MiB : base < 900 * MiB ? 16 * MiB : 64 * MiB;
  return Math.max(MIN_BYTES, roundUp(Math.ceil((base + journal) * 1.05) + 2 * MiB, MiB));
}

function uuidFrom(entries: readonly ImageEntry[]): string {
  const h = createHash('sha256');
  for (const e of entries) h.update(`${e.kind}\0${e.guest}\0${e.kind === 'file' ? e.size : e.kind === 'symlink' ? e.target : ''}\n`);
  const x = h.digest('hex');
  // RFC 4122 shape (version 4 bits, variant bits) so tools do not complain.
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-4${x.slice(13, 16)}-a${x.slice(17, 20)}-${x.slice(20, 32)}`;
}

/**
 * Make an ext4 of `entries` inside the file at `path`, starting at byte `offset` (the file
 * may already hold an MBR or loader in front). Stages in a temporary directory.
 */
export async function writeExtInto(
  entries: readonly ImageEntry[],
  path: string,
  offset: number,
  opts: ExtOptions = {},
): Promise<Result<ExtSummary, OsvError>> {
  const stage = tempPathFor(join(opts.stagingParent ?? join(path, '..'), 'ext-stage'));
  try {
    fs.mkdirSync(stage);
  } catch (e) {
    return err(buildFailed('image.stage-failed', `cannot create the staging directory ${stage}: ${errnoCode(e) ?? String(e)}`));
  }
  const forget = removeOnSignal(stage);
  try {
    const staged = await stageTree(entries, stage, opts);
    if (!staged.ok) return staged;
    const need = extSizeFor(staged.value, opts.freeBytes);
    const fixed = opts.sizeBytes !== undefined ? roundUp(opts.sizeBytes, EXT_BLOCK) : undefined;
    const uuid = uuidFrom(entries);
    // An estimate can still be short for odd trees; grow and retry rather than fail.
    let size = fixed ?? need;
    const tooLarge = (would: string): OsvError =>
      new OsvError({
        code: 'image.ext-too-large',
        message: `the ext root would be ${would} (its files${opts.freeBytes ? ' plus image.size' : ''}), more than an MBR partition can hold (${opts.maxBytes} bytes, just under 2 TiB)`,
        hint: 'OSv finds its root in an MBR partition table, which addresses at most 2 TiB: lower image.size',
        exitCode: ExitCode.invalidInput,
      });
    if (opts.maxBytes !== undefined && size > opts.maxBytes) return err(tooLarge(formatBytes(size)));
    for (let attempt = 0; ; attempt++) {
      const r = await mke2fs(stage, path, offset, size, staged.value.inodes, uuid, opts.signal);
      if (r.ok) break;
      const full = /could not allocate|no space left|too small|not enough space/i.test(r.error.details.join('\n'));
      if (!full) return r;
      if (fixed !== undefined)
        return err(
          new OsvError({
            code: 'image.ext-too-small',
            message: `the files (${staged.value.dataBytes} bytes in ${staged.value.files} files) do not fit in an ext4 of ${fixed} bytes`,
            hint: `raise image.size (at least ${need} bytes), or leave it unset to fit the contents`,
            details: r.error.details,
            exitCode: ExitCode.invalidInput,
          }),
        );
      if (attempt >= 3) return r;
      // Grown no further than the partition can hold: at the limit, one last try, then the error.
      if (opts.maxBytes !== undefined && size >= opts.maxBytes) return err(tooLarge(`more than ${formatBytes(size)}`));
      size = roundUp(Math.ceil(size * 1.5), MiB);
      if (opts.maxBytes !== undefined && size > opts.maxBytes) size = Math.floor(opts.maxBytes / EXT_BLOCK) * EXT_BLOCK;
    }
    const pinned = await pinCtimes(staged.value.paths, path, offset, opts.signal);
    if (!pinned.ok) return pinned;
    return ok({
      bytes: size,
      blockSize: EXT_BLOCK,
      files: staged.value.files,
      dirs: staged.value.dirs,
      symlinks: staged.value.symlinks,
      dataBytes: staged.value.dataBytes,
      uuid,
    });
  } finally {
    fs.rmSync(stage, { recursive: true, force: true });
    forget();
  }
}

/**
 * mke2fs copies each staged file's ctime, which is when it was staged: set every inode's ctime
 * to the fixed time, so that the same plan gives the same bytes. One debugfs process; inside
 * its double quotes a quote is written twice. debugfs exits 0 even when a command fails, so
 * anything on stderr but its banner is an error.
 */
export async function pinCtimes(paths: readonly string[], path: string, offset: number, signal?: AbortSignal): Promise<Result<void, OsvError>> {
  const commands = paths.map((g) => `sif "${g.replaceAll('"', '""')}" ctime ${FIXED_TIME}`);
  if (commands.length === 0) return ok(undefined);
  const r = await runTool(TOOLS.debugfs, ['-w', '-f', '-', device(path, offset)], {
    why: 'to fix the inode times of an ext4 image',
    input: commands.join('\n') + '\n',
    // It stamps the superblock's last-write time when it closes the filesystem.
    env: { E2FSPROGS_FAKE_TIME: String(FIXED_TIME) },
    ...(signal ? { signal } : {}),
    failCode: 'image.debugfs-failed',
  });
  if (!r.ok) return r;
  const problems = r.value.stderr.split('\n').filter((l) => l.trim() !== '' && !/^debugfs \d/.test(l));
  if (problems.length > 0) {
    return err(new OsvError({ code: 'image.debugfs-failed', message: `debugfs could not set the inode times of ${path}`, details: problems.slice(0, 5), exitCode: ExitCode.buildFailed }));
  }
  return ok(undefined);
}

async function mke2fs(
  stage: string,
  path: string,
  offset: number,
  size: number,
  inodes: number,
  uuid: string,
  signal?: AbortSignal,
): Promise<Result<void, OsvError>> {
  const args = [
    '-F',
    ...mke2fsArgs({
      extended: [`offset=${offset}`, `hash_seed=${uuid}`],
      more: ['-N', String(Math.ceil((inodes + 16) * 1.25)), '-U', uuid],
      label: 'osv-root',
      populate: stage,
      path,
      bytes: size,
    }),
  ];
  const r = await runTool(TOOLS.mke2fs, args, {
    why: 'to make an ext4 filesystem',
    env: { E2FSPROGS_FAKE_TIME: String(FIXED_TIME) },
    ...(signal ? { signal } : {}),
    failCode: 'image.mke2fs-failed',
  });
  return r.ok ? ok(undefined) : r;
}

/**
 * mke2fs's arguments for an ext4 that OSv's ext driver reads (facts §4.4, §13): 4 KiB blocks,
 * no 64bit, no metadata_csum, nothing reserved for root (OSv runs everything as one user), the
 * root directory owned by 0:0 whoever runs mke2fs; populated from a directory when given.
 */
export function mke2fsArgs(o: { extended?: string[]; more?: string[]; label: string; populate?: string; path: string; bytes: number }): string[] {
  return [
    '-q',
    '-t', 'ext4',
    '-b', String(EXT_BLOCK),
    '-O', EXT_FEATURES,
    '-m', '0',
    ...(o.more ?? []),
    '-E', [...(o.extended ?? []), 'root_owner=0:0'].join(','),
    '-L', o.label,
    ...(o.populate !== undefined ? ['-d', o.populate] : []),
    o.path,
    `${Math.ceil(o.bytes / 1024)}k`,
  ];
}

/** Write `entries` as a bare ext4 image file (atomically). */
export async function writeExt(entries: readonly ImageEntry[], outPath: string, opts: ExtOptions = {}): Promise<Result<ExtSummary, OsvError>> {
  return writeAtomically(outPath, async (tmp) => {
    fs.writeFileSync(tmp, '');
    return writeExtInto(entries, tmp, 0, opts);
  });
}
