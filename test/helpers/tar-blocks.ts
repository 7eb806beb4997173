// Building blocks for tests of the tar parser on damaged and unusual archives: real headers from
// tar-writer.ts with fields overwritten (and the checksum made right again, unless a test means
// it to be wrong), pax and GNU long-name records of any content, and a parse that feeds the
// bytes in chunks of a chosen size.

import { TarError, TarParser, type TarHeader } from '../../src/oci/tar.js';
import { tar, type TarEntry } from './tar-writer.js';

export { paxRecord } from './tar-writer.js';

/** The two zero blocks that end an archive. */
export const END = Buffer.alloc(1024);

/** Recompute the checksum of the header block at `at` (as old Sun tars did when `signed`). */
export function resum(b: Buffer, at = 0, signed = false): Buffer {
  b.fill(0x20, at + 148, at + 156);
  let sum = 0;
  for (let i = at; i < at + 512; i++) sum += signed && b[i]! > 127 ? b[i]! - 256 : b[i]!;
  b.write(`${sum.toString(8).padStart(6, '0')}\0 `, at + 148, 'latin1');
  return b;
}

/** Field offsets in a header block, for `member`'s patches. */
export const F = { name: 0, mode: 100, uid: 108, gid: 116, size: 124, mtime: 136, sum: 148, type: 156, linkname: 157, magic: 257, prefix: 345 } as const;

/** One member (header, data, padding; no end blocks) with header bytes overwritten at the given offsets. */
export function member(e: TarEntry, patches: Array<[number, string | Buffer]> = []): Buffer {
  const b = tar([e], { end: false });
  const at = b.length - 512 - (e.type === undefined || e.type === 'file' ? Math.ceil(Buffer.byteLength(e.data ?? '') / 512) * 512 : 0);
  for (const [off, v] of patches) (typeof v === 'string' ? Buffer.from(v, 'latin1') : v).copy(b, at + off);
  return resum(b, at);
}

/** A pax ('x', 'g') or GNU long-name ('L', 'K') header with `body` as its data, padded to a block. */
export function meta(type: 'x' | 'g' | 'L' | 'K', body: string | Buffer, size?: number): Buffer {
  const b = member({ name: '././@LongLink', data: body }, [[F.type, type]]);
  if (size !== undefined) {
    b.write(`${size.toString(8).padStart(11, '0')}\0`, F.size, 'latin1');
    resum(b);
  }
  return b;
}

/** Parse `b` fed `chunk` bytes at a time, then end the stream. */
export function parse(b: Buffer, chunk = b.length || 1): TarHeader[] {
  const out: TarHeader[] = [];
  const p = new TarParser((h) => out.push(h));
  for (let i = 0; i < b.length; i += chunk) p.push(b.subarray(i, i + chunk));
  p.end();
  return out;
}

/** The TarError that parsing `b` raises (the same in every chunk size tried), with its offset. */
export function failure(b: Buffer, chunks: number[] = [b.length || 1, 1, 509]): { message: string; offset: number } {
  const seen = chunks.map((c) => {
    try {
      parse(b, c);
    } catch (e) {
      if (!(e instanceof TarError) || e.name !== 'TarError') throw e;
      return { message: e.message, offset: e.offset };
    }
    throw new Error(`parsed without an error in chunks of ${c}`);
  });
  for (const s of seen) if (s.message !== seen[0]!.message || s.offset !== seen[0]!.offset) throw new Error(`chunk sizes disagree: ${JSON.stringify(seen)}`);
  return seen[0]!;
}
