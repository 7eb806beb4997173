// What `osv run IMAGE` can learn from an existing image without a build plan: its format
// (qcow2 magic), whether it carries a kernel (facts §4.1: the kernel starts at byte 65536 of
// a bootable image) and the command line stored at byte 512 (facts §4.2).

import { closeSync, fstatSync, readSync } from 'node:fs';
import { fileProblem, openRegularFile } from '../hostfs.js';
import type { ImageFormat } from '../config/types.js';
import { OsvError } from '../diagnostics/error.js';
import { err, ok, type Result } from '../diagnostics/result.js';

export interface DiskInfo {
  path: string;
  format: ImageFormat;
  /** A kernel follows the boot sector (only known for raw images). */
  bootable: boolean | undefined;
  /** Sector 0 ends in 55 AA, as every raw OSv image's does (its partition table, or a loader.img's boot sector); undefined for qcow2. */
  signature: boolean | undefined;
  /** The NUL-terminated command line at byte 512, when the image has an MBR and one. */
  cmdline?: string;
}

const QCOW2_MAGIC = Buffer.from([0x51, 0x46, 0x49, 0xfb]); // "QFI\xfb"
const ELF_MAGIC = Buffer.from([0x7f, 0x45, 0x4c, 0x46]);
/** Facts §4.3: the kernel reads 63 sectors from LBA 1, and OSv caps the line at 1024 bytes. */
const MAX_CMDLINE = 1024;

function readAt(fd: number, offset: number, length: number): Buffer {
  const buf = Buffer.alloc(length);
  const n = readSync(fd, buf, 0, length, offset);
  return buf.subarray(0, n);
}

/**
 * What QEMU would refuse in a qcow2 header, found before it starts (QCOW2 spec: version at 4,
 * cluster_bits at 20, l1_size at 36, l1_table_offset at 40, refcount_table_offset at 48,
 * refcount_table_clusters at 56): a version other than 2 or 3, an impossible cluster size, or
 * a file cut short of its own tables. Damage inside the data clusters shows only when read.
 */
export function qcow2Problem(head: Buffer, fileSize: number): string | undefined {
  if (head.length < 72) return `its header is cut short (${head.length} bytes)`;
  const version = head.readUInt32BE(4);
  if (version !== 2 && version !== 3) return `qcow2 version ${version} (QEMU reads versions 2 and 3)`;
  const bits = head.readUInt32BE(20);
  if (bits < 9 || bits > 21) return `a cluster size of 2^${bits} bytes (2^9 to 2^21 are valid)`;
  const cluster = 2 ** bits;
  const tables = [
    ['L1 table', Number(head.readBigUInt64BE(40)) + head.readUInt32BE(36) * 8],
    ['refcount table', Number(head.readBigUInt64BE(48)) + head.readUInt32BE(56) * cluster],
  ] as const;
  for (const [name, end] of tables) if (end > fileSize) return `the file is ${fileSize} bytes, and its ${name} ends at byte ${end} (truncated?)`;
  return undefined;
}

export function readDiskInfo(path: string): Result<DiskInfo> {
  let fd: number;
  try {
    fd = openRegularFile(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return err(new OsvError({ code: 'run.image-unreadable', message: `cannot read image ${path}: ${code === 'ENOENT' ? 'no such file' : `it ${fileProblem(e)}`}`, hint: 'build it first (`osv build`), or give the path of an existing image' }));
  }
  try {
    const head = readAt(fd, 0, 512 + MAX_CMDLINE);
    if (head.length >= 4 && head.subarray(0, 4).equals(QCOW2_MAGIC)) {
      const problem = qcow2Problem(head, fstatSync(fd).size);
      if (problem) return err(new OsvError({ code: 'run.bad-qcow2', message: `${path} is a damaged qcow2 image: ${problem}`, hint: '`qemu-img check` tells more; rebuild the image, or pull it again' }));
      return ok({ path, format: 'qcow2', bootable: undefined, signature: undefined });
    }
    if (head.length < 512) {
      return err(new OsvError({ code: 'run.image-too-small', message: `${path} is ${head.length} bytes: too small to be an OSv disk image`, hint: 'rebuild the image' }));
    }
    const mbr = head[510] === 0x55 && head[511] === 0xaa;
    const kernel = readAt(fd, 65536, 4);
    const info: DiskInfo = { path, format: 'raw', bootable: kernel.length === 4 && kernel.equals(ELF_MAGIC), signature: mbr };
    if (mbr) {
      const area = head.subarray(512);
      const nul = area.indexOf(0);
      const text = area.subarray(0, nul < 0 ? area.length : nul).toString('latin1');
      if (nul > 0 && /^[\x20-\x7e\t]+$/.test(text)) info.cmdline = text;
    }
    return ok(info);
  } finally {
    closeSync(fd);
  }
}
