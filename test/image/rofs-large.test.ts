// A file over 2 GiB goes through the ROFS writer by streaming: offsets past 2^31 stay exact, the
// writer's memory does not grow with the file, and the reader gets every byte back. It needs
// about 4.5 GiB of free space in the temporary directory and skips, saying so, without it.

import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeRofs } from '../../src/image/rofs/writer.js';
import { openRofsFile } from '../../src/image/rofs/reader.js';
import { ROFS_BLOCK } from '../../src/image/rofs/format.js';

const SIZE = 2 * 1024 ** 3 + 3 * 4096 + 5; // past 2^31, not a whole number of blocks
const NEEDED = 4.5 * 1024 ** 3;
const free = (() => {
  const s = fs.statfsSync(tmpdir());
  return s.bavail * s.bsize;
})();
if (free < NEEDED) console.warn(`skipped: the 2 GiB ROFS file: ${(free / 1024 ** 3).toFixed(1)} GiB free in ${tmpdir()}, it needs 4.5`);

/** sha256 of `length` bytes of fd from `offset`, read 8 MiB at a time. */
function hashRange(fd: number, offset: number, length: number): string {
  const h = createHash('sha256');
  const buf = Buffer.allocUnsafe(8 << 20);
  for (let done = 0; done < length; ) {
    const n = fs.readSync(fd, buf, 0, Math.min(buf.length, length - done), offset + done);
    if (n === 0) throw new Error('short read');
    h.update(buf.subarray(0, n));
    done += n;
  }
  return h.digest('hex');
}

describe.runIf(free >= NEEDED)('a file over 2 GiB', () => {
  const dir = fs.mkdtempSync(join(tmpdir(), 'osv-rofs-large-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('is streamed into the image and read back byte for byte', { timeout: 120_000 }, async () => {
    const host = join(dir, 'huge.bin');
    const fd = fs.openSync(host, 'w');
    fs.ftruncateSync(fd, SIZE);
    // Markers at the start, across the 2 GiB line and at the very end; zeros between (sparse).
    const markers = [0, 2 ** 31 - 3, SIZE - 9];
    for (const at of markers) fs.writeSync(fd, Buffer.from('@marker@'), 0, 8, at);
    fs.closeSync(fd);
    const small = join(dir, 'after.txt');
    fs.writeFileSync(small, 'the file after the big one\n');

    const rssBefore = process.memoryUsage().rss;
    const out = join(dir, 'large.rofs');
    const r = await writeRofs(
      [
        { kind: 'file', guest: '/data/huge.bin', host, size: SIZE },
        { kind: 'file', guest: '/data/z-after.txt', host: small, size: fs.statSync(small).size },
      ],
      out,
    );
    if (!r.ok) throw r.error;
    // Copied, not held: the process grew by far less than the file.
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(256 * 1024 ** 2);

    const img = openRofsFile(out);
    if (!img.ok) throw img.error;
    try {
      const { rofs } = img.value;
      expect(rofs.check()).toEqual([]);
      const node = rofs.lookup('/data/huge.bin')!;
      expect(node.size).toBe(SIZE);
      expect(rofs.readFile('/data/z-after.txt')).toMatchObject({ ok: true, value: fs.readFileSync(small) });
      const ifd = fs.openSync(out, 'r');
      const hfd = fs.openSync(host, 'r');
      try {
        const start = node.block! * ROFS_BLOCK;
        expect(start + SIZE).toBeGreaterThan(2 ** 31);
        for (const at of markers) {
          const b = Buffer.alloc(8);
          fs.readSync(ifd, b, 0, 8, start + at);
          expect(b.toString('latin1')).toBe('@marker@');
        }
        expect(hashRange(ifd, start, SIZE)).toBe(hashRange(hfd, 0, SIZE));
      } finally {
        fs.closeSync(ifd);
        fs.closeSync(hfd);
      }
    } finally {
      img.value.close();
    }
  });
});
