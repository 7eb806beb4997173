// Standard output and error by file descriptor, for what the commands print. The first use of
// process.stdout or process.stderr creates a stream and loads Node's stream machinery: about
// 6 ms CPU of a small command's start (measured on a loaded 2-core machine), more than some
// commands' own work. A descriptor left non-blocking by whoever shares it can refuse (EAGAIN):
// that write and every later one then go through the stream, which waits, so that the output
// keeps its order. A reader that has gone (EPIPE: `osv plan | head -1`) ends the output, not
// the command.

import { writeSync } from 'node:fs';

const viaStream = { 1: false, 2: false };

function writeFd(fd: 1 | 2, text: string): void {
  const stream = (): NodeJS.WriteStream => (fd === 1 ? process.stdout : process.stderr);
  if (viaStream[fd]) {
    stream().write(text);
    return;
  }
  let bytes = Buffer.from(text);
  try {
    while (bytes.length > 0) bytes = bytes.subarray(writeSync(fd, bytes));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EAGAIN') {
      viaStream[fd] = true;
      stream().write(bytes);
    } else if (code !== 'EPIPE') throw e;
  }
}

/**
 * Resolves once what went through a stream (after an EAGAIN) has been handed to the system; at
 * once when nothing did. Before process.exit, which drops what a stream still holds.
 */
export function flushed(): Promise<void> {
  const streams = ([1, 2] as const).filter((fd) => viaStream[fd]).map((fd) => (fd === 1 ? process.stdout : process.stderr));
  return Promise.all(streams.map((s) => new Promise<void>((done) => s.write('', () => done())))).then(() => undefined);
}

/** Write `text` to standard output as it is. */
export const writeStdout = (text: string): void => writeFd(1, text);

/** Write `text` to standard error as it is. */
export const writeStderr = (text: string): void => writeFd(2, text);

/** One line (or block) to standard output, a newline added when it has none. */
export const printLine = (text: string): void => writeStdout(text.endsWith('\n') ? text : text + '\n');

/**
 * Handle errors of process.stdout, once something creates it (commander's help, a progress
 * renderer), without creating it now: Node defines process.stdout as a getter that makes the
 * stream on first use, and this getter adds the handler then.
 */
export function onStdoutError(handler: (e: NodeJS.ErrnoException) => void): void {
  const own = Object.getOwnPropertyDescriptor(process, 'stdout');
  if (!own?.get || !own.configurable) {
    process.stdout.on('error', handler);
    return;
  }
  Object.defineProperty(process, 'stdout', {
    configurable: true,
    enumerable: own.enumerable ?? true,
    get() {
      const stream = own.get!.call(process) as NodeJS.WriteStream;
      Object.defineProperty(process, 'stdout', own);
      stream.on('error', handler);
      return stream;
    },
  });
}
