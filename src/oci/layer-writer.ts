// A layer made by osv-up (for `osv push`): the entries as a deterministic tar, gzip-compressed
// with a fixed level and a header without time or name, stored in the content store under its
// compressed digest. Made once per distinct content: a small record keyed by what went in
// (names, modes, owners and the sha256 of each file) points at the finished blob, so the
// kernel's layer is written once for every application that uses the kernel, and a second push
// of the same build compresses nothing.

import * as fs from 'node:fs';
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { ExitCode, OsvError } from '../diagnostics/error.js';
import { removeQuietly, type ContentStore } from './cache.js';
import { DigestCounter, isDigest, sha256Digest, type Digest } from './digest.js';
import { MEDIA } from './manifest.js';
import { tarStream, type TarWriteEntry } from './tar-writer.js';

/** Part of every layer key: a change in the writer or the level makes other bytes. */
const WRITER = 'osv-up-layer/1';
export const GZIP_LEVEL = 6;

export interface BuiltLayer {
  mediaType: string;
  /** The compressed blob's digest and size (what the manifest names). */
  digest: Digest;
  size: number;
  /** The uncompressed tar's digest (the config's rootfs.diff_ids). */
  diffId: Digest;
}

export async function fileSha256(path: string): Promise<string> {
  const h = new DigestCounter();
  for await (const c of createReadStream(path, { highWaterMark: 1 << 20 })) h.update(c as Buffer);
  return h.digest();
}

/**
 * What a layer is made of, as one digest: equal keys, equal layers. `hashFile` gives a host
 * file's sha256 (hex); the default reads it, a caller may remember hashes by stat.
 */
export async function layerKey(entries: readonly TarWriteEntry[], hashFile: (path: string) => Promise<string> | string = fileSha256): Promise<Digest> {
  const parts: unknown[] = [WRITER, GZIP_LEVEL];
  for (const e of entries) {
    const content = e.type === 'dir' ? '' : e.data ? sha256Digest(e.data) : await hashFile(e.path!);
    parts.push([e.name, e.type, e.mode, e.uid, e.gid, content]);
  }
  return sha256Digest(JSON.stringify(parts));
}

const recordPath = (store: ContentStore, key: Digest): string => join(store.root, 'built-layers', `${key.slice(7)}.json`);

function readBuilt(store: ContentStore, key: Digest): BuiltLayer | undefined {
  try {
    const r = JSON.parse(fs.readFileSync(recordPath(store, key), 'utf8')) as BuiltLayer;
    if (!isDigest(r.digest) || !isDigest(r.diffId) || typeof r.size !== 'number') return undefined;
    const st = fs.statSync(store.blobPath(r.digest), { throwIfNoEntry: false });
    return st && st.size === r.size ? r : undefined;
  } catch {
    return undefined;
  }
}

/** The layer of these entries, from the store when it was made before. `key` from layerKey(). */
export async function writeLayer(store: ContentStore, key: Digest, entries: readonly TarWriteEntry[], signal?: AbortSignal): Promise<BuiltLayer & { reused: boolean }> {
  const known = readBuilt(store, key);
  if (known) return { ...known, reused: true };
  const diff = new DigestCounter();
  const blob = new DigestCounter();
  const tmp = store.temp();
  const out = fs.createWriteStream(tmp.path, { fd: tmp.fd });
  try {
    await pipeline(
      Readable.from(tarStream(entries)),
      async function* (src: AsyncIterable<Buffer>) {
        for await (const c of src) {
          diff.update(c);
          yield c;
        }
      },
      createGzip({ level: GZIP_LEVEL, chunkSize: 256 * 1024 }),
      async function* (src: AsyncIterable<Buffer>) {
        for await (const c of src) {
          blob.update(c);
          yield c;
        }
      },
      out,
      ...(signal ? [{ signal }] : []),
    );
  } catch (e) {
    removeQuietly(tmp.path);
    if ((e as Error).name === 'AbortError') throw new OsvError({ code: 'push.interrupted', message: 'the push was interrupted', exitCode: ExitCode.interrupted });
    throw new OsvError({ code: 'push.layer-failed', message: `cannot write a layer to the image cache (${store.root}): ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, hint: 'check free space and permissions of $XDG_CACHE_HOME (default ~/.cache)', exitCode: ExitCode.buildFailed });
  }
  const layer: BuiltLayer = { mediaType: MEDIA.ociLayerGzip, digest: blob.digest(), size: blob.bytes, diffId: diff.digest() };
  store.commit(tmp.path, store.blobPath(layer.digest));
  store.writeFile(recordPath(store, key), JSON.stringify(layer));
  return { ...layer, reused: false };
}
