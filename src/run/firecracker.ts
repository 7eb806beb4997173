// VmSpec -> Firecracker's JSON configuration (facts §6.2), for `firecracker --no-api
// --config-file FILE`. Firecracker boots the kernel ELF directly, wants raw disks, has no PCI
// (OSv needs --nopci) and no user-mode networking (only tap devices).

import { basename, join } from 'node:path';
import { OsvError } from '../diagnostics/error.js';
import { err, ok, type Result } from '../diagnostics/result.js';
import { hasKernelOption } from './cmdline.js';
import type { VmSpec } from './spec.js';
import { memoryMiB } from './spec.js';

export interface FirecrackerDrive {
  drive_id: string;
  path_on_host: string;
  is_root_device: boolean;
  is_read_only: boolean;
}

export interface FirecrackerConfig {
  'boot-source': { kernel_image_path: string; boot_args: string };
  drives: FirecrackerDrive[];
  'machine-config': { vcpu_count: number; mem_size_mib: number };
  'network-interfaces': Array<{ iface_id: string; host_dev_name: string; guest_mac: string }>;
}

/** The MAC OSv's firecracker.py gives the guest. */
export const FC_GUEST_MAC = '52:54:00:12:34:56';

/** Firecracker caps a microVM at 32 vCPUs. */
const FC_MAX_VCPUS = 32;

const fcError = (code: string, message: string, hint: string): OsvError => new OsvError({ code: `run.${code}`, message, hint });

/** Boot args: `--nopci` first (no PCI bus), aarch64 also `console=tty`. */
export function firecrackerBootArgs(cmdline: string, arch: VmSpec['arch']): string {
  const prefix = [...(arch === 'aarch64' && !/(^|\s)console=/.test(cmdline) ? ['console=tty'] : []), ...(hasKernelOption(cmdline, 'nopci') ? [] : ['--nopci'])];
  return [...prefix, cmdline].filter((s) => s !== '').join(' ');
}

/** A disk Firecracker boots from a temporary copy, made before the start and removed after the run. */
export interface DiskCopy {
  from: string;
  to: string;
}

/**
 * Firecracker has no overlays: each disk whose writes must be thrown away (`snapshot`) gets a
 * temporary copy in `dir`, named after `tag` (unique per run) and the disk's place.
 */
export function snapshotCopies(spec: VmSpec, dir: string, tag: string): DiskCopy[] {
  const disks = [...(spec.boot.disk ? [spec.boot.disk] : []), ...spec.volumes];
  return disks.flatMap((d, i) => (d.snapshot && !d.readonly ? [{ from: d.path, to: join(dir, `osv-up-${tag}-disk${i}-${basename(d.path)}`) }] : []));
}

/** Pure. `accel`, `diskCache` are QEMU-only and ignored; `copies` name the temporary copies to boot instead. */
export function firecrackerConfig(spec: VmSpec, copies: readonly DiskCopy[] = []): Result<FirecrackerConfig> {
  const boot = spec.boot;
  if (boot.kind !== 'kernel') {
    return err(fcError('fc-needs-kernel', 'Firecracker boots a kernel directly; it cannot boot an image from its boot sector', 'give the kernel ELF (--kernel or OSV_KERNEL, or `kernel:` in osv.yaml)'));
  }
  if (spec.cpus > FC_MAX_VCPUS) return err(fcError('fc-too-many-cpus', `Firecracker supports at most ${FC_MAX_VCPUS} vCPUs, got ${spec.cpus}`, `set cpus to ${FC_MAX_VCPUS} or fewer`));
  if (spec.gdb || spec.vnc) return err(fcError('fc-no-debug', 'Firecracker has no gdb stub or VNC display', 'debug under QEMU: --hypervisor qemu'));
  const disks = [...(boot.disk ? [{ disk: boot.disk, id: 'rootfs' }] : []), ...spec.volumes.map((disk, i) => ({ disk, id: `vol${i + 1}` }))];
  for (const { disk } of disks) {
    if (disk.format !== 'raw') {
      return err(fcError('fc-needs-raw', `Firecracker only reads raw disks, and ${disk.path} is ${disk.format}`, 'set `image.format: raw` (or convert: qemu-img convert -O raw IN OUT)'));
    }
  }
  const net = spec.network;
  if (net.kind === 'user' && spec.ports.length > 0) {
    return err(fcError('fc-no-user-net', 'Firecracker has no user-mode networking, so `ports` cannot be forwarded', 'use `network: tap:NAME` and reach the guest at its address, or `hypervisor: qemu`'));
  }
  if (net.kind === 'bridge') return err(fcError('fc-no-bridge', 'Firecracker cannot attach to a bridge directly', 'attach a tap device to the bridge and use `network: tap:NAME`'));
  return ok({
    'boot-source': { kernel_image_path: boot.kernel, boot_args: firecrackerBootArgs(boot.cmdline, spec.arch) },
    drives: disks.map(({ disk, id }) => ({
      drive_id: id,
      path_on_host: copies.find((c) => c.from === disk.path)?.to ?? disk.path,
      is_root_device: false,
      is_read_only: Boolean(disk.readonly),
    })),
    'machine-config': { vcpu_count: spec.cpus, mem_size_mib: memoryMiB(spec.memory) },
    'network-interfaces': net.kind === 'tap' ? [{ iface_id: 'eth0', host_dev_name: net.name, guest_mac: FC_GUEST_MAC }] : [],
  });
}

export const firecrackerArgs = (configFile: string): string[] => ['--no-api', '--config-file', configFile];
