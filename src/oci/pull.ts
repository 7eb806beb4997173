// From a manifest digest to a complete image in the cache, and from the cache to the merged
// view the planner reads. Pulling fetches only what the cache lacks (layers are shared between
// images by diff_id), verifies everything against the digests that name it, and writes the
// image record last: an image is usable only once all of it is in place.

import { ExitCode, OsvError } from '../diagnostics/error.js';
import type { CachedImage, ContentStore } from './cache.js';
import { sha256Digest, type Digest } from './digest.js';
import { ingestLayer, readLayerIndex, type LayerIndex, type LayerLabel } from './layer.js';
import { checkConfigPlatform, formatPlatform, parseImageConfig, parseManifest, type ImageConfig, type ImageManifest, type Platform } from './manifest.js';
import { MergedFs } from './merged-fs.js';
import type { ImageSource } from './source.js';

export type LayerState = 'cached' | 'waiting' | 'pulling' | 'done';

export interface PullProgress {
  /** The manifest is known: how many layers and their sizes. */
  onManifest?(layers: Array<{ digest: Digest; size: number; cached: boolean }>): void;
  onLayer?(index: number, state: LayerState, bytes: number, total: number): void;
}

/** A complete image, opened: its config and the merged view of its layers. */
export interface OpenedImage {
  record: CachedImage;
  config: ImageConfig;
  fs: MergedFs;
  layers: LayerLabel[];
  /** What the layers dropped or changed (device nodes, set-id bits), per layer. */
  notes: string[];
}

const damaged = (label: string, why: string): OsvError =>
  new OsvError({ code: 'oci.bad-manifest', message: `${label}: ${why}`, hint: 'the image is damaged; rebuild or re-push it', exitCode: ExitCode.invalidInput });

function manifestOf(bytes: Buffer, digest: Digest, label: string): ImageManifest {
  if (sha256Digest(bytes) !== digest) throw new OsvError({ code: 'oci.digest-mismatch', message: `${label}: the manifest's sha256 is ${sha256Digest(bytes)}, not ${digest}`, hint: 'the source was changed or damaged; run `osv pull` to pin it again', exitCode: ExitCode.invalidInput });
  const m = parseManifest(bytes, label);
  if (!m.ok) throw m.error;
  if (m.value.kind !== 'manifest') throw damaged(label, `${digest} is an index, not a platform's manifest`);
  return m.value;
}

async function readAll(s: AsyncIterable<Buffer>, max: number, label: string): Promise<Buffer> {
  const parts: Buffer[] = [];
  let n = 0;
  for await (const c of s) {
    n += c.length;
    if (n > max) throw damaged(label, `a config blob over ${max} bytes`);
    parts.push(c);
  }
  return Buffer.concat(parts);
}

/** Whether the image with this manifest digest is complete in the cache (no network needed). */
export function isCached(store: ContentStore, digest: Digest): boolean {
  const r = store.readImage(digest);
  return r !== undefined && store.has(r.config) && r.layers.every((l) => readLayerIndex(store, l.diffId) !== undefined);
}

/** A pull in steps (for a task list): the manifest and config first, then each layer, then the record. */
export interface PullPlan {
  digest: Digest;
  label: string;
  platform: Platform;
  configDigest: Digest;
  layers: Array<{ index: number; digest: Digest; diffId: Digest; size: number; mediaType: string; cached: boolean }>;
}

/** Fetch and verify the manifest and config (from the cache when there); say which layers are missing. */
export async function planPull(source: ImageSource, digest: Digest, platform: Platform, store: ContentStore): Promise<PullPlan> {
  const label = source.label;
  const cached = store.readImage(digest);
  if (cached && isCached(store, digest))
    return { digest, label, platform, configDigest: cached.config, layers: cached.layers.map((l, i) => ({ index: i, digest: l.digest, diffId: l.diffId, size: l.size, mediaType: l.mediaType, cached: true })) };
  const manifestBytes = store.readBlob(digest) ?? (await source.manifest(digest));
  const manifest = manifestOf(manifestBytes, digest, label);
  store.putBlob(digest, manifestBytes);
  let configBytes = store.readBlob(manifest.config.digest);
  if (!configBytes) {
    configBytes = await readAll(await source.blob(manifest.config.digest, manifest.config.size), 8 * 2 ** 20, label);
    if (configBytes.length !== manifest.config.size || sha256Digest(configBytes) !== manifest.config.digest)
      throw new OsvError({ code: 'oci.digest-mismatch', message: `${label}: the config blob does not match its digest ${manifest.config.digest} and size ${manifest.config.size}`, hint: 'the source is damaged; re-push the image', exitCode: ExitCode.invalidInput });
  }
  const config = parseImageConfig(configBytes, `${label} (config)`);
  if (!config.ok) throw config.error;
  const fits = checkConfigPlatform(config.value, platform, label);
  if (!fits.ok) throw fits.error;
  if (config.value.diffIds.length !== manifest.layers.length) throw damaged(label, `the manifest has ${manifest.layers.length} layers, the config ${config.value.diffIds.length} diff_ids`);
  store.putBlob(manifest.config.digest, configBytes);
  return {
    digest,
    label,
    platform,
    configDigest: manifest.config.digest,
    layers: manifest.layers.map((d, i) => ({ index: i, digest: d.digest, diffId: config.value.diffIds[i]!, size: d.size, mediaType: d.mediaType, cached: readLayerIndex(store, config.value.diffIds[i]!) !== undefined })),
  };
}

