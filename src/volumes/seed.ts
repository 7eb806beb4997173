// A named volume's seed disk for a cluster: the file system the volume starts with, as a qcow2
// that stands alone (what a containerDisk holds and what CDI imports). A writable volume's is
// the ext4 that osv-up makes for a new volume on this machine (the same mke2fs options, the
// volume's size, seeded from `from:`); a read-only volume's is the ROFS of `from:`, which the
// guest mounts as a local run mounts a read-only volume's copy (readonly.ts). Same seed files,
// same bytes: the UUID and hash seed come from the volume, every time is fixed.

import { createHash } from 'node:crypto';
import { mkdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { NamedVolume } from '../config/types.js';
import { ExitCode, OsvError } from '../diagnostics/error.js';
import { err, ok, type Result } from '../diagnostics/result.js';
import { FIXED_TIME, mke2fsArgs, pinCtimes, stageTree } from '../image/ext.js';
import { rawToQcow2 } from '../image/qcow2.js';
import { writeRofs } from '../image/rofs/writer.js';
import { runTool, TOOLS } from '../image/tools.js';
import { treeEntries } from './readonly.js';
import { volumeFs } from '../plan/volume-mounts.js';
import { makeDirs } from '../atomic.js';

export type SeedVolume = Pick<NamedVolume, 'name' | 'size' | 'readonly' | 'from'>;

/** The file system a seed holds: the guest's `--mount-fs` type for the volume. */
export const seedFs = volumeFs;

/** An RFC 4122-shaped UUID from the volume's identity, so that a seed is made the same every time. */
function seedUuid(v: SeedVolume): string {
  const x = createHash('sha256').update(`osv-up volume seed\0${v.name}\0${v.size}\0${v.from ?? ''}`).digest('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-4${x.slice(13, 16)}-a${x.slice(17, 20)}-${x.slice(20, 32)}`;
}

const seedError = (v: SeedVolume, message: string, hint: string): OsvError => new OsvError({ code: 'volume.seed', message: `volume "${v.name}": ${message}`, hint, exitCode: ExitCode.invalidInput });

/** The raw file system of the seed at `raw`. */
async function writeSeedFs(v: SeedVolume, raw: string, empty: string): Promise<Result<void, OsvError>> {
  if (v.readonly) {
    const written = await writeRofs(treeEntries(v.from ?? empty), raw);
    return written.ok ? ok(undefined) : written;
  }
  const uuid = seedUuid(v);
  // The seed files staged with fixed times (mke2fs copies a file's times, its access time too),
  // their ctimes pinned after: the same files give the same seed.
  const stage = `${raw}.stage`;
  mkdirSync(stage);
  const staged = await stageTree(treeEntries(v.from ?? empty), stage);
  if (!staged.ok) return staged;
  const r = await runTool(TOOLS.mke2fs, mke2fsArgs({ extended: [`hash_seed=${uuid}`], more: ['-U', uuid], label: v.name.slice(0, 16), populate: stage, path: raw, bytes: v.size }), {
    why: `to make the seed of volume "${v.name}"`,
    env: { E2FSPROGS_FAKE_TIME: String(FIXED_TIME) },
    failCode: 'volume.seed',
  });
  rmSync(stage, { recursive: true, force: true });
  if (r.ok) return pinCtimes(staged.value.paths, raw, 0);
  if (/could not allocate|no space left|too small|not enough space/i.test(r.error.details.join('\n')))
    return err(seedError(v, `the seed ${v.from} does not fit in ${Math.ceil(v.size / 2 ** 20)} MiB (ext4 needs room for its journal and tables too)`, 'raise the volume\'s size in run.volumes (a cluster claims that much)'));
  return r;
}

/** Make the seed of `v` as `<dir>/<name>.qcow2`; `dir` is the caller's scratch directory. */
export async function makeSeedDisk(v: SeedVolume, dir: string): Promise<Result<string, OsvError>> {
  if (v.from !== undefined && !statSync(v.from, { throwIfNoEntry: false })?.isDirectory())
    return err(seedError(v, `from ${v.from} is not a directory`, 'from: names a host directory whose contents the new volume starts with'));
  const empty = join(dir, `${v.name}.empty`);
  makeDirs(empty);
  const raw = join(dir, `${v.name}.${seedFs(v)}`);
  const out = join(dir, `${v.name}.qcow2`);
  try {
    const fs = await writeSeedFs(v, raw, empty);
    if (!fs.ok) return fs;
    const q = await rawToQcow2(raw, out);
    return q.ok ? ok(out) : q;
  } finally {
    rmSync(raw, { force: true });
    rmSync(empty, { recursive: true, force: true });
  }
}
