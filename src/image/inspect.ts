// `osv inspect`: what is in an image, and whether it is consistent. Reads raw images directly;
// a qcow2 is first converted to a sparse temporary raw with qemu-img. Damage never throws:
// it becomes a problem in the report (the CLI exits non-zero when there are any).

import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { err, ok, type Result } from '../diagnostics/result.js';
import { OsvError } from '../diagnostics/error.js';
import { catchOsv } from './errors.js';
import { openImageFile, type ByteSource } from './source.js';
import { parseMbr, ROOT_SLOT, type PartitionEntry } from './mbr.js';
import { decodeCmdline, CMDLINE_MAX, CMDLINE_OFFSET } from './cmdline.js';
import { SECTOR } from './sector.js';
import { fileIsQcow2, qcow2ToRaw } from './qcow2.js';
import { RofsImage } from './rofs/reader.js';
import { ROFS_MAGIC, type RofsSuperblock } from './rofs/format.js';
import { checkExt, isExt, listExt, readExtSuperblock, type ExtSuperblock } from './extread.js';

export interface TreeItem {
  path: string;
  kind: 'dir' | 'file' | 'symlink' | 'other';
  size: number;
  target?: string;
}

export interface Problem {
  code: string;
  message: string;
}

export type FilesystemInfo =
  | { type: 'rofs'; superblock: RofsSuperblock; structureBytes: number; bytes: number }
  | { type: 'ext'; superblock: ExtSuperblock }
  | { type: 'unknown' };

export interface InspectReport {
  path: string;
  format: 'raw' | 'qcow2';
  /** Size of the file on disk. */
  fileBytes: number;
  /** Size of the raw disk (= fileBytes for raw). */
  rawBytes: number;
  /** bootable: boot code in sector 0; disk: a bare MBR; filesystem: no MBR, a filesystem at 0. */
  layout: 'disk' | 'bootable' | 'filesystem';
  partitions: PartitionEntry[];
  /** The partition OSv mounts as root (slot 2), or the whole file for a bare filesystem. */
  root?: { slot: number; device: string; offset: number; size: number };
  /** The command line at byte 512 (bootable images only). */
  cmdline?: string;
  filesystem: FilesystemInfo;
  tree: TreeItem[];
  totals: { files: number; dirs: number; symlinks: number; bytes: number };
  problems: Problem[];
}

export interface InspectOptions {
  /** List the file tree (default true). */
  tree?: boolean;
}

