// Bounds-checked random access to an image file or to a window of it (a partition). Every
// read either returns exactly the bytes asked for or throws an `image.corrupt` OsvError that
// names the image and the offset — never a RangeError from Buffer.

import * as fs from 'node:fs';
import { corrupt, errnoCode, buildFailed } from './errors.js';
import { OsvError, ExitCode } from '../diagnostics/error.js';
import { fileProblem, openRegularFile } from '../hostfs.js';

export interface ByteSource {
  /** For messages: the image path and which part of it. */
  readonly label: string;
  readonly size: number;
  /** Exactly `length` bytes at `offset`, or an image.corrupt error. */
  read(offset: number, length: number, what: string): Buffer;
  /** A window [offset, offset + size) of this source, e.g. a partition. */
  slice(offset: number, size: number, label: string): ByteSource;
}

function checkRange(label: string, size: number, offset: number, length: number, what: string): void {
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0)
    throw corrupt(label, `${what}: invalid range (offset ${offset}, length ${length})`);
  if (offset + length > size) throw corrupt(label, `${what} runs past the end (${offset} + ${length} > ${size} bytes)`, offset);
}

function checkWindow(label: string, size: number, offset: number, length: number, what: string): void {
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > size)
    throw corrupt(label, `${what} (${length} bytes at ${offset}) lies outside the image (${size} bytes)`);
}

class Window implements ByteSource {
  constructor(
    private readonly fd: number,
    private readonly base: number,
    readonly size: number,
    readonly label: string,
  ) {}

  read(offset: number, length: number, what: string): Buffer {
    checkRange(this.label, this.size, offset, length, what);
    const buf = Buffer.allocUnsafe(length);
    let done = 0;
    while (done < length) {
      const n = fs.readSync(this.fd, buf, done, length - done, this.base + offset + done);
      if (n === 0) throw corrupt(this.label, `${what}: the file ended early`, offset + done);
      done += n;
    }
    return buf;
  }

  slice(offset: number, size: number, label: string): ByteSource {
    checkWindow(this.label, this.size, offset, size, label);
    return new Window(this.fd, this.base + offset, size, label);
  }
}

/** An open image file. Call close() when done. */
export interface OpenImage {
  source: ByteSource;
  close(): void;
}

export function openImageFile(path: string): OpenImage {
  let fd: number;
  try {
    fd = openRegularFile(path);
  } catch (e) {
    throw new OsvError({
      code: 'image.not-found',
      message: `cannot open ${path}: it ${fileProblem(e)}`,
      hint: 'check the path; `osv build` writes images under .osv/ by default',
      exitCode: ExitCode.invalidInput,
    });
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) throw buildFailed('image.not-a-file', `${path} is not a regular file`);
    return { source: new Window(fd, 0, st.size, path), close: () => fs.closeSync(fd) };
  } catch (e) {
    fs.closeSync(fd);
    throw e;
  }
}

/** An in-memory source (tests, small images). */
export function bufferSource(buf: Buffer, label: string): ByteSource {
  return {
    label,
    size: buf.length,
    read(offset, length, what) {
      checkRange(label, buf.length, offset, length, what);
      return buf.subarray(offset, offset + length);
    },
    slice(offset, size, l) {
      checkWindow(label, buf.length, offset, size, l);
      return bufferSource(buf.subarray(offset, offset + size), l);
    },
  };
}
