// The validated, normalized configuration: what every later stage reads. Produced once by
// the config loader (src/config/load.ts); nothing after it looks at YAML again.
// Host paths here are absolute: a relative path is resolved against the file that declared it
// (a built-in template's against the project directory); an absolute path written in
// `executables`, `libraries` or `files` is inside `sysroot` and stored joined to it (with the
// default sysroot "/" it is unchanged). Guest paths are absolute, normalized POSIX paths.

import type { Source } from '../diagnostics/error.js';
import type { ImageReference } from '../oci/reference.js';

export type Arch = 'x86_64' | 'aarch64';
export type Machine = 'pc' | 'q35';
export type FilesystemKind = 'rofs' | 'ext';
export type ImageOutput = 'disk' | 'bootable';
export type ImageFormat = 'raw' | 'qcow2';
export type Hypervisor = 'qemu' | 'firecracker';
export type Accel = 'auto' | 'kvm' | 'tcg';

export interface KernelConfig {
  /** An OSv release to download (e.g. "v0.57.0" or "latest"); exclusive with `path`. */
  version?: string;
  /** A loader.img, a loader-stripped.elf, or an OSv build directory (absolute host path). */
  path?: string;
  /** Expected sha256 (hex) of the kernel file. */
  sha256?: string;
  /** The kernel was built with conf_hide_symbols=1: it does not export libstdc++. */
  hiddenSymbols: boolean;
  source?: Source;
}

export type Network =
  | { kind: 'user' }
  | { kind: 'tap'; name: string }
  | { kind: 'bridge'; name: string }
  | { kind: 'none' };

export interface PortForward {
  host: number;
  guest: number;
  protocol: 'tcp' | 'udp';
  /** Host address to bind; default 127.0.0.1. */
  hostAddress?: string;
  source?: Source;
}

/** A disk image of the user's own, attached as it is (osv-up neither formats nor mounts it). */
export interface DiskVolume {
  kind: 'disk';
  /** Absolute host path of a disk image. */
  path: string;
  format?: ImageFormat;
  readonly: boolean;
  source?: Source;
}

/**
 * A volume osv-up keeps for the project: an ext4 file system created on first use in the
 * per-project data directory (src/volumes/), attached as a disk and mounted at `dest`.
 */
export interface NamedVolume {
  kind: 'named';
  /** Lowercase letters, digits and '-': a file name and a cluster name (DNS label). */
  name: string;
  /** Absolute, normalized guest directory it is mounted on. */
  dest: string;
  /** Bytes: the file system's size when it is created. */
  size: number;
  /** Absolute host directory whose contents a new volume starts with. */
  from?: string;
  /** The guest's writes go to a throwaway overlay: the volume never changes. */
  readonly: boolean;
  source?: Source;
}

/** A disk after the image: vblk1, vblk2, ... in the order of `run.volumes`. */
export type Volume = DiskVolume | NamedVolume;

export interface RunSettings {
  hypervisor: Hypervisor;
  /** Bytes. */
  memory: number;
  cpus: number;
  ports: PortForward[];
  accel: Accel;
  network: Network;
  /** Seconds; undefined = no limit. */
  timeout?: number;
  /** A regular expression (source text) the console must show (CI mode). */
  expect?: string;
  volumes: Volume[];
  /** Explicit QEMU binary. */
  qemu?: string;
  /** The x86 machine QEMU emulates: `pc` (default) or `q35`, KubeVirt's (PCIe, modern-only virtio). */
  machine?: Machine;
  /** Extra kernel options put before the program, e.g. ["--verbose"]. */
  kernelArgs: string[];
}

export interface ImageSettings {
  output: ImageOutput;
  format: ImageFormat;
  /** Extra free space (bytes) for writable filesystems (ext); undefined = fit the contents. */
  size?: number;
  /** Which built-in file systems /etc/fstab mounts, defaults already applied. */
  mounts: Mounts;
}

/** The mount points of OSv's built-in file systems (devfs, procfs, sysfs, a ramfs). */
export const PSEUDO_MOUNTS = ['/dev', '/proc', '/sys', '/tmp'] as const;
export type PseudoMount = (typeof PSEUDO_MOUNTS)[number];
export type Mounts = Record<PseudoMount, boolean>;

/** The default mounts: everything, except a ramfs /tmp over a writable ext root. */
export const defaultMounts = (fs: FilesystemKind): Mounts => ({ '/dev': true, '/proc': true, '/sys': true, '/tmp': fs === 'rofs' });

/** A program to put in the image. */
export interface ExecutableSpec {
  /** As written: a name looked up on PATH, or a host path (absolute after normalization). */
  src: string;
  /** `src` exactly as the configuration wrote it, for messages. */
  written?: string;
  /** Guest path; default `/<basename>`. */
  dest?: string;
  source: Source;
}

