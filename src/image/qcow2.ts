// qcow2 through qemu-img: conversion of a finished raw image, and reading a qcow2 back as raw
// for the inspector. Detection by the header magic, never by file name.

import * as fs from 'node:fs';
import { err, type Result } from '../diagnostics/result.js';
import { ExitCode, OsvError } from '../diagnostics/error.js';
import { runTool, TOOLS } from './tools.js';

const QCOW2_MAGIC = Buffer.from([0x51, 0x46, 0x49, 0xfb]); // "QFI\xfb"

export function isQcow2(head: Buffer): boolean {
  return head.length >= 4 && head.subarray(0, 4).equals(QCOW2_MAGIC);
}

export function fileIsQcow2(path: string): boolean {
  const fd = fs.openSync(path, 'r');
  try {
    const b = Buffer.alloc(4);
    fs.readSync(fd, b, 0, 4, 0);
    return isQcow2(b);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * The other host files a qcow2 image makes QEMU (or qemu-img) read: its backing file, and an
 * external data file (qcow2 v3, incompatible feature bit 2). From the header (QCOW2 spec:
 * backing_file_offset at 8, backing_file_size at 16, incompatible_features at 72), so nothing
 * is opened but the image itself. A guest given such an image reads whatever host file it names.
 */
export function qcow2ExternalFiles(path: string): string[] {
  const fd = fs.openSync(path, 'r');
  try {
    const head = Buffer.alloc(104);
    const n = fs.readSync(fd, head, 0, head.length, 0);
    if (n < 20 || !isQcow2(head)) return [];
    const out: string[] = [];
    const offset = head.readBigUInt64BE(8);
    const size = head.readUInt32BE(16);
    if (offset !== 0n) {
      const name = Buffer.alloc(Math.min(size, 1023));
      fs.readSync(fd, name, 0, name.length, Number(offset));
      out.push(`backing file ${JSON.stringify(name.toString('utf8'))}`);
    }
    if (head.readUInt32BE(4) >= 3 && n >= 80 && (head.readBigUInt64BE(72) & 4n) !== 0n) out.push('an external data file');
    return out;
  } finally {
    fs.closeSync(fd);
  }
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

/** An error when `path` is a qcow2 image that reads other host files; `what` names it ("image", "volume"). */
export function externalFilesError(path: string, what: string): OsvError | undefined {
  const files = qcow2ExternalFiles(path);
  if (!files.length) return undefined;
  return new OsvError({
    code: 'image.qcow2-backing',
    message: `${what} ${path} is a qcow2 image with ${files.join(' and ')}: osv-up does not use images that read other host files`,
    hint: `make a standalone copy: qemu-img convert -O qcow2 ${path} standalone.qcow2`,
    exitCode: ExitCode.invalidInput,
  });
}

/** raw -> qcow2 (`qemu-img convert -f raw -O qcow2`). */
export async function rawToQcow2(raw: string, out: string, signal?: AbortSignal): Promise<Result<void, OsvError>> {
  const r = await runTool(TOOLS.qemuImg, ['convert', '-q', '-f', 'raw', '-O', 'qcow2', raw, out], {
    why: 'to write a qcow2 image (or build with --format raw)',
    failCode: 'image.convert-failed',
    ...(signal ? { signal } : {}),
  });
  return r.ok ? { ok: true, value: undefined } : r;
}

/** qcow2 -> raw (sparse), for reading an image's bytes. */
export async function qcow2ToRaw(qcow2: string, out: string): Promise<Result<void, OsvError>> {
  const external = externalFilesError(qcow2, 'image');
  if (external) return err(external);
  const r = await runTool(TOOLS.qemuImg, ['convert', '-q', '-f', 'qcow2', '-O', 'raw', qcow2, out], {
    why: 'to read a qcow2 image',
    failCode: 'image.convert-failed',
  });
  return r.ok ? { ok: true, value: undefined } : r;
}
