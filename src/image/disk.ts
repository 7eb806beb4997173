// Disk composition (facts §4.3, §4.4, §13). Two layouts:
//   disk      a 512-byte MBR with the root filesystem in slot 2 (/dev/vblk0.1); the kernel is
//             booted by the hypervisor (QEMU -kernel, Firecracker) with the command line
//             passed there. ROFS starts right after the MBR, at byte 512, as OSv's own
//             --create-disk does; ext starts at 1 MiB so its 4 KiB blocks line up with host
//             pages and qcow2 clusters.
//   bootable  loader.img (boot sector + compressed kernel), zero padding to the next 2 MiB,
//             the filesystem there in slot 2, and the command line at byte 512.
// The filesystem is written straight into the image file at its offset (no second copy), the
// MBR last, all into a temporary file renamed over the destination when complete.

import * as fs from 'node:fs';
import { dirname } from 'node:path';
import { err, ok, type Result } from '../diagnostics/result.js';
import { ExitCode, OsvError } from '../diagnostics/error.js';
import type { ImageFormat, ImageOutput } from '../config/types.js';
import type { ImageEntry } from './entries.js';
import { withNewFile, writeAtomically } from './atomic.js';
import { buildFailed, errnoCode, writeFailureHint } from './errors.js';
import { encodeCmdline, CMDLINE_OFFSET } from './cmdline.js';
import { MBR_MAX_PARTITION_BYTES, writePartition, ROOT_SLOT, SIGNATURE_OFFSET } from './mbr.js';
import { MiB, SECTOR, roundUp } from './sector.js';
import { layoutRofs, type RofsOrder } from './rofs/layout.js';
import { writeRofsLayout, type RofsSummary } from './rofs/writer.js';
import { writeExtInto, type ExtOptions, type ExtSummary } from './ext.js';
import { rawToQcow2 } from './qcow2.js';
import type { WriteProgress } from './bufwriter.js';

/** What goes into the root partition. */
export type FsSource =
  /** Entries written as ROFS in place. */
  | { kind: 'rofs'; entries: readonly ImageEntry[]; order?: RofsOrder }
  /** Entries made into ext4 in place by mke2fs. */
  | { kind: 'ext'; entries: readonly ImageEntry[]; sizeBytes?: number; freeBytes?: number }
  /** An existing filesystem image file, copied in. */
  | { kind: 'image'; path: string };

export interface ComposeOptions extends WriteProgress {
  outPath: string;
  layout: ImageOutput;
  format?: ImageFormat;
  fs: FsSource;
  /** Required for 'bootable' (stored at byte 512); not stored by 'disk'. */
  cmdline?: string;
  /** loader.img; required for 'bootable'. */
  loaderImg?: string;
}

export interface DiskSummary {
  path: string;
  layout: ImageOutput;
  format: ImageFormat;
  /** Size of the raw image (before any qcow2 conversion). */
  rawBytes: number;
  /** Size of the file written. */
  bytes: number;
  partition: { slot: number; device: string; offset: number; size: number };
  cmdline?: string;
  fs: { kind: 'rofs'; summary: RofsSummary } | { kind: 'ext'; summary: ExtSummary } | { kind: 'image'; bytes: number };
}

/** Where the filesystem starts. */
export function partitionOffset(layout: ImageOutput, fsKind: FsSource['kind'], loaderBytes = 0): number {
  if (layout === 'bootable') return roundUp(Math.max(loaderBytes, 1), 2 * MiB);
  return fsKind === 'ext' ? MiB : SECTOR;
}

function invalid(code: string, message: string, hint?: string): OsvError {
  return new OsvError({ code, message, ...(hint ? { hint } : {}), exitCode: ExitCode.invalidInput });
}

/** A loader.img must be a boot sector image, not the ELF kernel. */
export function checkLoaderImg(path: string): Result<number, OsvError> {
  let head: Buffer;
  let size: number;
  try {
    const fd = fs.openSync(path, 'r');
    try {
      size = fs.fstatSync(fd).size;
      head = Buffer.alloc(SECTOR);
      fs.readSync(fd, head, 0, SECTOR, 0);
    } finally {
      fs.closeSync(fd);
    }
  } catch (e) {
    return err(invalid('kernel.loader-unreadable', `cannot read the loader image ${path}: ${errnoCode(e) ?? String(e)}`));
  }
  if (head.subarray(0, 4).equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46])))
    return err(
      invalid(
        'kernel.loader-is-elf',
        `${path} is an ELF kernel, but a bootable image needs loader.img (boot sector + compressed kernel)`,
        'use --output disk (boots the ELF directly), or point kernel.path at an OSv build directory that has loader.img',
      ),
    );
  if (size < 64 * 1024 || head[SIGNATURE_OFFSET] !== 0x55 || head[SIGNATURE_OFFSET + 1] !== 0xaa)
    return err(invalid('kernel.loader-invalid', `${path} is not an OSv loader.img (no boot sector signature or too small)`));
  return ok(size);
}

