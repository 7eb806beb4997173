// What `osv run IMAGE` can learn from an existing image without a build plan: its format
// (qcow2 magic), whether it carries a kernel (facts §4.1: the kernel starts at byte 65536 of
// a bootable image) and the command line stored at byte 512 (facts §4.2).

import { closeSync, fstatSync, readSync } from 'node:fs';
import { isQcow2, qcow2Problem } from '../image/qcow2.js';
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

const ELF_MAGIC = Buffer.from([0x7f, 0x45, 0x4c, 0x46]);
/** Facts §4.3: the kernel reads 63 sectors from LBA 1, and OSv caps the line at 1024 bytes. */
const MAX_CMDLINE = 1024;

function readAt(fd: number, offset: number, length: number): Buffer {
  const buf = Buffer.alloc(length);
  const n = readSync(fd, buf, 0, length, offset);
  return buf.subarray(0, n);
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
    if (isQcow2(head)) {
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
