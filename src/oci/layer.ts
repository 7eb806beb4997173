// One layer into the cache: the blob streams in, is hashed against the manifest's digest and
// size, decompressed (gzip, zstd or none, told by its first bytes), hashed against the config's
// diff_id, written uncompressed to a temp file and indexed member by member. Only a layer that
// passed every check is renamed into the cache. Each member is checked as it passes: names
// that leave the root, links that point out of it, whiteouts that escape, unsupported types
// are errors naming the image, the layer and the member; device nodes and set-id bits are
// dropped with a note. How members combine across layers is merged-fs.ts's job.

import * as fs from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { ExitCode, OsvError } from '../diagnostics/error.js';
import { formatBytes } from '../units.js';
import type { ContentStore } from './cache.js';
import { DigestCounter, shortDigest, type Digest } from './digest.js';
import { TarError, TarParser, type TarHeader } from './tar.js';

export type LayerEntryKind = 'file' | 'dir' | 'symlink' | 'hardlink' | 'whiteout' | 'opaque';

/** One member of a layer, checked and normalized (`usr/bin/x`, no leading slash). */
export interface LayerEntry {
  path: string;
  kind: LayerEntryKind;
  mode: number;
  size: number;
  /** Offset of the data in the uncompressed layer (files). */
  offset: number;
  /** Symlink target as written, or the normalized hard-link target. */
  link: string;
  /** Milliseconds since the epoch. */
  mtimeMs: number;
}

export interface LayerIndex {
  version: 1;
  diffId: Digest;
  /** Uncompressed size. */
  size: number;
  entries: LayerEntry[];
  /** What was dropped or changed (device nodes, set-id bits). */
  notes: string[];
}

/** Which image and layer a message is about. */
export interface LayerLabel {
  image: string;
  /** 1-based position in the manifest. */
  index: number;
  digest: Digest;
}

export const describeLayer = (l: LayerLabel): string => `${l.image}, layer ${l.index} (${shortDigest(l.digest)})`;

export const layerError = (l: LayerLabel, code: string, message: string, hint?: string): OsvError =>
  new OsvError({ code, message: `${describeLayer(l)}: ${message}`, ...(hint ? { hint } : {}), exitCode: ExitCode.invalidInput });

/** A member the extractor must refuse. */
class HostileEntry extends Error {}

/**
 * Decompression-bomb guard: a layer may grow to 200 times its compressed size, and to at
 * least 256 MiB whatever its compressed size (a layer of zeros legitimately shrinks a lot).
 */
export function expansionLimit(compressed: number): number {
  return Math.max(256 * 2 ** 20, compressed * 200);
}

/** `./a//b/` -> `a/b`; refuses absolute names and `..`. '' is the root itself. */
export function normalizeMember(name: string, what = 'name'): string {
  if (name.startsWith('/')) throw new HostileEntry(`its ${what} is absolute (${JSON.stringify(name)}): layer members must be relative to the root`);
  const parts: string[] = [];
  for (const c of name.split('/')) {
    if (c === '' || c === '.') continue;
    if (c === '..') throw new HostileEntry(`its ${what} contains ".." (${JSON.stringify(name)}): it would leave the root`);
    parts.push(c);
  }
  return parts.join('/');
}

/** A tar header as a checked layer entry; undefined for members that are dropped. */
function toEntry(h: TarHeader, notes: string[]): LayerEntry | undefined {
  const path = normalizeMember(h.name);
  const slash = path.lastIndexOf('/');
  const base = path.slice(slash + 1);
  const dir = slash < 0 ? '' : path.slice(0, slash);
  const mtimeMs = Math.round(h.mtime * 1000);
  if (base.startsWith('.wh.')) {
    if (base === '.wh..wh..opq') return { path: dir, kind: 'opaque', mode: 0, size: 0, offset: 0, link: '', mtimeMs };
    const target = base.slice(4);
    if (target === '' || target === '.' || target === '..') throw new HostileEntry(`it is a whiteout of "${target}", which would escape its directory`);
    return { path: dir === '' ? target : `${dir}/${target}`, kind: 'whiteout', mode: 0, size: 0, offset: 0, link: '', mtimeMs };
  }
  if (path === '') return undefined; // the root directory itself
  let mode = h.mode;
  if (h.type === 'char' || h.type === 'block' || h.type === 'fifo') {
    notes.push(`dropped ${h.type === 'fifo' ? 'the FIFO' : 'the device node'} /${path}`);
    return undefined;
  }
  if (mode & 0o6000) {
    notes.push(`cleared the set-id bits of /${path}`);
    mode &= ~0o6000;
  }
  switch (h.type) {
    case 'file':
      return { path, kind: 'file', mode, size: h.size, offset: h.dataOffset, link: '', mtimeMs };
    case 'dir':
      return { path, kind: 'dir', mode, size: 0, offset: 0, link: '', mtimeMs };
    case 'symlink':
      if (h.linkname === '') throw new HostileEntry('it is a symlink with an empty target');
      return { path, kind: 'symlink', mode, size: 0, offset: 0, link: h.linkname, mtimeMs };
    case 'hardlink': {
      let target: string;
      try {
        target = normalizeMember(h.linkname, 'hard-link target');
      } catch (e) {
        throw new HostileEntry(`it is a hard link out of the root: ${(e as Error).message}`);
      }
      if (target === '' || target === path) throw new HostileEntry(`it is a hard link to ${target === '' ? 'the root' : 'itself'}`);
      return { path, kind: 'hardlink', mode, size: 0, offset: 0, link: target, mtimeMs };
    }
  }
}