/** Compose the image at opts.outPath (atomically), converting to qcow2 when asked. */
export async function composeDisk(opts: ComposeOptions): Promise<Result<DiskSummary, OsvError>> {
  const format = opts.format ?? 'raw';
  let cmdBytes: Buffer | undefined;
  let loaderBytes = 0;
  if (opts.layout === 'bootable') {
    if (!opts.loaderImg) return err(invalid('image.no-loader', 'a bootable image needs the kernel\'s loader.img', 'set kernel.path to an OSv build directory or a loader.img, or use --output disk'));
    const l = checkLoaderImg(opts.loaderImg);
    if (!l.ok) return l;
    loaderBytes = l.value;
    const c = encodeCmdline(opts.cmdline ?? '');
    if (!c.ok) return c;
    cmdBytes = c.value;
  }
  const offset = partitionOffset(opts.layout, opts.fs.kind, loaderBytes);

  return writeAtomically(opts.outPath, async (tmp, scratch) => {
    const raw = format === 'raw' ? tmp : scratch(`${tmp}.raw`);
    const written = await withNewFile(raw, async (fd) => {
      try {
        if (opts.layout === 'bootable') {
          const c = copyInto(opts.loaderImg!, fd, 0, loaderBytes);
          if (!c.ok) return c;
        }
        const f = await writeFilesystem(opts.fs, raw, fd, offset, opts);
        if (!f.ok) return f;
        const partSize = roundUp(f.value.kind === 'image' ? f.value.bytes : f.value.summary.bytes, SECTOR);
        // Sector 0: the loader's boot sector (bootable) or zeros (disk), plus our slot-2 entry.
        const sector0 = Buffer.alloc(SECTOR);
        if (opts.layout === 'bootable') fs.readSync(fd, sector0, 0, SECTOR, 0);
        writePartition(sector0, { slot: ROOT_SLOT, start: offset, size: partSize });
        fs.writeSync(fd, sector0, 0, SECTOR, 0);
        if (cmdBytes) fs.writeSync(fd, cmdBytes, 0, cmdBytes.length, CMDLINE_OFFSET);
        fs.ftruncateSync(fd, offset + partSize); // pads a partial last sector; never cuts data
        return ok({ fs: f.value, partSize });
      } catch (e) {
        if (e instanceof OsvError) return err(e);
        return err(buildFailed('image.write-failed', `writing ${raw} failed: ${errnoCode(e) ?? String(e)}`, writeFailureHint(e, dirname(raw)), e));
      }
    });
    if (!written.ok) return written;
    const { fs: fsInfo, partSize } = written.value;
    if (format === 'qcow2') {
      const c = await rawToQcow2(raw, tmp, opts.signal);
      if (!c.ok) return c;
    }
    return ok({
      path: opts.outPath,
      layout: opts.layout,
      format,
      rawBytes: offset + partSize,
      bytes: fs.statSync(tmp).size,
      partition: { slot: ROOT_SLOT, device: `/dev/vblk0.${ROOT_SLOT - 1}`, offset, size: partSize },
      ...(opts.layout === 'bootable' ? { cmdline: opts.cmdline ?? '' } : {}),
      fs: fsInfo,
    });
  });
}

async function writeFilesystem(
  src: FsSource,
  rawPath: string,
  fd: number,
  offset: number,
  progress: WriteProgress,
): Promise<Result<DiskSummary['fs'], OsvError>> {
  if (src.kind === 'rofs') {
    const layout = layoutRofs(src.entries, src.order ? { order: src.order } : {});
    if (!layout.ok) return layout;
    const r = await writeRofsLayout(layout.value, fd, offset, progress);
    return r.ok ? ok({ kind: 'rofs', summary: r.value }) : r;
  }
  if (src.kind === 'ext') {
    const opts: ExtOptions = { ...progress, maxBytes: MBR_MAX_PARTITION_BYTES };
    if (src.sizeBytes !== undefined) opts.sizeBytes = src.sizeBytes;
    if (src.freeBytes !== undefined) opts.freeBytes = src.freeBytes;
    const r = await writeExtInto(src.entries, rawPath, offset, opts);
    return r.ok ? ok({ kind: 'ext', summary: r.value }) : r;
  }
  let size: number;
  try {
    size = fs.statSync(src.path).size;
  } catch (e) {
    return err(buildFailed('image.input-unreadable', `cannot read the filesystem image ${src.path}: ${errnoCode(e) ?? String(e)}`));
  }
  const c = copyInto(src.path, fd, offset, size);
  return c.ok ? ok({ kind: 'image', bytes: size }) : c;
}

/** Copy a whole host file into fd at `offset`, in 1 MiB pieces. */
function copyInto(path: string, fd: number, offset: number, size: number): Result<void, OsvError> {
  let src: number;
  try {
    src = fs.openSync(path, 'r');
  } catch (e) {
    return err(buildFailed('image.input-unreadable', `cannot read ${path}: ${errnoCode(e) ?? String(e)}`));
  }
  try {
    const buf = Buffer.allocUnsafe(MiB);
    for (let done = 0; done < size; ) {
      const n = fs.readSync(src, buf, 0, Math.min(buf.length, size - done), done);
      if (n === 0) return err(buildFailed('image.input-changed', `${path} became shorter while it was copied`));
      fs.writeSync(fd, buf, 0, n, offset + done);
      done += n;
    }
    return ok(undefined);
  } finally {
    fs.closeSync(src);
  }
}
