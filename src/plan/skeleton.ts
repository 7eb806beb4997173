// The root file system skeleton OSv expects, generated rather than copied from an OSv tree:
// /etc/fstab for the chosen file system, /etc/hosts, /etc/mnttab, the mount points, and the
// two host-built libraries OSv's own skeletons ship (libgcc_s.so.1, libenviron.so).

import { defaultMounts, PSEUDO_MOUNTS, type FilesystemKind, type Mounts, type PseudoMount } from '../config/types.js';
import type { HostStat } from '../hostfs.js';
import { describeProvenance } from './provenance.js';
import type { PlanEntry } from './types.js';

/** The built-in file system each mount point of `image.mounts` gets. */
const PSEUDO_FS: Record<PseudoMount, string> = { '/dev': 'devfs', '/proc': 'procfs', '/sys': 'sysfs', '/tmp': 'ramfs' };

/**
 * fstab lines (device, mount point, type, options, dump, pass): the root, then the built-in
 * file systems `mounts` keeps, in the order of OSv's own fstab_rofs / fstab_ext.
 */
export function fstabText(fs: FilesystemKind, mounts: Mounts = defaultMounts(fs)): string {
  const rows = [['/dev/vblk0.1', '/', fs], ...PSEUDO_MOUNTS.filter((m) => mounts[m]).map((m) => ['none', m, PSEUDO_FS[m]])];
  return rows.map(([dev, dir, type]) => `${dev!.padEnd(12)} ${dir!.padEnd(10)} ${type!.padEnd(9)} defaults 0 0\n`).join('');
}

export const HOSTS_TEXT = '127.0.0.1 localhost osv.local\n';

/** Mount points: /data is where OSv's rofs images mount an optional writable second disk. */
export function mountPoints(fs: FilesystemKind): string[] {
  return fs === 'rofs' ? ['/data', '/dev', '/proc', '/sys', '/tmp'] : ['/dev', '/proc', '/sys', '/tmp'];
}

export interface SkeletonInput {
  filesystem: FilesystemKind;
  /** Which built-in file systems to mount (default: defaultMounts). */
  mounts?: Mounts;
  /** libgcc_s.so.1 as found in the sysroot (undefined: not found). */
  libgcc?: { host: string; stat: HostStat };
  /** libenviron.so of the kernel bundle. */
  libenviron?: { host: string; stat: HostStat };
}

export function skeletonEntries(input: SkeletonInput): PlanEntry[] {
  const fsName = input.filesystem;
  const mounts = input.mounts ?? defaultMounts(fsName);
  const text = (guest: string, data: string, reason: string): PlanEntry => {
    const content = Buffer.from(data);
    return { guest, kind: 'file', content, size: content.byteLength, mode: 0o644, why: [{ kind: 'skeleton', reason }] };
  };
  const out: PlanEntry[] = [
    text('/etc/fstab', fstabText(fsName, mounts), `mount table for a ${fsName} root`),
    text('/etc/hosts', HOSTS_TEXT, 'localhost name'),
    // Without procfs the link would dangle.
    ...(mounts['/proc'] ? [{ guest: '/etc/mnttab', kind: 'symlink', target: '/proc/mounts', why: [{ kind: 'skeleton', reason: 'mounted file systems, as /proc/mounts' }] } satisfies PlanEntry] : []),
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


/**
 * Warnings for what the image holds but the program will not see as planned: files under a
 * mount point that the fstab mounts over at boot, and an /etc/fstab of the user's, which
 * replaces the generated one (its root line and image.mounts) whole.
 */
export function bootMountWarnings(entries: readonly PlanEntry[], filesystem: FilesystemKind, mounts: Mounts): string[] {
  const out: string[] = [];
  for (const m of PSEUDO_MOUNTS) {
    if (!mounts[m]) continue;
    const under = entries.filter((e) => e.kind !== 'dir' && e.guest.startsWith(`${m}/`));
    if (under.length === 0) continue;
    const [what, it] = under.length === 1 ? [under[0]!.guest, 'it'] : [`${under.length} entries under ${m} (${under[0]!.guest}, ...)`, 'them'];
    out.push(`${what}: OSv mounts ${m === '/tmp' ? 'an empty ramfs' : PSEUDO_FS[m]} on ${m} at boot, so the program will not see ${it}; put ${it} elsewhere, or set image.mounts.${m}: false`);
  }
  const fstab = entries.find((e) => e.guest === '/etc/fstab');
  const why = fstab?.why[0];
  if (why && why.kind !== 'skeleton')
    out.push(
      `/etc/fstab (${describeProvenance(why)}) replaces the one osv-up writes: image.mounts is not applied, and the image boots only if this file mounts the root (/dev/vblk0.1 on / as ${filesystem})`,
    );
  return out;
}