/** Inspect an image file. Fails only when the file cannot be read (or converted). */
export async function inspectImage(path: string, opts: InspectOptions = {}): Promise<Result<InspectReport, OsvError>> {
  let fileBytes: number;
  let qcow2: boolean;
  // Opened first: what is not a regular file (a FIFO would block a plain open) is said here.
  const first = catchOsv(() => openImageFile(path));
  if (!first.ok) return err(first.error);
  first.value.close();
  try {
    fileBytes = fs.statSync(path).size;
    qcow2 = fileIsQcow2(path);
  } catch {
    return err(new OsvError({ code: 'image.not-found', message: `cannot read ${path}` })); // gone since it was opened
  }
  if (!qcow2) return inspectRaw(path, path, 'raw', fileBytes, opts);
  const dir = fs.mkdtempSync(join(tmpdir(), 'osv-inspect-'));
  try {
    const raw = join(dir, 'image.raw');
    const c = await qcow2ToRaw(path, raw);
    if (!c.ok) return c;
    return await inspectRaw(raw, path, 'qcow2', fileBytes, opts);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function inspectRaw(
  rawPath: string,
  label: string,
  format: 'raw' | 'qcow2',
  fileBytes: number,
  opts: InspectOptions,
): Promise<Result<InspectReport, OsvError>> {
  const opened = catchOsv(() => openImageFile(rawPath));
  if (!opened.ok) return err(opened.error);
  const img = opened.value;
  try {
    const src = img.source;
    const problems: Problem[] = [];
    const report: InspectReport = {
      path: label,
      format,
      fileBytes,
      rawBytes: src.size,
      layout: 'filesystem',
      partitions: [],
      filesystem: { type: 'unknown' },
      tree: [],
      totals: { files: 0, dirs: 0, symlinks: 0, bytes: 0 },
      problems,
    };
    const head = Buffer.alloc(CMDLINE_OFFSET + CMDLINE_MAX);
    src.read(0, Math.min(head.length, src.size), 'first sectors').copy(head);
    const mbr = parseMbr(head.subarray(0, SECTOR));

    let fsWindow: { offset: number; size: number } = { offset: 0, size: src.size };
    // A bare ROFS or ext has zeros at 510 (superblock padding, ext boot block), never 55 AA.
    if (mbr.signature) {
      report.layout = mbr.hasBootCode ? 'bootable' : 'disk';
      report.partitions = mbr.partitions;
      if (mbr.hasBootCode) {
        const c = decodeCmdline(head);
        if (c === undefined) problems.push({ code: 'image.cmdline', message: `no NUL-terminated command line at byte ${CMDLINE_OFFSET}` });
        else report.cmdline = c;
      }
      const root = mbr.partitions.find((p) => p.slot === ROOT_SLOT);
      if (!root) {
        problems.push({ code: 'image.no-root-partition', message: 'the MBR has no partition in slot 2, which OSv mounts as /dev/vblk0.1' });
        return ok(report);
      }
      if (!root.seenByOsv)
        problems.push({ code: 'image.partition-invisible', message: 'slot 2 has a zero type or CHS start sector: OSv would not create /dev/vblk0.1' });
      if (root.start < SECTOR) problems.push({ code: 'image.partition-range', message: 'slot 2 starts inside the MBR' });
      const end = root.start + root.size;
      if (end > src.size)
        problems.push({ code: 'image.partition-range', message: `slot 2 ends at byte ${end}, past the end of the image (${src.size} bytes)` });
      const start = Math.min(Math.max(root.start, 0), src.size);
      fsWindow = { offset: start, size: Math.min(end, src.size) - start };
      report.root = { slot: root.slot, device: root.device, offset: root.start, size: root.size };
    } else {
      const magic = src.size >= SECTOR && src.read(0, 8, 'magic').readBigUInt64LE(0) === ROFS_MAGIC;
      if (!magic && !isExt(src))
        return err(
          new OsvError({
            code: 'image.not-an-image',
            message: `${label} is not a disk image (no MBR signature at byte 510) nor a ROFS or ext filesystem`,
            hint: 'give the path of an image written by `osv build` or by OSv\'s scripts',
          }),
        );
      report.root = { slot: 0, device: '/dev/vblk0', offset: 0, size: src.size };
    }
    const part = src.slice(fsWindow.offset, fsWindow.size, `${label} (root filesystem at byte ${fsWindow.offset})`);
    await inspectFilesystem(part, rawPath, fsWindow.offset, report, opts);
    return ok(report);
  } catch (e) {
    if (e instanceof OsvError) return err(e);
    throw e;
  } finally {
    img.close();
  }
}

async function inspectFilesystem(part: ByteSource, rawPath: string, offset: number, report: InspectReport, opts: InspectOptions): Promise<void> {
  const problems = report.problems;
  const t = report.totals;
  const add = (item: TreeItem): void => {
    if (opts.tree !== false) report.tree.push(item);
    if (item.kind === 'dir') t.dirs++;
    else if (item.kind === 'symlink') t.symlinks++;
    else if (item.kind === 'file') {
      t.files++;
      t.bytes += item.size;
    }
  };
  if (part.size >= 8 && part.read(0, 8, 'magic').readBigUInt64LE(0) === ROFS_MAGIC) {
    const r = RofsImage.open(part);
    if (!r.ok) {
      problems.push({ code: r.error.code, message: r.error.message });
      return;
    }
    const rofs = r.value;
    const sb = rofs.superblock;
    report.filesystem = { type: 'rofs', superblock: sb, structureBytes: rofs.structureBytes, bytes: (sb.structureFirstBlock + sb.structureBlocks) * 512 };
    for (const n of rofs.walk()) add({ path: n.path, kind: n.kind, size: n.size, ...(n.target !== undefined ? { target: n.target } : {}) });
    problems.push(...rofs.check());
    return;
  }
  if (isExt(part)) {
    const sb = readExtSuperblock(part);
    if (!sb.ok) {
      problems.push({ code: sb.error.code, message: sb.error.message });
      return;
    }
    report.filesystem = { type: 'ext', superblock: sb.value };
    const fsBytes = sb.value.blocks * sb.value.blockSize;
    if (fsBytes > part.size)
      problems.push({ code: 'ext.size', message: `the ext filesystem claims ${fsBytes} bytes but its partition holds ${part.size}` });
    for (const f of ['64bit', 'metadata_csum'])
      if (sb.value.features.includes(f)) problems.push({ code: 'ext.feature', message: `feature ${f} is set; OSv's ext driver does not read it` });
    const list = await listExt(rawPath, offset);
    if (!list.ok) problems.push({ code: list.error.code, message: list.error.message });
    else for (const n of list.value) add({ path: n.path, kind: n.kind, size: n.kind === 'dir' ? 0 : n.size, ...(n.target !== undefined ? { target: n.target } : {}) });
    const check = await checkExt(rawPath, offset);
    if (!check.ok) problems.push({ code: check.error.code, message: check.error.message });
    else for (const line of check.value) problems.push({ code: 'ext.e2fsck', message: line });
    return;
  }
  problems.push({ code: 'image.unknown-filesystem', message: 'the root partition holds neither a ROFS nor an ext filesystem' });
}
