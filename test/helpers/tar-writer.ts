// A tar writer for tests: any name, any type, any link target, so that hostile layers
// (absolute names, `..`, devices, links out of the root) can be written on purpose. ustar
// headers, with a pax record for names that do not fit.

import { gzipSync } from 'node:zlib';
import { createHash } from 'node:crypto';

export interface TarEntry {
  name: string;
  type?: 'file' | 'dir' | 'symlink' | 'hardlink' | 'char' | 'block' | 'fifo';
  data?: string | Buffer;
  mode?: number;
  linkname?: string;
  mtime?: number;
  uid?: number;
  gid?: number;
}

const FLAG = { file: '0', hardlink: '1', symlink: '2', char: '3', block: '4', dir: '5', fifo: '6' } as const;

function octal(n: number, len: number): string {
  return n.toString(8).padStart(len - 1, '0') + '\0';
}

function header(name: string, flag: string, size: number, e: TarEntry, linkname: string): Buffer {
  const b = Buffer.alloc(512);
  b.write(name, 0, 100, 'utf8');
  b.write(octal(e.mode ?? (flag === '5' ? 0o755 : 0o644), 8), 100, 'latin1');
  b.write(octal(e.uid ?? 0, 8), 108, 'latin1');
  b.write(octal(e.gid ?? 0, 8), 116, 'latin1');
  b.write(octal(size, 12), 124, 'latin1');
  b.write(octal(e.mtime ?? 1_700_000_000, 12), 136, 'latin1');
  b.write('        ', 148, 'latin1');
  b.write(flag, 156, 'latin1');
  b.write(linkname, 157, 100, 'utf8');
  b.write('ustar\0', 257, 'latin1');
  b.write('00', 263, 'latin1');
  let sum = 0;
  for (const c of b) sum += c;
  b.write(octal(sum, 7) + ' ', 148, 'latin1');
  return b;
}

const pad = (n: number): Buffer => Buffer.alloc((512 - (n % 512)) % 512);

export function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  let len = body.length + 1;
  while (String(len).length + Buffer.byteLength(body) !== len) len = String(len).length + Buffer.byteLength(body);
  return `${len}${body}`;
}

/** A tar archive; `end: false` leaves out the two zero blocks (as umoci does). */
export function tar(entries: TarEntry[], opts: { end?: boolean } = {}): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const type = e.type ?? 'file';
    const data = e.data === undefined ? Buffer.alloc(0) : Buffer.from(e.data);
    const linkname = e.linkname ?? '';
    if (Buffer.byteLength(e.name) > 99 || Buffer.byteLength(linkname) > 99) {
      const pax = Buffer.from(paxRecord('path', e.name) + (linkname ? paxRecord('linkpath', linkname) : ''));
      parts.push(header('PaxHeader', 'x', pax.length, { name: 'PaxHeader' }, ''), pax, pad(pax.length));
    }
    parts.push(header(e.name.slice(0, 99), FLAG[type], type === 'file' ? data.length : 0, e, linkname.slice(0, 99)));
    if (type === 'file') parts.push(data, pad(data.length));
  }
  if (opts.end !== false) parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

export const gzip = (b: Buffer): Buffer => gzipSync(b);
export const sha256 = (b: Buffer | string): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;
