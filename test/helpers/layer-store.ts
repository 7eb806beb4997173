// Layers into a ContentStore in a temp dir, and the merged view over them: what the layer
// reader's tests (layers, layer-ingest, merged-fs) share.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ContentStore } from '../../src/oci/cache.js';
import type { Digest } from '../../src/oci/digest.js';
import { ingestLayer, type IngestOptions, type LayerIndex, type LayerLabel } from '../../src/oci/layer.js';
import { MergedFs, type MergeInput } from '../../src/oci/merged-fs.js';
import { gzip, sha256, tar, type TarEntry } from './tar-writer.js';

/** A blob as the registry would stream it, `size` bytes at a time. */
export async function* chunks(b: Buffer, size = 65536): AsyncGenerator<Buffer> {
  for (let i = 0; i < b.length; i += size) yield b.subarray(i, i + size);
}

/** Stores in one temp dir, removed by `cleanup()` (call it from afterAll). */
export function layerWorkspace(prefix: string): {
  store(): ContentStore;
  /** Ingest one layer given as tar bytes, compressed with `compress` (gzip by default). */
  ingest(raw: Buffer, opts?: { compress?: (b: Buffer) => Buffer; blob?: Buffer; diffId?: string; store?: ContentStore; label?: Partial<LayerLabel>; chunkSize?: number; more?: Partial<IngestOptions> }): Promise<{ index: LayerIndex; store: ContentStore; file: string; digest: Digest; label: LayerLabel }>;
  /** The merged view of layers written by the tar writer (layer i is labelled index i + 1). */
  merged(layers: TarEntry[][], image?: string): Promise<MergedFs>;
  /** The merge inputs of layers given as tar bytes. */
  inputs(layers: Buffer[], image?: string): Promise<MergeInput[]>;
  cleanup(): void;
} {
  const work = mkdtempSync(join(tmpdir(), prefix));
  let n = 0;
  const store = (): ContentStore => new ContentStore(join(work, `store-${n++}`));
  const ingest: ReturnType<typeof layerWorkspace>['ingest'] = async (raw, opts = {}) => {
    const s = opts.store ?? store();
    const blob = opts.blob ?? (opts.compress ?? gzip)(raw);
    const digest = (opts.label?.digest ?? sha256(blob)) as Digest;
    const diffId = (opts.diffId ?? sha256(raw)) as Digest;
    const label: LayerLabel = { image: 'test/image:1', index: 1, ...opts.label, digest };
    const index = await ingestLayer(chunks(blob, opts.chunkSize), { label, size: blob.length, diffId, store: s, ...opts.more });
    return { index, store: s, file: s.blobPath(diffId), digest, label };
  };
  const inputs = async (layers: Buffer[], image = 'test/image:1'): Promise<MergeInput[]> => {
    const s = store();
    const out: MergeInput[] = [];
    for (const [i, raw] of layers.entries()) {
      const r = await ingest(raw, { store: s, label: { image, index: i + 1 } });
      out.push({ label: r.label, index: r.index, file: r.file });
    }
    return out;
  };
  return {
    store,
    ingest,
    inputs,
    merged: async (layers, image) => MergedFs.merge(await inputs(layers.map((l) => tar(l)), image)),
    cleanup: () => rmSync(work, { recursive: true, force: true }),
  };
}
