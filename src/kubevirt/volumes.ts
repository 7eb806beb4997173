// A run's named volumes in a KubeVirt VM. Each volume was pushed with its seed image
// (src/tasks/push-volumes.ts), and the VM attaches them after the image's containerDisk
// (vblk0), in run.volumes order, so the k-th attached volume is /dev/vblk<k> and the kernel
// arguments mount it there (the run's own --mount-fs options counted the disk images of the
// build machine too, which a cluster does not have: they are replaced).
//
// - A writable volume is a CDI DataVolume in the VM's dataVolumeTemplates: CDI imports the seed
//   image (an ext4 made as osv-up makes a new volume) into a claim of the volume's size, once;
//   the VM owns it, so `kubectl apply` of a newer export keeps the data, and in a
//   VirtualMachinePool each VM gets its own copy (the pool names them per VM).
// - A read-only volume is a containerDisk of its seed (the ROFS of `from:`): nothing to keep, any
//   number of VMs can attach it, and the guest cannot write to ROFS.
// Pure: typed with KubeVirt's own API models (which carry CDI's DataVolume spec).

import type { V1DataVolumeTemplateSpec, V1Disk, V1Volume } from '@kubevirt-ui-ext/kubevirt-api/kubevirt';
import type { PortableVolume } from '../oci/osv-image.js';
import { escapeOption } from '../plan/cmdline.js';
import { mountOption } from '../plan/volume-mounts.js';
import { addKernelOptions, splitCmdline } from '../run/cmdline.js';

export interface ClusterVolumes {
  disks: V1Disk[];
  volumes: V1Volume[];
  dataVolumeTemplates: V1DataVolumeTemplateSpec[];
  /** The loader options that mount them, in disk order. */
  mountOptions: string[];
  /** Volumes whose image has no seed (pushed by an older osv-up, or not to a registry): not attached. */
  unseeded: PortableVolume[];
}

/** A size as a Kubernetes quantity: the largest binary unit that divides it. */
export function quantity(bytes: number): string {
  for (const [unit, n] of [['Ti', 2 ** 40], ['Gi', 2 ** 30], ['Mi', 2 ** 20], ['Ki', 2 ** 10]] as const) if (bytes % n === 0) return `${bytes / n}${unit}`;
  return String(bytes);
}

/** A DNS-1123 label made of `vm-volume`, at most 63 characters. */
export function dataVolumeName(vm: string, volume: string): string {
  const keep = Math.max(1, 62 - volume.length);
  return `${vm.slice(0, keep).replace(/-+$/, '')}-${volume}`.slice(0, 63).replace(/-+$/, '');
}

/** The disk (and VM volume) name of a named volume; the image's own disk keeps its name. */
export const diskName = (volume: string, taken: string): string => (volume === taken ? `volume-${volume}` : volume);

/**
 * The VM's part of a run's named volumes. `repository` is the application's image without tag
 * or digest (registry/repo): every seed is in that repository, pinned by its digest.
 */
export function clusterVolumes(vm: string, repository: string, volumes: readonly PortableVolume[], imageDisk: string): ClusterVolumes {
  const out: ClusterVolumes = { disks: [], volumes: [], dataVolumeTemplates: [], mountOptions: [], unseeded: [] };
  for (const v of volumes) {
    if (!v.seed) {
      out.unseeded.push(v);
      continue;
    }
    const name = diskName(v.name, imageDisk);
    const image = `${repository}@${v.seed.digest}`;
    out.mountOptions.push(escapeOption(mountOption(v, out.disks.length)));
    out.disks.push({ name, disk: { bus: 'virtio' } });
    if (v.readonly) {
      out.volumes.push({ name, containerDisk: { image, path: v.seed.path, imagePullPolicy: 'IfNotPresent' } });
      continue;
    }
    const dv = dataVolumeName(vm, v.name);
    out.volumes.push({ name, dataVolume: { name: dv } });
    out.dataVolumeTemplates.push({
      metadata: { name: dv },
      spec: {
        source: { registry: { url: `docker://${image}` } },
        // `storage` (not `pvc`): CDI picks the access and volume modes of the storage class and
        // adds its file-system overhead, so the whole seed fits.
        storage: { resources: { requests: { storage: quantity(v.size) } } },
      },
    });
  }
  return out;
}

const unescape = (token: string): string => token.replace(/\\(.)/g, '$1');

/**
 * The run's command line with its named volumes' --mount-fs options (numbered for the build
 * machine's disks) replaced by the cluster's.
 */
export function withClusterMounts(cmdline: string, volumes: readonly PortableVolume[], mountOptions: readonly string[]): string {
  const dests = new Set(volumes.map((v) => v.dest));
  const { options, app } = splitCmdline(cmdline);
  const kept = options.filter((o) => {
    const m = /^--mount-fs=(?:ext|rofs),\/dev\/vblk\d+,(.*)$/s.exec(unescape(o));
    return !(m && dests.has(m[1]!));
  });
  return addKernelOptions([...kept, app].filter((s) => s !== '').join(' '), mountOptions);
}
