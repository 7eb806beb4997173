// Named volumes as the guest and a cluster see them: each is the disk after the image at its
// place in run.volumes (/dev/vblk1, /dev/vblk2, ...), mounted by a `--mount-fs=ext,DEVICE,DEST`
// loader option (facts §15); a cluster gives it a disk backed by a claim. Pure data on Volume[].

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
export const volumeFs = (v: NamedVolume): 'ext' | 'rofs' => (v.readonly ? 'rofs' : 'ext');

const mountOption = (v: NamedVolume, index: number): string => `--mount-fs=${volumeFs(v)},${volumeDevice(index)},${v.dest}`;

/** The loader options that mount a run's named volumes (OSv mounts them after the root and its fstab). */
export function mountOptions(volumes: readonly Volume[]): string[] {
  return namedVolumes(volumes).map(({ volume, index }) => mountOption(volume, index));
}

/** What a KubeVirt VM needs for a named volume: its disk, the claim behind it, and the mount option. */
export interface ClusterVolume {
  /** The disk's (and the VM volume's) name: the volume's name, a DNS label already. */
  disk: string;
  /** The PersistentVolumeClaim (or DataVolume) that holds the data across VM restarts. */
  claim: { name: string; size: string };
  /** What the claim must hold: an ext4 (writable), or the ROFS copy of a read-only volume. */
  fs: 'ext' | 'rofs';
  /** Goes into the VM's kernel arguments; the disk must be attached in the same order. */
  mountFs: string;
  readonly: boolean;
}

/** A size as a Kubernetes quantity: the largest binary unit that divides it. */
export function quantity(bytes: number): string {
  for (const [unit, n] of [['Ti', 2 ** 40], ['Gi', 2 ** 30], ['Mi', 2 ** 20], ['Ki', 2 ** 10]] as const) if (bytes % n === 0) return `${bytes / n}${unit}`;
  return String(bytes);
}

/**
 * The cluster form of a run's named volumes, for the image called `image`: a claim per volume
 * named `<image>-<volume>` (a DNS subdomain: lowercase, other characters made `-`).
 */
export function clusterVolumes(image: string, volumes: readonly Volume[]): ClusterVolume[] {
  const prefix = image.toLowerCase().replace(/[^a-z0-9.-]+/g, '-').replace(/^[^a-z0-9]+/, '').slice(0, 189) || 'osv';
  return namedVolumes(volumes).map(({ volume, index }) => ({
    disk: volume.name,
    claim: { name: `${prefix}-${volume.name}`, size: quantity(volume.size) },
    fs: volumeFs(volume),
    mountFs: mountOption(volume, index),
    readonly: volume.readonly,
  }));
}
