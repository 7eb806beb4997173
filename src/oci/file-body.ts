// A blob file as the body of an upload. Read whole (readFileSync), the python example's 11 MiB
// disk layer cost about 50 ms here, nearly all of it the kernel mapping fresh pages for the new
// buffer (touching 11 MiB of new memory takes as long; reading the same file into one reused
// 1 MiB buffer takes 6 ms). A read stream costs a fresh buffer per chunk, and the stream
// machinery on top. So node-transport.ts sends a FileBody through a few buffers reused for the
// whole file: each is refilled only once the socket has taken what it held. A redirected upload
// is sent again the same way (node-transport.ts follows the redirect); only an injected fetch
// (RegistryOptions.fetch) gets the file as a stream.

import * as fs from 'node:fs';
import { Readable, type Writable } from 'node:stream';
import { ExitCode, OsvError } from '../diagnostics/error.js';

/** Buffers in flight, and their size: 1 MiB in all, allocated once per upload. */
const BUFFERS = 4;
const BUFFER_SIZE = 256 * 1024;

export class FileBody {
  constructor(
    readonly path: string,
    /** The bytes to send: the file must hold at least this many. */
    readonly size: number,
  ) {}

  /** The `size` bytes as a stream (a read stream's `end` is inclusive: none at all for an empty body). */
  stream(): Readable {
    return this.size === 0 ? Readable.from([]) : fs.createReadStream(this.path, { start: 0, end: this.size - 1 });
  }
}

/** The blob file changed or went away under the push (a build or a prune meanwhile): an error of its own, not the network's. */
const changed = (message: string): OsvError =>
  new OsvError({ code: 'push.blob-changed', message, hint: 'run the push again (a build or `osv cache prune` running meanwhile rewrites or removes the layers)', exitCode: ExitCode.buildFailed });
const endedEarly = (path: string, got: number, size: number): OsvError => changed(`${path} ended after ${got} of ${size} bytes: the layer file changed while it was being pushed`);
const unreadable = (path: string, why: string): OsvError => changed(`cannot read ${path} (${why}): the layer file went away while it was being pushed`);

/**
 * Write `body` to `out` and end it. Resolves when `out` has taken every byte; rejects when the
 * file cannot be read, is shorter than `body.size`, or `out` fails or closes first.
 */
export async function sendFile(body: FileBody, out: Writable): Promise<void> {
  let fd: number;
  try {
    fd = fs.openSync(body.path, 'r');
  } catch (e) {
    throw unreadable(body.path, (e as NodeJS.ErrnoException).code ?? (e as Error).message);
  }
  // A closed or failed request never calls back for what it still held: stop waiting then.
  let stop: ((e: Error) => void) | undefined;
  const stopped = new Promise<never>((_, reject) => (stop = reject));
  stopped.catch(() => undefined);
  const onClose = (): void => stop!(new Error(`the connection closed before ${body.path} was sent`));
  const onError = (e: Error): void => stop!(e);
  out.once('close', onClose);
  out.once('error', onError);
  try {
    const buffers = Array.from({ length: Math.min(BUFFERS, Math.ceil(body.size / BUFFER_SIZE)) }, () => Buffer.allocUnsafeSlow(BUFFER_SIZE));
    const taken: (Promise<void> | undefined)[] = [];
    for (let i = 0, pos = 0; pos < body.size; i++) {
      const k = i % buffers.length;
      if (taken[k]) await Promise.race([taken[k], stopped]);
      const n = fs.readSync(fd, buffers[k]!, 0, Math.min(BUFFER_SIZE, body.size - pos), pos);
      if (n === 0) throw endedEarly(body.path, pos, body.size);
      pos += n;
      const written = new Promise<void>((resolve, reject) => out.write(buffers[k]!.subarray(0, n), (e) => (e ? reject(e) : resolve())));
      // Its failure is the request's too, reported once (by 'error' or the race above).
      written.catch(() => undefined);
      taken[k] = written;
    }
    await Promise.race([Promise.all(taken), stopped]);
    out.end();
  } finally {
    out.off('close', onClose);
    out.off('error', onError);
    fs.closeSync(fd);
  }
}