export type Compression = 'gzip' | 'zstd' | 'none';

/** Compression told by magic bytes (media types are not always right). */
export function sniff(head: Uint8Array): Compression {
  if (head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd) return 'zstd';
  return 'none';
}

export interface IngestOptions {
  label: LayerLabel;
  /** The manifest's size for the blob. */
  size: number;
  diffId: Digest;
  store: ContentStore;
  /** Compressed bytes received so far (for progress). */
  onBytes?(done: number): void;
  signal?: AbortSignal;
  /** Uncompressed bytes allowed (default: expansionLimit of the compressed size). */
  limit?: number;
}

async function* counted(input: AsyncIterable<Buffer>, counter: DigestCounter, o: IngestOptions): AsyncGenerator<Buffer> {
  for await (const chunk of input) {
    counter.update(chunk);
    if (counter.bytes > o.size) throw layerError(o.label, 'oci.blob-mismatch', `the blob is larger than the ${o.size} bytes its manifest says`, 'the registry or the image is damaged; pull again, or re-push the image');
    o.onBytes?.(counter.bytes);
    yield chunk;
  }
}

/** First chunk read ahead (to sniff), then the rest. */
async function peek(input: AsyncIterable<Buffer>): Promise<{ head: Buffer; rest: AsyncIterable<Buffer> }> {
  const it = input[Symbol.asyncIterator]();
  const first = await it.next();
  const head = first.done ? Buffer.alloc(0) : first.value;
  async function* rest(): AsyncGenerator<Buffer> {
    if (!first.done) yield head;
    for (;;) {
      const n = await it.next();
      if (n.done) return;
      yield n.value;
    }
  }
  return { head, rest: rest() };
}

/**
 * Compressed bytes given to the zstd decoder at a time. A zstd block of 4 bytes (RLE) can stand
 * for 128 KiB, and the decoder emits all a push holds before returning: fed whole 64 KiB chunks,
 * a bomb would be decompressed into memory (GiBs) before the size limit is checked. A KiB bounds
 * that to 32 MiB, and costs nothing in speed (measured with fzstd 0.1.1).
 */
const ZSTD_SLICE = 1024;

/** What the zstd decoder threw: the stream is damaged (an error of the input is not). */
class ZstdError extends Error {}

async function* zstdChunks(input: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  const { Decompress } = await import('fzstd');
  let out: Buffer[] = [];
  const d = new Decompress((chunk) => void out.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)));
  const push = (bytes: Uint8Array, final: boolean): void => {
    try {
      d.push(bytes, final);
    } catch (e) {
      throw new ZstdError((e as Error).message);
    }
  };
  for await (const chunk of input) {
    for (let at = 0; at < chunk.length; at += ZSTD_SLICE) {
      push(chunk.subarray(at, at + ZSTD_SLICE), false);
      if (out.length > 0) {
        const ready = out;
        out = [];
        yield* ready;
      }
    }
  }
  push(new Uint8Array(0), true);
  yield* out;
}

