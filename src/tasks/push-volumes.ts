// `osv push` to a registry, for a project with named volumes: each volume's seed image
// (src/volumes/seed.ts, src/oci/seed-image.ts) goes to the application's repository first,
// tagged `<tag>-volume-<name>` (`-ro` for a read-only one), so that the application's image
// can name every seed by digest in its labels and `osv export kubevirt` finds them from the
// application's reference alone. A volume that two runs share is pushed once.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Arch, NamedVolume } from '../config/types.js';
import type { RecordedRun } from '../image/record.js';
import type { ContentStore } from '../oci/cache.js';
import type { VolumeSeed } from '../oci/osv-image.js';
import { pushToRegistry, type PushedBlob } from '../oci/push.js';
import { formatReference, type RegistryReference } from '../oci/reference.js';
import type { RegistryClient } from '../oci/registry.js';
import { assembleSeedImage, seedPathFor } from '../oci/seed-image.js';
import { makeSeedDisk, seedFs } from '../volumes/seed.js';

export interface PushedSeed extends VolumeSeed {
  volume: string;
  /** registry/repo:tag@digest */
  reference: string;
  blobs: PushedBlob[];
}

export interface SeedPushContext {
  tool: string;
  arch: Arch;
  app: string;
  store: ContentStore;
  env: NodeJS.ProcessEnv;
  client?: RegistryClient;
  hashFile?: (path: string) => string;
}

/** Which seed a volume uses: a writable and a read-only use of one volume need different file systems. */
export const seedKey = (v: Pick<NamedVolume, 'name' | 'readonly'>): string => `${v.name}/${seedFs(v)}`;

const TAG = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;

/** The seed's tag beside the application's tag. */
export function seedTag(appTag: string, v: Pick<NamedVolume, 'name' | 'readonly'>): string {
  const suffix = `volume-${v.name}${v.readonly ? '-ro' : ''}`;
  const tag = `${appTag}-${suffix}`;
  return TAG.test(tag) ? tag : suffix;
}

/** The named volumes of the recorded runs, one per seed. */
export function seedVolumes(runs: readonly RecordedRun[]): NamedVolume[] {
  const seen = new Map<string, NamedVolume>();
  for (const r of runs) for (const v of r.settings.volumes) if (v.kind === 'named' && !seen.has(seedKey(v))) seen.set(seedKey(v), v);
  return [...seen.values()];
}

/** Make and push every seed; the map is keyed by seedKey(). */
export async function pushVolumeSeeds(target: RegistryReference, runs: readonly RecordedRun[], ctx: SeedPushContext): Promise<Map<string, PushedSeed>> {
  const out = new Map<string, PushedSeed>();
  const volumes = seedVolumes(runs);
  if (volumes.length === 0) return out;
  const scratch = mkdtempSync(join(tmpdir(), 'osv-seed-'));
  try {
    for (const v of volumes) {
      const disk = await makeSeedDisk(v, scratch);
      if (!disk.ok) throw disk.error;
      const img = await assembleSeedImage(ctx.store, { tool: ctx.tool, arch: ctx.arch, app: ctx.app, volume: v.name, fs: seedFs(v), diskFile: disk.value }, ctx.hashFile);
      const ref: RegistryReference = { ...target, tag: seedTag(target.tag ?? 'latest', v) };
      const { digest: _d, ...tagged } = ref;
      const pushed = await pushToRegistry(tagged, img, ctx.store, { env: ctx.env }, ctx.client);
      out.set(seedKey(v), { volume: v.name, digest: pushed.digest, path: seedPathFor(v.name), reference: formatReference({ ...tagged, digest: pushed.digest }), blobs: pushed.blobs });
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  return out;
}
