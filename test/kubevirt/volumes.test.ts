// Named volumes in a KubeVirt VM (src/kubevirt/volumes.ts), on the data alone: disks after the
// image's in run order with the mount options numbered for them, a DataVolume template per
// writable volume importing its seed, a containerDisk per read-only one, the build machine's
// --mount-fs options replaced, names valid for Kubernetes.

import { describe, expect, it } from 'vitest';
import { clusterVolumes, dataVolumeName, quantity, withClusterMounts } from '../../src/kubevirt/volumes.js';
import type { Digest } from '../../src/oci/digest.js';
import type { PortableVolume } from '../../src/oci/osv-image.js';

const MiB = 2 ** 20;
const D1 = `sha256:${'1'.repeat(64)}` as Digest;
const D2 = `sha256:${'2'.repeat(64)}` as Digest;
const vol = (name: string, dest: string, over: Partial<PortableVolume> = {}): PortableVolume => ({ name, dest, size: 64 * MiB, readonly: false, ...over });

describe('named volumes in a KubeVirt VM', () => {
  it('a writable volume is a DataVolume template importing its seed; a read-only one a containerDisk; disks numbered from vblk1', () => {
    const volumes = [vol('redis-aof', '/data', { size: 512 * MiB, seed: { digest: D1, path: '/disk/redis-aof.qcow2' } }), vol('old', '/old'), vol('conf', '/etc/app', { readonly: true, seed: { digest: D2, path: '/disk/conf.qcow2' } })];
    const c = clusterVolumes('web', 'reg.example/apps/web', volumes, 'containerdisk');
    expect(c.disks).toEqual([
      { name: 'redis-aof', disk: { bus: 'virtio' } },
      { name: 'conf', disk: { bus: 'virtio' } },
    ]);
    expect(c.volumes).toEqual([
      { name: 'redis-aof', dataVolume: { name: 'web-redis-aof' } },
      { name: 'conf', containerDisk: { image: `reg.example/apps/web@${D2}`, path: '/disk/conf.qcow2', imagePullPolicy: 'IfNotPresent' } },
    ]);
    expect(c.dataVolumeTemplates).toEqual([
      { metadata: { name: 'web-redis-aof' }, spec: { source: { registry: { url: `docker://reg.example/apps/web@${D1}` } }, storage: { resources: { requests: { storage: '512Mi' } } } } },
    ]);
    // The volume without a seed is not attached, so the read-only one is the second disk after the image.
    expect(c.mountOptions).toEqual(['--mount-fs=ext,/dev/vblk1,/data', '--mount-fs=rofs,/dev/vblk2,/etc/app']);
    expect(c.unseeded.map((v) => v.name)).toEqual(['old']);
  });

  it('the build machine\'s --mount-fs options are replaced (a raw disk image there shifted them); others stay', () => {
    const volumes = [vol('data', '/my data'), vol('old', '/old')];
    const cmdline = '--rootfs=rofs --verbose --mount-fs=ext,/dev/vblk2,/my\\ data --mount-fs=ext,/dev/vblk3,/old --mount-fs=zfs,/dev/vblk9,/z /hello --mount-fs=ext,/dev/vblk2,/my\\ data !';
    expect(withClusterMounts(cmdline, volumes, ['--mount-fs=ext,/dev/vblk1,/my\\ data'])).toBe('--rootfs=rofs --verbose --mount-fs=zfs,/dev/vblk9,/z --mount-fs=ext,/dev/vblk1,/my\\ data /hello --mount-fs=ext,/dev/vblk2,/my\\ data !');
  });

  it('names are DNS-1123 labels of at most 63 characters; a volume named like the image disk is renamed', () => {
    const long = 'a'.repeat(60);
    expect(dataVolumeName(long, 'data')).toBe(`${'a'.repeat(58)}-data`);
    expect(dataVolumeName('web', 'b'.repeat(63))).toMatch(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/);
    expect(clusterVolumes('web', 'r/a', [vol('containerdisk', '/d', { seed: { digest: D1, path: '/disk/containerdisk.qcow2' } })], 'containerdisk').disks[0]!.name).toBe('volume-containerdisk');
    expect([quantity(2 ** 30), quantity(3 * 2 ** 40), quantity(1536 * 1024), quantity(1000)]).toEqual(['1Gi', '3Ti', '1536Ki', '1000']);
  });
});
