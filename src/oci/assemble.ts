// From a built OSv disk and its kernel to an image ready to push: the kernel's layer
// (/boot/loader-stripped.elf) and the disk's layer (/disk/<name>.qcow2), both owned by
// uid/gid 107 as KubeVirt wants, the config carrying the metadata, and the manifest. The kernel
// is a layer of its own so that every application built on the same kernel shares that blob.

import { fileIsQcow2, qcow2ExternalFiles } from '../image/qcow2.js';
import { ExitCode, OsvError } from '../diagnostics/error.js';
import type { ContentStore } from './cache.js';
import { sha256Digest } from './digest.js';
import { layerKey, writeLayer, type BuiltLayer } from './layer-writer.js';
import { MEDIA, platformFor } from './manifest.js';
import { imageConfig, imageManifest, KUBEVIRT_UID, type OsvImageMeta } from './osv-image.js';
import type { AssembledImage, ImageBlob } from './push.js';
import type { TarWriteEntry } from './tar-writer.js';

/** The layer entries that put `host` at `guest` (`/boot/x`): the directory, then the file. */
function entriesFor(guest: string, host: string): TarWriteEntry[] {
  const [dir, file] = guest.slice(1).split('/') as [string, string];
  return [
    { name: dir, type: 'dir', mode: 0o755, uid: KUBEVIRT_UID, gid: KUBEVIRT_UID },
    { name: `${dir}/${file}`, type: 'file', mode: 0o644, uid: KUBEVIRT_UID, gid: KUBEVIRT_UID, path: host },
  ];
}

/** A qcow2 that stands alone (no backing or external data file), as a containerDisk must. */
export function checkStandaloneQcow2(path: string): void {
  const bad = (why: string): OsvError => new OsvError({ code: 'push.bad-disk', message: `${path} ${why}`, hint: 'rebuild it with `osv build --format qcow2 --output disk --force`', exitCode: ExitCode.buildFailed });
  if (!fileIsQcow2(path)) throw bad('is not a qcow2 image');
  const external = qcow2ExternalFiles(path);
  if (external.length > 0) throw bad(`is a qcow2 image with ${external.join(' and ')}; a containerDisk must stand alone`);
}

export interface AssembleInput {
  meta: OsvImageMeta;
  kernelFile: string;
  diskFile: string;
}

export async function assembleImage(store: ContentStore, input: AssembleInput, hashFile?: (path: string) => string, signal?: AbortSignal): Promise<AssembledImage & { reused: { kernel: boolean; disk: boolean } }> {
  checkStandaloneQcow2(input.diskFile);
  const kernelEntries = entriesFor(input.meta.kernel.path, input.kernelFile);
  const diskEntries = entriesFor(input.meta.disk.path, input.diskFile);
  const [kernel, disk] = await Promise.all([
    layerKey(kernelEntries, hashFile).then((k) => writeLayer(store, k, kernelEntries, signal)),
    layerKey(diskEntries, hashFile).then((k) => writeLayer(store, k, diskEntries, signal)),
  ]);
  const layer = (role: 'kernel' | 'disk', l: BuiltLayer): ImageBlob => ({ role, mediaType: l.mediaType, digest: l.digest, size: l.size, file: store.blobPath(l.digest) });
  const layers = [layer('kernel', kernel), layer('disk', disk)];
  const config = imageConfig(input.meta, [kernel.diffId, disk.diffId]);
  const manifest = imageManifest(input.meta, config, layers);
  return {
    platform: platformFor(input.meta.arch),
    layers,
    config: { role: 'config', mediaType: MEDIA.ociConfig, digest: sha256Digest(config), size: config.length, bytes: config },
    manifest: { role: 'manifest', mediaType: MEDIA.ociManifest, digest: sha256Digest(manifest), size: manifest.length, bytes: manifest },
    reused: { kernel: kernel.reused, disk: disk.reused },
  };
}
