// The plan: the complete, sorted list of what goes into the image, each entry with the reasons
// it is there. Pure data, produced by src/plan/ without writing anything.

import type { Arch, FilesystemKind, ImageFormat, ImageOutput, RunConfig } from '../config/types.js';
import type { Source } from '../diagnostics/error.js';
import type { ImageOrigin } from '../hostfs.js';
import type { SearchRule } from '../resolve/types.js';

/** Why an entry is in the image. */
export type Provenance =
  /**
   * Declared in a configuration file (`key` like `files[2]`, `cmd`, `executables[0]`,
   * `runs.test.cmd`). `detail` says how, within that declaration (`tree /usr/lib/python3.11`).
   */
  | { kind: 'config'; key: string; source?: Source; detail?: string }
  /**
   * A library some object needs (DT_NEEDED), found by `rule`; chain = sonames from the root.
   * `declaredBy` is the provenance of the root the chain starts at.
   */
  | { kind: 'needed'; by: string; chain: string[]; rule: SearchRule; tried: string[]; declaredBy?: Provenance }
  /** Declared by a module (`key` in its osv.module.yaml, or its usr.manifest with `source` at the line). */
  | { kind: 'module'; module: string; key?: string; source?: Source; detail?: string }
  /** Part of OSv's root filesystem skeleton. */
  | { kind: 'skeleton'; reason: string }
  /** Comes with the kernel bundle (libenviron.so). */
  | { kind: 'kernel'; reason: string }
  /** A parent directory of another entry. */
  | { kind: 'parent'; of: string };

interface EntryBase {
  /** Absolute, normalized guest path. */
  guest: string;
  why: Provenance[];
}

/** A regular file copied from the host. Discriminate from InlineFileEntry with `'host' in e` (or `e.content === undefined`). */
export interface HostFileEntry extends EntryBase {
  kind: 'file';
  /** Absolute real host path to copy (symlinks already followed). */
  host: string;
  size: number;
  /** Host metadata for incremental-build keys. */
  mtimeMs: number;
  ino: number;
  /** Permission bits to give the file; undefined = the image writer's default. */
  mode?: number;
  content?: undefined;
  /** A file of the container image `from:` names: which image and layer it comes from. */
  origin?: ImageOrigin;
}

/**
 * A regular file whose bytes the planner generated (skeleton /etc/fstab, /etc/hosts): there is
 * no host file. `size === content.byteLength`. The content itself is the incremental-build key.
 */
export interface InlineFileEntry extends EntryBase {
  kind: 'file';
  content: Uint8Array;
  size: number;
  mode?: number;
  host?: undefined;
}

export type FileEntry = HostFileEntry | InlineFileEntry;
export type DirEntry = EntryBase & { kind: 'dir'; mode?: number };
/** `target` is stored verbatim (relative or absolute guest path), never checked. */
export type SymlinkEntry = EntryBase & { kind: 'symlink'; target: string };

export type PlanEntry = FileEntry | DirEntry | SymlinkEntry;

export const isInlineFile = (e: PlanEntry): e is InlineFileEntry => e.kind === 'file' && e.content !== undefined;
export const isHostFile = (e: PlanEntry): e is HostFileEntry => e.kind === 'file' && e.content === undefined;

export interface KernelRef {
  /** As configured: a version to fetch, or a local path. Resolved to files by src/kernel/. */
  version?: string;
  path?: string;
  sha256?: string;
  hiddenSymbols: boolean;
}

export interface PlannedRun {
  name: string;
  /** The full OSv command line, `--rootfs=...` first. */
  cmdline: string;
  run: RunConfig;
}

export interface KernelProvidedLibrary {
  soname: string;
  /** Host file the resolver found (what would have been shipped). */
  host: string;
  /** Sonames back to the root that needed it, first chain seen. */
  chain: string[];
}

export interface PlanTotals {
  files: number;
  dirs: number;
  symlinks: number;
  bytes: number;
  libraries: number;
}

/** The container image `from:` names, as the plan used it. */
export interface PlanImage {
  /** As osv.yaml writes it. */
  reference: string;
  /** The manifest digest (what osv.lock pins). */
  digest: string;
  platform: string;
  layers: Array<{ digest: string; size: number }>;
  /** The config's ExposedPorts (`80/tcp`): `osv up -P` forwards them. */
  exposedPorts: string[];
}

export interface Plan {
  name: string;
  /** The image the sysroot is (from:). */
  image?: PlanImage;
  arch: Arch;
  filesystem: FilesystemKind;
  output: ImageOutput;
  format: ImageFormat;
  /** Sorted by guest path (byte order); parents before children. */
  entries: PlanEntry[];
  kernel: KernelRef;
  /** The selected run (default unless --run). */
  run: PlannedRun;
  /** Every named run's command line (for `osv plan` and named-run builds). */
  runs: PlannedRun[];
  totals: PlanTotals;
  /** Libraries the closure needs that the OSv kernel provides: not shipped, listed for explanations. */
  kernelProvided: KernelProvidedLibrary[];
  /** Non-fatal findings (optional library missing, ...). */
  warnings: string[];
  /** The configuration's secrets (values from `${env:NAME}`): printers mask them (src/secrets.ts). */
  secrets: string[];
}
