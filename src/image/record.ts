// The record written next to each built image (<image>.build.json): what the build read and
// produced. The build uses it to skip unchanged work; `osv run IMAGE` reads the command line
// and the kernel of a `disk` image from it (such an image carries neither).

import { readFileSync } from 'node:fs';
import { writeFileAtomic } from '../atomic.js';
import type { Arch, FilesystemKind, RunSettings } from '../config/types.js';
import type { KernelBundle } from '../kernel/types.js';

export const RECORD_VERSION = 4;

/** A run of the configuration as `osv run --run NAME` boots it: its command line and VM settings. */
export interface RecordedRun {
  name: string;
  cmdline: string;
  /** The VM settings (the kernel options are in the command line already). */
  settings: Omit<RunSettings, 'kernelArgs'>;
  /** The symbol check passed for this run's programs (it judges the other runs' more leniently). */
  checked?: boolean;
}

export interface BuildRecord {
  version: number;
  /** Hash of everything that is not a host file: config, kernel, layout, format, tool version. */
  key: string;
  /** What the planner saw of the host: [op, path, observation]. */
  observations: Array<[string, string, string]>;
  /** The environment variables the planner read (PATH for bare program names...), null = unset. */
  env: Array<[string, string | null]>;
  image: { path: string; size: number; mtimeMs: number };
  /** The command line of `run` (the one a bootable image carries). */
  cmdline: string;
  /** The run the image was built for. */
  run: string;
  /** Every run of the configuration: a `disk` image serves them all. */
  runs: RecordedRun[];
  arch: Arch;
  /** The configuration file and its directory, the project (named volumes belong to it). */
  project: { dir: string; config: string };
  /** The root file system: a run attaches a ROFS root read-only, an ext root through a throwaway overlay. */
  filesystem: FilesystemKind;
  kernel: KernelBundle;
  totals: { files: number; bytes: number; libraries: number };
  /** With `from:`: the image's manifest digest and its ExposedPorts (`osv up -P`). */
  from?: { reference: string; digest: string; exposedPorts: string[] };
  /** Values from `${env:NAME}` in the command lines above: masked when printed (src/secrets.ts). */
  secrets?: string[];
}

export const recordPath = (image: string): string => `${image}.build.json`;

export function readRecord(image: string): BuildRecord | undefined {
  try {
    const r = JSON.parse(readFileSync(recordPath(image), 'utf8')) as BuildRecord;
    return r.version === RECORD_VERSION ? r : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The recorded run to boot as `name`: a `disk` image serves every run of its configuration (the
 * command line is given to the hypervisor); a bootable one only the run written into it.
 */
export function recordedRunFor(r: BuildRecord, name: string, output: string): RecordedRun | undefined {
  if (output === 'bootable' && r.run !== name) return undefined;
  return r.runs.find((x) => x.name === name);
}

/**
 * Make `name` the record's current run (what `osv run` boots without --run), marking it
 * checked when it has just passed the symbol check. Writes only when something changes.
 */
export function useRun(image: string, r: BuildRecord, name: string, checked = false): BuildRecord {
  const run = r.runs.find((x) => x.name === name);
  if (!run || (r.run === name && (!checked || run.checked))) return r;
  const next: BuildRecord = { ...r, run: name, cmdline: run.cmdline, runs: r.runs.map((x) => (x.name === name && checked ? { ...x, checked: true } : x)) };
  writeRecord(image, next);
  return next;
}

export function writeRecord(image: string, r: BuildRecord): void {
  // 0600: the command lines and environment it records may hold secrets (docs/security.md).
  writeFileAtomic(recordPath(image), JSON.stringify(r) + '\n', { mode: 0o600 });
}
