// Named volumes on the host: made on first use (a rootless ext4, seeded from a directory when
// asked), checked on every later use, and removed only when asked. A volume is never made
// over an existing file: the new file system is written to a temporary file and linked into
// place, which fails if a volume appeared there meanwhile; a file that is not ext4 is an error.

import { randomBytes } from 'node:crypto';
import { chmodSync, linkSync, lstatSync, readdirSync, rmSync, statSync, unlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { NamedVolume } from '../config/types.js';
import { ExitCode, OsvError } from '../diagnostics/error.js';
import { err, ok, type Result } from '../diagnostics/result.js';
import { EXT_BLOCK, mke2fsArgs } from '../image/ext.js';
import { isExt, readExtSuperblock, type ExtSuperblock } from '../image/extread.js';
import { openImageFile } from '../image/source.js';
import { findTool, runTool, TOOLS } from '../image/tools.js';
import { formatBytes } from '../units.js';
import { updateMeta, volumeNames } from './meta.js';
import { projectVolumesDir, volumeFile } from './paths.js';
import { readOnlyCopyPath } from './readonly.js';
import { makeDirs } from '../atomic.js';

const volumeError = (code: string, message: string, hint?: string, exitCode: ExitCode = ExitCode.invalidInput): OsvError =>
  new OsvError({ code: `volume.${code}`, message, ...(hint ? { hint } : {}), exitCode });

/** The ext4 superblock of a volume file, or why it is not one. */
export function readVolume(file: string, name: string): Result<ExtSuperblock, OsvError> {
  const st = lstatSync(file, { throwIfNoEntry: false });
  if (!st) return err(volumeError('missing', `volume "${name}" does not exist (${file})`, 'see `osv volume ls`'));
  if (!st.isFile()) return err(volumeError('not-ext4', `volume "${name}" (${file}) is not a regular file`, 'osv-up never formats over existing data: move it away'));
  const img = openImageFile(file);
  try {
    if (!isExt(img.source))
      return err(
        volumeError(
          'not-ext4',
          `volume "${name}" (${file}) is not an ext4 file system: osv-up never formats over existing data`,
          `look at it (file ${file}), move it away, or remove it with \`osv volume rm ${name}\``,
        ),
      );
    return readExtSuperblock(img.source);
  } finally {
    img.close();
  }
}

export interface EnsuredVolume {
  path: string;
  /** Made by this call. */
  created: boolean;
  /** Does not exist yet and was not made (a dry run). */
  pending?: boolean;
  notes: string[];
}

export interface EnsureOptions {
  env?: NodeJS.ProcessEnv;
  /** Make nothing: say what a run would make. */
  dryRun?: boolean;
}

/** The volume of the project in `projectDir`: checked when it exists, made when it does not. */
export async function ensureVolume(projectDir: string, v: NamedVolume, opts: EnsureOptions = {}): Promise<Result<EnsuredVolume, OsvError>> {
  const env = opts.env ?? process.env;
  const file = volumeFile(projectDir, v.name, env);
  if (!file.ok) return file;
  const path = file.value;
  if (lstatSync(path, { throwIfNoEntry: false })) {
    const sb = readVolume(path, v.name);
    if (!sb.ok) return sb;
    const bytes = sb.value.blocks * sb.value.blockSize;
    const notes = Math.abs(bytes - v.size) >= EXT_BLOCK * 256 ? [`volume "${v.name}" holds ${formatBytes(bytes)} (run.volumes says ${formatBytes(v.size)}): an existing volume keeps its size`] : [];
    return ok({ path, created: false, notes });
  }
  const what = `${formatBytes(v.size)} ext4${v.from ? `, seeded from ${v.from}` : ''}`;
  if (opts.dryRun) return ok({ path, created: false, pending: true, notes: [`volume "${v.name}" does not exist yet: the run makes it (${what}) at ${path}`] });
  const made = await createVolume(path, v);
  if (!made.ok) return made;
  if (made.value) updateMeta(dirname(path), projectDir, (m) => (m.volumes[v.name] = { created: new Date().toISOString(), size: v.size, ...(v.from ? { from: v.from } : {}), usedBy: [] }));
  return ok({ path, created: made.value, notes: made.value ? [`made volume "${v.name}" (${what}) at ${path}`] : [] });
}

/** Bytes a directory tree takes in 4 KiB blocks (files, directories, long symlinks), to compare with a size. */
function treeBytes(dir: string): number {
  let total = EXT_BLOCK;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) total += treeBytes(p);
    else {
      const st = lstatSync(p);
      total += e.isSymbolicLink() ? (st.size > 59 ? EXT_BLOCK : 0) : Math.ceil(st.size / EXT_BLOCK) * EXT_BLOCK;
    }
  }
  return total;
}

