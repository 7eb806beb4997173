// What a VM run needs, independent of the hypervisor: the input of qemuArgs() and
// firecrackerConfig(). Plain data, built by the caller (osv run / osv up) from a RunConfig.

import type { Arch, FilesystemKind, ImageFormat, Machine, Network, PortForward } from '../config/types.js';

export type { Network, PortForward };

export interface Disk {
  /** Absolute host path. */
  path: string;
  format: ImageFormat;
  /** The guest cannot write (QEMU `readonly=on`, Firecracker `is_read_only`). */
  readonly?: boolean;
  /**
   * The guest writes, but into a throwaway overlay that the run discards: the file itself never
   * changes (QEMU `snapshot=on`; Firecracker, which has no overlays, boots a temporary copy).
   */
  snapshot?: boolean;
  /** Made when the run starts (a named volume on first use): a dry run shows it before it exists. */
  pending?: boolean;
}

/**
 * The image's root disk as every run attaches it: never written, so that the image stays the
 * bytes its build recorded (and that a push ships). A ROFS root only reads, so it is attached
 * read-only; an ext root (writable for the run's duration) and a root of unknown kind write
 * into a throwaway overlay.
 */
export function rootDisk(path: string, format: ImageFormat, filesystem?: FilesystemKind): Disk {
  return filesystem === 'rofs' ? { path, format, readonly: true } : { path, format, snapshot: true };
}

/**
 * How the guest starts. Direct kernel boot is the default (half a second to the application
 * under TCG); booting a `bootable` image from its own boot sector decompresses the kernel under
 * emulation and takes seconds, and its command line is the one written inside the image.
 */
export type Boot =
  | {
      kind: 'kernel';
      /** loader-stripped.elf (x86_64) or loader.img (aarch64). */
      kernel: string;
      /** The full OSv command line: loader options, then the application. */
      cmdline: string;
      /** The root filesystem disk (vblk0); absent for a kernel that runs from its bootfs. */
      disk?: Disk;
    }
  | { kind: 'image'; disk: Disk };

/** QEMU's -drive cache modes; `writeback` works on every host filesystem and honours guest flushes. */
export type DiskCache = 'writeback' | 'writethrough' | 'none' | 'unsafe' | 'directsync';

export interface VmSpec {
  arch: Arch;
  boot: Boot;
  /** Bytes. */
  memory: number;
  cpus: number;
  network: Network;
  /** Host-to-guest forwards; only user networking can forward. */
  ports: PortForward[];
  /** Extra disks after the root disk (vblk1, vblk2, ...). */
  volumes: Disk[];
  /**
   * x86 only: `pc` (default; legacy PCI, transitional virtio) or `q35`, KubeVirt's machine: every
   * virtio device behind its own PCIe root port, modern-only (disable-legacy=on).
   */
  machine?: Machine;
  /** Decided by decideAccel(); never 'auto' here. */
  accel: 'kvm' | 'tcg';
  diskCache?: DiskCache;
  /** A gdb stub, only when asked. */
  gdb?: { port: number; host?: string; waitForDebugger?: boolean };
  /** A VNC display (and a VGA card), only when asked. */
  vnc?: { display: number; host?: string };
  /** Raw arguments appended last (escape hatch). */
  extraArgs?: string[];
}

export const MiB = 1024 * 1024;

/** Memory in whole MiB, as QEMU's `-m` and Firecracker's `mem_size_mib` want it. */
export function memoryMiB(bytes: number): number {
  return Math.max(1, Math.ceil(bytes / MiB));
}
