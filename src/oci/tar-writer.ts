// A deterministic tar writer for the layers and archives osv-up makes: ustar headers only,
// entries in the order given (callers sort them), every time field zero, numeric owners
// without names, no pax records (names are short and ours). A file's bytes come from a
// Buffer or are streamed from a host file, so a disk image of any size passes in constant
// memory. The same entries always give the same bytes.

import * as fs from 'node:fs';

export const TAR_BLOCK = 512;

export interface TarWriteEntry {
  /** Relative name, `boot/loader-stripped.elf`; a directory without the trailing slash. */
  name: string;
  type: 'file' | 'dir';
  mode: number;
  uid: number;
  gid: number;
  /** Files: the bytes, or a host file streamed in (its size taken when the entry is written). */
  data?: Buffer;
  path?: string;
}

function octal(n: number, width: number): string {
  return n.toString(8).padStart(width - 1, '0') + '\0';
}

export function tarHeader(e: TarWriteEntry, size: number): Buffer {
  const name = e.type === 'dir' ? `${e.name}/` : e.name;
  if (Buffer.byteLength(name) > 99) throw new Error(`internal: tar member name too long: ${name}`);
  if (size > 0o77777777777) throw new Error(`internal: tar member too large for ustar: ${name}`);
  const b = Buffer.alloc(TAR_BLOCK);
  b.write(name, 0, 100, 'utf8');
  b.write(octal(e.mode & 0o7777, 8), 100, 'latin1');
  b.write(octal(e.uid, 8), 108, 'latin1');
  b.write(octal(e.gid, 8), 116, 'latin1');
  b.write(octal(size, 12), 124, 'latin1');
  b.write(octal(0, 12), 136, 'latin1');
  b.write('        ', 148, 'latin1');
  b.write(e.type === 'dir' ? '5' : '0', 156, 'latin1');
  b.write('ustar\0', 257, 'latin1');
  b.write('00', 263, 'latin1');
  let sum = 0;
  for (const c of b) sum += c;
  b.write(octal(sum, 7) + ' ', 148, 'latin1');
  return b;
}

const padding = (n: number): Buffer => Buffer.alloc((TAR_BLOCK - (n % TAR_BLOCK)) % TAR_BLOCK);

/** The archive as a stream of chunks, ending with the two zero blocks. */
export async function* tarStream(entries: readonly TarWriteEntry[]): AsyncGenerator<Buffer> {
  for (const e of entries) {
    if (e.type === 'dir') {
      yield tarHeader(e, 0);
      continue;
    }
    if (e.data) {
      yield tarHeader(e, e.data.length);
      yield e.data;
      yield padding(e.data.length);
      continue;
    }
    const path = e.path!;
    const size = fs.statSync(path).size;
    yield tarHeader(e, size);
    let seen = 0;
    for await (const chunk of fs.createReadStream(path, { highWaterMark: 1 << 20 })) {
      seen += (chunk as Buffer).length;
      if (seen > size) throw new Error(`${path} grew while it was being archived`);
      yield chunk as Buffer;
    }
    if (seen !== size) throw new Error(`${path} shrank while it was being archived`);
    yield padding(size);
  }
  yield Buffer.alloc(2 * TAR_BLOCK);
}