/** Make the volume at `path`: true when made, false when another process made it meanwhile. */
async function createVolume(path: string, v: NamedVolume): Promise<Result<boolean, OsvError>> {
  if (v.from !== undefined) {
    const st = statSync(v.from, { throwIfNoEntry: false });
    if (!st?.isDirectory()) return err(volumeError('seed', `volume "${v.name}": from ${v.from} ${st ? 'is not a directory' : 'does not exist'}`, 'from: names a host directory whose contents the new volume starts with'));
    const need = treeBytes(v.from);
    if (need > v.size) return err(tooSmall(v, `the seed ${v.from} takes ${formatBytes(need)}`));
  }
  try {
    // A program's data: for this user only.
    makeDirs(dirname(path), 0o700);
  } catch (e) {
    return err(volumeError('create-failed', `cannot create ${dirname(path)}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, undefined, ExitCode.buildFailed));
  }
  const tmp = join(dirname(path), `.${v.name}.ext4.${process.pid}-${randomBytes(4).toString('hex')}.tmp`);
  try {
    const r = await runTool(TOOLS.mke2fs, mke2fsArgs({ label: v.name.slice(0, 16), ...(v.from !== undefined ? { populate: v.from } : {}), path: tmp, bytes: v.size }), {
      why: `to make the volume "${v.name}"`,
      failCode: 'volume.create-failed',
    });
    if (!r.ok) {
      const full = /could not allocate|no space left|too small|not enough space/i.test(r.error.details.join('\n'));
      return err(full ? tooSmall(v, `the seed ${v.from} does not fit (ext4 needs room for its journal and tables too)`) : r.error);
    }
    try {
      chmodSync(tmp, 0o600);
      linkSync(tmp, path);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') return ok(false);
      return err(volumeError('create-failed', `cannot put the new volume at ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, undefined, ExitCode.buildFailed));
    }
    return ok(true);
  } finally {
    rmSync(tmp, { force: true });
  }
}

function tooSmall(v: NamedVolume, why: string): OsvError {
  return volumeError('too-small', `volume "${v.name}" of ${formatBytes(v.size)} is too small: ${why}`, 'raise its size (the file is sparse: a larger size costs only what is written)');
}

/**
 * Whether a VM has the file open: QEMU holds a lock on every disk it attaches (also with
 * snapshot=on), which `qemu-io` meets when it opens the file for writing. Undefined when
 * qemu-io is not installed.
 */
export async function inUse(file: string): Promise<boolean | undefined> {
  if (!findTool(TOOLS.qemuIo.name)) return undefined;
  const r = await runTool(TOOLS.qemuIo, ['-f', 'raw', '-c', 'quit', file], { why: 'to see whether a VM uses the volume', okExit: [1] });
  return r.ok ? /Failed to get .*lock/.test(r.value.stderr) : undefined;
}

/** Remove a volume of the project in `projectDir` (refused while a VM uses it). */
export async function removeVolume(projectDir: string, name: string, env: NodeJS.ProcessEnv = process.env): Promise<Result<string, OsvError>> {
  const file = volumeFile(projectDir, name, env);
  if (!file.ok) return file;
  if (!lstatSync(file.value, { throwIfNoEntry: false })) return err(volumeError('missing', `volume "${name}" does not exist in this project (${projectVolumesDir(projectDir, env)})`, 'see `osv volume ls`'));
  if (await inUse(file.value)) return err(volumeError('in-use', `volume "${name}" is in use by a running VM (${file.value})`, 'stop the VM (Ctrl-C in its terminal) and try again'));
  unlinkSync(file.value);
  const home = dirname(file.value);
  rmSync(readOnlyCopyPath(home, name), { force: true });
  // The last one gone: so is the project's directory.
  if (volumeNames(home).length === 0) rmSync(home, { recursive: true, force: true });
  else updateMeta(home, projectDir, (m) => delete m.volumes[name]);
  return ok(file.value);
}
