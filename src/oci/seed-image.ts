// A named volume's seed as an OCI image in KubeVirt's containerDisk format: one layer holding
// /disk/<volume>.qcow2 owned by uid/gid 107, an ordinary linux/<arch> config, labels that say
// which application and volume it seeds. CDI's registry import and a containerDisk both read
// exactly this. Same disk, same bytes: times at the epoch, keys in a fixed order.

import type { Arch } from '../config/types.js';
import type { ContentStore } from './cache.js';
import { sha256Digest } from './digest.js';
import { entriesFor, checkStandaloneQcow2 } from './assemble.js';
import { layerKey, writeLayer } from './layer-writer.js';
import { MEDIA, platformFor } from './manifest.js';
import type { AssembledImage } from './push.js';

export const SEED_LABEL = { tool: 'io.osv-up.version', volume: 'io.osv-up.volume', fs: 'io.osv-up.volume.fs', title: 'org.opencontainers.image.title' } as const;

export interface SeedImageInput {
  tool: string;
  arch: Arch;
  /** The application's name. */
  app: string;
  volume: string;
  fs: 'ext' | 'rofs';
  /** The seed qcow2 on this machine. */
  diskFile: string;
}

/** Where the seed's disk is in the image. */
export const seedPathFor = (volume: string): string => `/disk/${volume}.qcow2`;

const EPOCH = '1970-01-01T00:00:00Z';

export async function assembleSeedImage(store: ContentStore, input: SeedImageInput, hashFile?: (path: string) => string): Promise<AssembledImage> {
  checkStandaloneQcow2(input.diskFile);
  const entries = entriesFor(seedPathFor(input.volume), input.diskFile);
  const layer = await layerKey(entries, hashFile).then((k) => writeLayer(store, k, entries));
  const p = platformFor(input.arch);
  const labels: Record<string, string> = { [SEED_LABEL.tool]: input.tool, [SEED_LABEL.volume]: input.volume, [SEED_LABEL.fs]: input.fs, [SEED_LABEL.title]: `${input.app} volume ${input.volume}` };
  const sorted = Object.fromEntries(Object.keys(labels).sort().map((k) => [k, labels[k]!]));
  const config = Buffer.from(
    JSON.stringify({
      created: EPOCH,
      architecture: p.architecture,
      ...(p.variant ? { variant: p.variant } : {}),
      os: p.os,
      config: { Labels: sorted },
      rootfs: { type: 'layers', diff_ids: [layer.diffId] },
      history: [{ created: EPOCH, created_by: `osv-up ${input.tool}: seed of volume ${input.volume} (${input.fs}) ${seedPathFor(input.volume)} (qcow2)` }],
    }),
  );
  const layers = [{ role: 'disk' as const, mediaType: layer.mediaType, digest: layer.digest, size: layer.size, file: store.blobPath(layer.digest) }];
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MEDIA.ociManifest,
      config: { mediaType: MEDIA.ociConfig, digest: sha256Digest(config), size: config.length },
      layers: layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.size })),
      annotations: sorted,
    }),
  );
  return {
    platform: p,
    layers,
    config: { role: 'config', mediaType: MEDIA.ociConfig, digest: sha256Digest(config), size: config.length, bytes: config },
    manifest: { role: 'manifest', mediaType: MEDIA.ociManifest, digest: sha256Digest(manifest), size: manifest.length, bytes: manifest },
  };
}
