// Writes a ROFS in one sequential pass from a precomputed layout: superblock, file data in
// block order, then the tables. File bytes are streamed through one buffer (a 2 GB file never
// sits in memory).

import { type Result } from '../../diagnostics/result.js';
import type { OsvError } from '../../diagnostics/error.js';
import type { ImageEntry } from '../entries.js';
import { BufferedWriter, type WriteProgress } from '../bufwriter.js';
import { catchOsvAsync } from '../errors.js';
import { withNewFile, writeAtomically } from '../atomic.js';
import { ROFS_BLOCK, encodeSuperblock, type RofsSuperblock } from './format.js';
import { layoutRofs, type RofsLayout, type RofsLayoutOptions } from './layout.js';

export interface RofsSummary {
  /** Image size in bytes (what the partition must hold). */
  bytes: number;
  superblock: RofsSuperblock;
  files: number;
  dirs: number;
  symlinks: number;
  /** Sum of file sizes. */
  dataBytes: number;
  /** Bytes of the dir-entry, symlink and inode tables (unpadded). */
  structureBytes: number;
}

export type RofsWriteOptions = RofsLayoutOptions & WriteProgress;

export function summarize(layout: RofsLayout): RofsSummary {
  return {
    bytes: layout.imageBytes,
    superblock: layout.superblock,
    ...layout.counts,
    dataBytes: layout.dataBytes,
    structureBytes: layout.structure.length,
  };
}

/**
 * Write a laid-out ROFS into an open file at byte `offset` (a partition inside a disk image,
 * or 0). Progress counts image bytes.
 */
export async function writeRofsLayout(
  layout: RofsLayout,
  fd: number,
  offset: number,
  progress: WriteProgress = {},
): Promise<Result<RofsSummary, OsvError>> {
  return catchOsvAsync(async () => {
    const w = new BufferedWriter(fd, offset, layout.imageBytes, progress);
    await w.bytes(encodeSuperblock(layout.superblock));
    for (const f of layout.files) {
      // Blocks are assigned contiguously in this order, so position == block start.
      if ('host' in f.source) await w.hostFile(f.source.host, f.size, f.guest, f.source.offset);
      else await w.bytes(f.source.content);
      const tail = f.size % ROFS_BLOCK;
      if (tail !== 0) await w.zeros(ROFS_BLOCK - tail);
    }
    await w.bytes(layout.structure);
    await w.zeros(layout.imageBytes - w.written);
    await w.flush();
    return summarize(layout);
  });
}

/**
 * Write `entries` as a ROFS image file at `outPath` (atomically: temp file + rename).
 * Deterministic for a given entry set ('sorted', the default) or entry order ('given').
 */
export async function writeRofs(
  entries: readonly ImageEntry[],
  outPath: string,
  opts: RofsWriteOptions = {},
): Promise<Result<RofsSummary, OsvError>> {
  const layout = layoutRofs(entries, opts);
  if (!layout.ok) return layout;
  return writeAtomically(outPath, (tmp) => withNewFile(tmp, (fd) => writeRofsLayout(layout.value, fd, 0, opts)));
}