/** Stream a layer blob into the cache; returns its index. The caller has made sure it is not cached yet. */
export async function ingestLayer(input: AsyncIterable<Buffer>, o: IngestOptions): Promise<LayerIndex> {
  const compressed = new DigestCounter();
  const uncompressed = new DigestCounter();
  const notes: string[] = [];
  const entries: LayerEntry[] = [];
  const limit = o.limit ?? expansionLimit(o.size);
  let current: TarHeader | undefined;
  const parser = new TarParser((h) => {
    current = h;
    const e = toEntry(h, notes);
    if (e) entries.push(e);
  });
  const tmp = o.store.temp();
  // What the consumer itself threw: a pipeline reports its own abort instead.
  let thrown: unknown;
  try {
    const { head, rest } = await peek(counted(input, compressed, o));
    const compression = sniff(head);
    const consume = async (src: AsyncIterable<Buffer>): Promise<void> => {
      try {
        await consumeAll(src);
      } catch (e) {
        thrown = e;
        throw e;
      }
    };
    const consumeAll = async (src: AsyncIterable<Buffer>): Promise<void> => {
      for await (const chunk of src) {
        uncompressed.update(chunk);
        if (uncompressed.bytes > limit)
          throw layerError(o.label, 'oci.layer-too-large', `it expands past ${formatBytes(limit)} from ${formatBytes(o.size)} compressed: refused as a decompression bomb`, 'a layer may grow to 200 times its compressed size (at least 256 MiB)');
        writeAll(tmp.fd, chunk);
        parser.push(chunk);
        if (o.signal?.aborted) throw new OsvError({ code: 'oci.interrupted', message: 'the pull was interrupted', exitCode: ExitCode.interrupted });
      }
    };
    if (compression === 'gzip') await pipeline(Readable.from(rest), createGunzip({ chunkSize: 256 * 1024 }), consume);
    else if (compression === 'zstd') await consume(zstdChunks(rest));
    else await consume(rest);
    parser.end();
    fs.closeSync(tmp.fd);
  } catch (e) {
    fs.closeSync(tmp.fd);
    fs.rmSync(tmp.path, { force: true });
    throw explain(thrown ?? e, o.label, current);
  }
  const got = compressed.digest();
  const fail = (code: string, message: string): never => {
    fs.rmSync(tmp.path, { force: true });
    throw layerError(o.label, code, message, 'the blob was damaged in transit or in the registry: pull again, or re-push the image');
  };
  if (compressed.bytes !== o.size) fail('oci.blob-mismatch', `the blob has ${compressed.bytes} bytes, its manifest says ${o.size}`);
  if (got !== o.label.digest) fail('oci.digest-mismatch', `the blob's sha256 is ${got}, not the digest its manifest names`);
  const diffId = uncompressed.digest();
  if (diffId !== o.diffId) fail('oci.diffid-mismatch', `the uncompressed layer's sha256 is ${diffId}, not its diff_id ${o.diffId} in the image config`);
  o.store.commit(tmp.path, o.store.blobPath(o.diffId));
  const index: LayerIndex = { version: 1, diffId: o.diffId, size: uncompressed.bytes, entries, notes };
  o.store.writeFile(o.store.indexPath(o.diffId), JSON.stringify(index));
  return index;
}

function writeAll(fd: number, chunk: Buffer): void {
  let off = 0;
  while (off < chunk.length) off += fs.writeSync(fd, chunk, off, chunk.length - off);
}

/** Any failure while streaming, as an error naming the image, the layer and the member. */
function explain(e: unknown, label: LayerLabel, h: TarHeader | undefined): OsvError {
  if (e instanceof OsvError) return e;
  // A refusal comes from the parser's callback, once the member's header is known.
  if (e instanceof HostileEntry)
    return layerError(label, 'oci.hostile-layer', `member ${JSON.stringify(h!.name)}: ${e.message}`, 'the image was built to attack the extractor, or is broken; nothing was written outside the cache');
  if (e instanceof TarError) return layerError(label, 'oci.bad-layer', `not a valid tar archive at byte ${e.offset}${h ? ` (after member ${JSON.stringify(h.name)})` : ''}: ${e.message}`, 'the layer is damaged; pull again, or rebuild the image');
  // zlib's errors have a Z_ code; what the zstd decoder threw is a ZstdError.
  const code = (e as NodeJS.ErrnoException).code;
  const stream = e instanceof ZstdError ? 'zstd' : typeof code === 'string' && code.startsWith('Z_') ? 'gzip' : undefined;
  if (stream)
    return layerError(label, 'oci.bad-layer', `its ${stream} stream is corrupt or truncated (${(e as Error).message})`, 'the layer is damaged; pull again, or rebuild the image');
  return layerError(label, 'oci.pull-failed', `reading the layer failed: ${(e as Error).message ?? String(e)}`);
}

/** A cached layer's index, or undefined when absent or unreadable (pull it again). */
export function readLayerIndex(store: ContentStore, diffId: Digest): LayerIndex | undefined {
  try {
    const i = JSON.parse(fs.readFileSync(store.indexPath(diffId), 'utf8')) as LayerIndex;
    if (i.version !== 1 || i.diffId !== diffId || !Array.isArray(i.entries)) return undefined;
    if (!fs.existsSync(store.blobPath(diffId))) return undefined;
    return i;
  } catch {
    return undefined;
  }
}
