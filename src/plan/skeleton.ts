// The root file system skeleton OSv expects, generated rather than copied from an OSv tree:
// /etc/fstab for the chosen file system, /etc/hosts, /etc/mnttab, the mount points, and the
// two host-built libraries OSv's own skeletons ship (libgcc_s.so.1, libenviron.so).

import type { FilesystemKind } from '../config/types.js';
import type { HostStat } from '../hostfs.js';
import type { PlanEntry } from './types.js';

/**
 * fstab lines (device, mount point, type, options, dump, pass), the mount table OSv's own
 * fstab_rofs / fstab_ext carry. An ext root is writable, so it needs no ramfs for /tmp.
 */
const FSTAB: Record<FilesystemKind, string[][]> = {
  rofs: [
    ['/dev/vblk0.1', '/', 'rofs'],
    ['none', '/dev', 'devfs'],
    ['none', '/proc', 'procfs'],
    ['none', '/sys', 'sysfs'],
    ['none', '/tmp', 'ramfs'],
  ],
  ext: [
    ['/dev/vblk0.1', '/', 'ext'],
    ['none', '/dev', 'devfs'],
    ['none', '/proc', 'procfs'],
    ['none', '/sys', 'sysfs'],
  ],
};

export function fstabText(fs: FilesystemKind): string {
  return FSTAB[fs].map(([dev, dir, type]) => `${(dev as string).padEnd(12)} ${(dir as string).padEnd(10)} ${(type as string).padEnd(9)} defaults 0 0\n`).join('');
}

export const HOSTS_TEXT = '127.0.0.1 localhost osv.local\n';

/** Mount points: /data is where OSv's rofs images mount an optional writable second disk. */
export function mountPoints(fs: FilesystemKind): string[] {
  return fs === 'rofs' ? ['/data', '/dev', '/proc', '/sys', '/tmp'] : ['/dev', '/proc', '/sys', '/tmp'];
}

export interface SkeletonInput {
  filesystem: FilesystemKind;
  /** libgcc_s.so.1 as found in the sysroot (undefined: not found). */
  libgcc?: { host: string; stat: HostStat };
  /** libenviron.so of the kernel bundle. */
  libenviron?: { host: string; stat: HostStat };
}

export function skeletonEntries(input: SkeletonInput): PlanEntry[] {
  const fsName = input.filesystem;
  const text = (guest: string, data: string, reason: string): PlanEntry => {
    const content = Buffer.from(data);
    return { guest, kind: 'file', content, size: content.byteLength, mode: 0o644, why: [{ kind: 'skeleton', reason }] };
  };
  const out: PlanEntry[] = [
    text('/etc/fstab', fstabText(fsName), `mount table for a ${fsName} root`),
    text('/etc/hosts', HOSTS_TEXT, 'localhost name'),
    { guest: '/etc/mnttab', kind: 'symlink', target: '/proc/mounts', why: [{ kind: 'skeleton', reason: 'mounted file systems, as /proc/mounts' }] },
    ...mountPoints(fsName).map((guest): PlanEntry => ({ guest, kind: 'dir', why: [{ kind: 'skeleton', reason: 'mount point' }] })),
  ];
  const hostFile = (guest: string, f: { host: string; stat: HostStat }, why: PlanEntry['why']): PlanEntry => ({
    guest,
    kind: 'file',
    host: f.host,
    size: f.stat.size,
    mtimeMs: f.stat.mtimeMs,
    ino: f.stat.ino,
    mode: f.stat.mode,
    why,
  });
  if (input.libgcc) out.push(hostFile('/usr/lib/libgcc_s.so.1', input.libgcc, [{ kind: 'skeleton', reason: "GCC's unwinder library, which OSv does not provide" }]));
  if (input.libenviron) out.push(hostFile('/libenviron.so', input.libenviron, [{ kind: 'kernel', reason: 'libenviron.so built with the kernel' }]));
  return out;
}
