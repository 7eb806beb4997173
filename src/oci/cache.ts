// The content-addressed image cache, shared by every project of the user:
//   $XDG_CACHE_HOME/osv-up/oci/
//     blobs/sha256/<hex>          manifests and configs as fetched; layers stored uncompressed,
//                                 under their diff_id (what the merged view reads from)
//     layers/sha256/<hex>.json    the member index of an uncompressed layer
//     images/sha256/<hex>.json    a complete image: its manifest digest's record, written last
//     tmp/                        files being written (<pid>-<random>), renamed into place
// Everything is written to tmp/ and renamed only once complete and verified, so a killed pull
// leaves nothing a later build trusts, and two builds pulling one image at once both end with
// the same files (a rename replaces a file with identical bytes).

import * as fs from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { ExitCode, OsvError } from '../diagnostics/error.js';
import { cacheRoot } from '../kernel/cache.js';
import { digestHex, isDigest, sha256Digest, type Digest } from './digest.js';
import { makeDirs } from '../atomic.js';

export const ociCacheDir = (env: NodeJS.ProcessEnv = process.env): string => join(cacheRoot(env), 'oci');

export interface CachedLayer {
  /** The blob's digest as the manifest names it (compressed). */
  digest: Digest;
  diffId: Digest;
  /** Compressed size, as in the manifest. */
  size: number;
  mediaType: string;
}

/** The record of a complete image in the cache. */
export interface CachedImage {
  version: 1;
  /** The manifest digest (what osv.lock pins). */
  digest: Digest;
  /** The reference it was last pulled as (for `osv cache ls`). */
  reference: string;
  platform: string;
  config: Digest;
  layers: CachedLayer[];
}

const writeError = (path: string, e: unknown): OsvError =>
  new OsvError({ code: 'oci.cache-write', message: `cannot write the image cache (${path}): ${(e as NodeJS.ErrnoException).code ?? String(e)}`, hint: 'check free space and permissions of $XDG_CACHE_HOME (default ~/.cache)', exitCode: ExitCode.buildFailed });

export class ContentStore {
  constructor(readonly root: string) {}

  blobPath(d: Digest): string {
    return join(this.root, 'blobs', 'sha256', digestHex(d));
  }
  indexPath(diffId: Digest): string {
    return join(this.root, 'layers', 'sha256', `${digestHex(diffId)}.json`);
  }
  imagePath(d: Digest): string {
    return join(this.root, 'images', 'sha256', `${digestHex(d)}.json`);
  }

  has(d: Digest): boolean {
    return fs.existsSync(this.blobPath(d));
  }

  readBlob(d: Digest): Buffer | undefined {
    try {
      return fs.readFileSync(this.blobPath(d));
    } catch {
      return undefined;
    }
  }

  /** A new file under tmp/, open for writing; the caller commits or removes it. */
  temp(): { path: string; fd: number } {
    const dir = join(this.root, 'tmp');
    try {
      makeDirs(dir);
      const path = join(dir, `${process.pid}-${randomBytes(6).toString('hex')}`);
      return { path, fd: fs.openSync(path, 'wx', 0o644) };
    } catch (e) {
      throw writeError(dir, e);
    }
  }

  /** Move a finished temp file to its place (atomic: same file system). */
  commit(tmp: string, dest: string): void {
    try {
      makeDirs(join(dest, '..'));
      fs.renameSync(tmp, dest);
    } catch (e) {
      removeQuietly(tmp);
      throw writeError(dest, e);
    }
  }

  /** Store small bytes (a manifest, a config) under their digest, after checking it. */
  putBlob(d: Digest, bytes: Uint8Array): void {
    if (sha256Digest(bytes) !== d) throw new Error(`internal: putBlob(${d}) with other bytes`);
    if (this.has(d)) return;
    this.writeFile(this.blobPath(d), bytes);
  }

  writeFile(dest: string, bytes: Uint8Array | string): void {
    const t = this.temp();
    try {
      fs.writeSync(t.fd, typeof bytes === 'string' ? Buffer.from(bytes) : bytes);
      fs.closeSync(t.fd);
    } catch (e) {
      fs.closeSync(t.fd);
      removeQuietly(t.path);
      throw writeError(dest, e);
    }
    this.commit(t.path, dest);
  }

  readImage(d: Digest): CachedImage | undefined {
    let r: CachedImage;
    try {
      r = JSON.parse(fs.readFileSync(this.imagePath(d), 'utf8')) as CachedImage;
    } catch {
      return undefined;
    }
    if (r.version !== 1 || r.digest !== d || !isDigest(r.config) || !Array.isArray(r.layers)) return undefined;
    return r;
  }

  /** Every complete image in the cache. */
  images(): CachedImage[] {
    let names: string[];
    try {
      names = fs.readdirSync(join(this.root, 'images', 'sha256'));
    } catch {
      return [];
    }
    return names
      .filter((n) => /^[0-9a-f]{64}\.json$/.test(n))
      .map((n) => this.readImage(`sha256:${n.slice(0, 64)}` as Digest))
      .filter((r): r is CachedImage => r !== undefined);
  }
}

export function removeQuietly(path: string): void {
  try {
    fs.rmSync(path, { force: true });
  } catch {
    // best effort
  }
}
