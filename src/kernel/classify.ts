// What a kernel file is, by its bytes rather than its name (release asset names vary; one
// OSv maintainer notes "osv-loader.qemu" has at times been the ELF itself).

import * as fs from 'node:fs';
import type { Arch } from '../config/types.js';
import { openRegularFile } from '../hostfs.js';

export type KernelFileKind =
  | { kind: 'elf'; arch: Arch | 'other'; shared: boolean }
  | { kind: 'img' }
  | { kind: 'gzip' }
  | { kind: 'unknown' };

const EM_X86_64 = 62;
const EM_AARCH64 = 183;
const ET_DYN = 3;

export function classifyBytes(head: Buffer, size: number): KernelFileKind {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return { kind: 'gzip' };
  if (head.length >= 20 && head.readUInt32BE(0) === 0x7f454c46) {
    const machine = head.readUInt16LE(18);
    const arch = machine === EM_X86_64 ? 'x86_64' : machine === EM_AARCH64 ? 'aarch64' : 'other';
    return { kind: 'elf', arch, shared: head.readUInt16LE(16) === ET_DYN };
  }
  // loader.img: a boot sector (55 AA) and the kernel from 64 KiB on.
  if (head.length >= 512 && head[510] === 0x55 && head[511] === 0xaa && size > 65536) return { kind: 'img' };
  return { kind: 'unknown' };
}

/** Throws as openRegularFile does: a FIFO or a device is never read (a FIFO would block). */
export function classifyFile(path: string): KernelFileKind {
  const fd = openRegularFile(path);
  try {
    const head = Buffer.alloc(512);
    const n = fs.readSync(fd, head, 0, 512, 0);
    return classifyBytes(head.subarray(0, n), fs.fstatSync(fd).size);
  } finally {
    fs.closeSync(fd);
  }
}