/** A library loaded with dlopen at run time. */
export interface LibrarySpec {
  /** A soname (`libssl.so.3`), an absolute host path, or a glob over host paths. */
  name: string;
  /** `name` exactly as the configuration wrote it, for messages. */
  written?: string;
  /** Guest directory or path; default `/usr/lib/<soname>`. */
  dest?: string;
  /** A library that may be absent: no error when it is not found. */
  optional: boolean;
  source: Source;
}

export type FileSpec =
  | {
      kind: 'copy';
      /** Absolute host path; may contain glob characters. A directory is copied as a tree. */
      src: string;
      /** `src` exactly as the configuration wrote it, for messages. */
      written?: string;
      dest: string;
      /** Glob patterns relative to `src`, excluded from a tree copy. */
      exclude: string[];
      mode?: number;
      /** A missing source is not an error. */
      optional: boolean;
      /** ELF objects copied get their library closure (default true). */
      resolve: boolean;
      source: Source;
    }
  | { kind: 'content'; dest: string; content: string; mode?: number; source: Source }
  | { kind: 'link'; dest: string; link: string; source: Source }
  | { kind: 'dir'; dest: string; mode?: number; source: Source };

/** A module pulled in by `modules`. */
export type ModuleSpec =
  | {
      kind: 'osv-up';
      name: string;
      /** Absolute directory holding osv.module.yaml. */
      dir: string;
      executables: ExecutableSpec[];
      libraries: LibrarySpec[];
      files: FileSpec[];
      env: Record<string, string>;
      /** Names of modules this one requires (already loaded, listed before it). */
      requires: string[];
      source: Source;
    }
  | {
      kind: 'osv-manifest';
      name: string;
      /** Absolute module directory holding usr.manifest (OSv's module layout). */
      dir: string;
      manifest: string;
      requires: string[];
      source: Source;
    };

/**
 * Where an image named by `from:` is mounted in the planner's view of the host: with `from:`,
 * `sysroot` is this path, and every path below it is a path inside the image.
 */
export const IMAGE_ROOT = '/@image';

/** The container image `from:` names. */
export interface FromImage {
  /** As written in osv.yaml: the key of its entry in osv.lock. */
  text: string;
  /** Parsed; a layout or archive path made absolute (relative to the file that wrote it). */
  reference: ImageReference;
  source: Source;
}

/** Which of a run's values came from the image config rather than from osv.yaml. */
export interface ImageDefaulted {
  cmd?: true;
  cwd?: true;
  /** Variables taken from the image's Env. */
  env?: string[];
}

/** The boot command and its context, for the default run or a named one. */
export interface RunConfig {
  /** argv; cmd[0] is a guest or host program (a name without slash is looked up on PATH). */
  cmd?: string[];
  env: Record<string, string>;
  cwd?: string;
  run: RunSettings;
  source?: Source;
  /** Set once the image's config has filled in what osv.yaml left out (from: only). */
  fromImage?: ImageDefaulted;
}

export interface Config {
  /** Absolute path of the root configuration file. */
  file: string;
  /** Its directory: the project root (`.osv/` lives here). */
  dir: string;
  name: string;
  arch: Arch;
  /** Absolute host directory in which host files and libraries are looked up (IMAGE_ROOT with `from`). */
  sysroot: string;
  /** The container image whose root is the sysroot. */
  from?: FromImage;
  filesystem: FilesystemKind;
  kernel: KernelConfig;
  image: ImageSettings;
  /** Extra library directories (inside the sysroot), searched like LD_LIBRARY_PATH. */
  libraryPath: string[];
  executables: ExecutableSpec[];
  libraries: LibrarySpec[];
  files: FileSpec[];
  modules: ModuleSpec[];
  vars: Record<string, string>;
  /** The default run (top-level cmd/env/cwd/run). */
  defaultRun: RunConfig;
  /** Named runs, already merged over the default run. */
  runs: Record<string, RunConfig>;
  /** Every file merged into this config, root last (extends chain), for cache keys and messages. */
  loadedFiles: string[];
  /** Values read from the host environment by `${env:NAME}`: shown as *** in everything printed (src/secrets.ts). */
  secrets: string[];
  /** JSON-pointer-ish key (`files/2/dest`) -> where it was written. */
  sources: Map<string, Source>;
}

/** Pick the run configuration: the named one, or the default. */
export function selectRun(config: Config, name?: string): { name: string; run: RunConfig } | undefined {
  if (name === undefined || name === 'default') return { name: 'default', run: config.runs['default'] ?? config.defaultRun };
  const run = config.runs[name];
  return run ? { name, run } : undefined;
}