/** One missing layer into the cache. */
export async function pullLayer(source: ImageSource, plan: PullPlan, index: number, store: ContentStore, onBytes?: (n: number) => void, signal?: AbortSignal): Promise<void> {
  const l = plan.layers[index]!;
  // Another build may have pulled it meanwhile.
  if (readLayerIndex(store, l.diffId)) return;
  const stream = await source.blob(l.digest, l.size);
  await ingestLayer(stream, { label: { image: plan.label, index: index + 1, digest: l.digest }, size: l.size, diffId: l.diffId, store, ...(onBytes ? { onBytes } : {}), ...(signal ? { signal } : {}) });
}

/** Every layer is in: record the image as complete (written last). */
export function finishPull(plan: PullPlan, store: ContentStore): CachedImage {
  const record: CachedImage = {
    version: 1,
    digest: plan.digest,
    reference: plan.label,
    platform: formatPlatform(plan.platform),
    config: plan.configDigest,
    layers: plan.layers.map((l) => ({ digest: l.digest, diffId: l.diffId, size: l.size, mediaType: l.mediaType })),
  };
  if (!isCached(store, plan.digest)) store.writeFile(store.imagePath(plan.digest), JSON.stringify(record, null, 1));
  return record;
}

/** Make the image complete in the cache, a few layers at a time; returns its record. */
export async function pullImage(source: ImageSource, digest: Digest, platform: Platform, store: ContentStore, progress: PullProgress = {}, signal?: AbortSignal): Promise<CachedImage> {
  const plan = await planPull(source, digest, platform, store);
  progress.onManifest?.(plan.layers.map((l) => ({ digest: l.digest, size: l.size, cached: l.cached })));
  // Decompression runs on libuv's threads while another layer hashes on this one.
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < plan.layers.length) {
      const l = plan.layers[next++]!;
      if (l.cached) {
        progress.onLayer?.(l.index, 'cached', l.size, l.size);
        continue;
      }
      progress.onLayer?.(l.index, 'pulling', 0, l.size);
      await pullLayer(source, plan, l.index, store, (n) => progress.onLayer?.(l.index, 'pulling', n, l.size), signal);
      progress.onLayer?.(l.index, 'done', l.size, l.size);
    }
  };
  await Promise.all(Array.from({ length: Math.min(3, plan.layers.length) }, worker));
  return finishPull(plan, store);
}

/** A complete cached image, opened for reading (no network). */
export function openImage(store: ContentStore, digest: Digest, label: string): OpenedImage {
  const record = store.readImage(digest);
  const missing = (): OsvError => new OsvError({ code: 'oci.not-cached', message: `${label} (${digest}) is not in the image cache`, hint: 'run `osv pull` (or a build, which pulls it)', exitCode: ExitCode.invalidInput });
  if (!record) throw missing();
  const configBytes = store.readBlob(record.config);
  if (!configBytes) throw missing();
  const config = parseImageConfig(configBytes, `${label} (config)`);
  if (!config.ok) throw config.error;
  const inputs: Array<{ label: LayerLabel; index: LayerIndex; file: string }> = [];
  const notes: string[] = [];
  record.layers.forEach((l, i) => {
    const index = readLayerIndex(store, l.diffId);
    if (!index) throw missing();
    const lab = { image: label, index: i + 1, digest: l.digest };
    inputs.push({ label: lab, index, file: store.blobPath(l.diffId) });
    if (index.notes.length > 0) notes.push(`layer ${i + 1}: ${index.notes.length <= 3 ? index.notes.join('; ') : `${index.notes.slice(0, 3).join('; ')} and ${index.notes.length - 3} more`}`);
  });
  return { record, config: config.value, fs: MergedFs.merge(inputs), layers: inputs.map((i) => i.label), notes };
}
