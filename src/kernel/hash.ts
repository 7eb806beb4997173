// sha256 of kernel files, remembered by (path, size, mtime, ctime, inode) in the cache directory
// so an unchanged 7 MB kernel is not re-read on every build: a stat instead of a hash. The ctime
// is what an in-place edit cannot put back (touch -d restores the mtime only). A pin (osv.lock,
// kernel.sha256) is never checked against this cache: sha256File reads the file itself.

import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { dirname, join } from 'node:path';
import { makeDirs, writeFileAtomic } from '../atomic.js';
import { cacheRoot } from './cache.js';
import { readOwnedJson } from '../owned-file.js';
import { openRegularFile } from '../hostfs.js';

interface Entry {
  size: number;
  mtimeMs: number;
  ctimeMs: number;
  ino: number;
  sha256: string;
}

const FILE = 'sha256-cache.json';
const MAX_ENTRIES = 200;

export function sha256File(path: string): string {
  const h = createHash('sha256');
  const fd = openRegularFile(path);
  try {
    const buf = Buffer.allocUnsafe(1 << 20);
    for (;;) {
      const n = fs.readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      h.update(buf.subarray(0, n));
    }
  } finally {
    fs.closeSync(fd);
  }
  return h.digest('hex');
}

export function sha256Bytes(b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex');
}

function load(file: string): Record<string, Entry> {
  const v = readOwnedJson(file); // another user's file is not taken (owned-file.ts)
  return typeof v === 'object' && v !== null ? (v as Record<string, Entry>) : {};
}

/** sha256 of a file, from the cache when the file's size, mtime, ctime and inode are unchanged. */
export function cachedSha256(path: string, env: NodeJS.ProcessEnv = process.env): string {
  const real = fs.realpathSync(path);
  const st = fs.statSync(real);
  const file = join(cacheRoot(env), FILE);
  const cache = load(file);
  const hit = cache[real];
  if (hit && hit.size === st.size && hit.mtimeMs === st.mtimeMs && hit.ctimeMs === st.ctimeMs && hit.ino === st.ino) return hit.sha256;
  const sha256 = sha256File(real);
  cache[real] = { size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs, ino: st.ino, sha256 };
  const keys = Object.keys(cache);
  for (const k of keys.slice(0, Math.max(0, keys.length - MAX_ENTRIES))) delete cache[k];
  try {
    makeDirs(dirname(file));
    writeFileAtomic(file, JSON.stringify(cache));
  } catch {
    // a read-only cache only costs speed
  }
  return sha256;
}
