// A read-only volume is mounted as a ROFS copy of its files. OSv cannot mount ext read-only:
// its ext driver writes the superblock when it mounts, so a read-only disk fails with an I/O
// error (tried). OSv's rofs is read-only by nature (the guest's writes fail), mounts any number
// of times beside one ext file system, and needs no module. The copy is made again only when
// the volume changed since (its file's size, mtime or inode differ from what the copy records).

import { lstatSync, mkdirSync, readdirSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { OsvError } from '../diagnostics/error.js';
import { ok, type Result } from '../diagnostics/result.js';
import type { ImageEntry } from '../image/entries.js';
import { writeRofs } from '../image/rofs/writer.js';
import { dumpVolume } from './dump.js';
import { readMeta, updateMeta, type VolumeMeta } from './meta.js';

/** The ROFS copy of volume `name` in the project volume directory `home`. */
export const readOnlyCopyPath = (home: string, name: string): string => join(home, `${name}.rofs`);

type Stamp = NonNullable<VolumeMeta['readOnlyCopy']>;
const stampOf = (path: string): Stamp => {
  const st = statSync(path);
  return { size: st.size, mtimeMs: st.mtimeMs, ino: st.ino };
};

/** The entries of a host tree as the image writers take them (`/` is `dir` itself). */
function treeEntries(dir: string, guest = '/'): ImageEntry[] {
  const out: ImageEntry[] = [{ kind: 'dir', guest, mode: lstatSync(dir).mode & 0o7777 }];
  for (const name of readdirSync(dir).sort()) {
    const host = join(dir, name);
    const g = guest === '/' ? `/${name}` : `${guest}/${name}`;
    const st = lstatSync(host);
    if (st.isDirectory()) out.push(...treeEntries(host, g));
    else if (st.isSymbolicLink()) out.push({ kind: 'symlink', guest: g, target: readlinkSync(host) });
    else if (st.isFile()) out.push({ kind: 'file', guest: g, host, size: st.size, mode: st.mode & 0o7777 });
  }
  return out;
}

/** The up-to-date ROFS copy of the volume file `path` (made now if the volume changed since the last). */
export async function readOnlyCopy(home: string, projectDir: string, name: string, path: string): Promise<Result<{ path: string; made: boolean }, OsvError>> {
  const copy = readOnlyCopyPath(home, name);
  const stamp = stampOf(path);
  const known = readMeta(home, projectDir).volumes[name]?.readOnlyCopy;
  if (known && known.size === stamp.size && known.mtimeMs === stamp.mtimeMs && known.ino === stamp.ino && lstatSync(copy, { throwIfNoEntry: false })?.isFile()) return ok({ path: copy, made: false });
  const stage = join(home, `.${name}.stage-${process.pid}-${randomBytes(4).toString('hex')}`);
  mkdirSync(stage);
  try {
    const dumped = await dumpVolume(path, name, stage);
    if (!dumped.ok) return dumped;
    const written = await writeRofs(treeEntries(stage), copy);
    if (!written.ok) return written;
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
  updateMeta(home, projectDir, (m) => {
    (m.volumes[name] ??= { size: stamp.size, usedBy: [] }).readOnlyCopy = stamp;
  });
  return ok({ path: copy, made: true });
}
