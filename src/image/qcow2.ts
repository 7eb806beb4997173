// qcow2 through qemu-img: conversion of a finished raw image, and reading a qcow2 back as raw
// for the inspector. Detection by the header magic, never by file name.

import * as fs from 'node:fs';
import { type Result } from '../diagnostics/result.js';
import type { OsvError } from '../diagnostics/error.js';
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
  const r = await runTool(TOOLS.qemuImg, ['convert', '-q', '-f', 'qcow2', '-O', 'raw', qcow2, out], {
    why: 'to read a qcow2 image',
    failCode: 'image.convert-failed',
  });
  return r.ok ? { ok: true, value: undefined } : r;
}
