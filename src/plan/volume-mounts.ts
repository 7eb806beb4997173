// Named volumes as the guest and a cluster see them: each is the disk after the image at its
// place in run.volumes (/dev/vblk1, /dev/vblk2, ...), mounted by a `--mount-fs=ext,DEVICE,DEST`
// loader option (facts §15); a cluster attaches only the named ones (src/kubevirt/volumes.ts).
// Pure data on Volume[].

import type { NamedVolume, Volume } from '../config/types.js';

/** The guest device of the volume at `index` in run.volumes: the image is vblk0. */
export const volumeDevice = (index: number): string => `/dev/vblk${index + 1}`;

/** The named volumes of a run with their places among its disks. */
export function namedVolumes(volumes: readonly Volume[]): Array<{ volume: NamedVolume; index: number }> {
  return volumes.flatMap((volume, index) => (volume.kind === 'named' ? [{ volume, index }] : []));
}

/**
 * The file system the guest mounts for a named volume: its ext4, or for a read-only one the
 * ROFS copy of its files that the run attaches instead (src/volumes/readonly.ts).
 */
export const volumeFs = (v: Pick<NamedVolume, 'readonly'>): 'ext' | 'rofs' => (v.readonly ? 'rofs' : 'ext');

/** The loader option that mounts `v` from the disk after the image at `index` (a cluster counts only what it attaches). */
export const mountOption = (v: Pick<NamedVolume, 'readonly' | 'dest'>, index: number): string => `--mount-fs=${volumeFs(v)},${volumeDevice(index)},${v.dest}`;

/** The loader options that mount a run's named volumes (OSv mounts them after the root and its fstab). */
export function mountOptions(volumes: readonly Volume[]): string[] {
  return namedVolumes(volumes).map(({ volume, index }) => mountOption(volume, index));
}
