// The record written next to each built image (<image>.build.json): what the build read and
// produced. The build uses it to skip unchanged work; `osv run IMAGE` reads the command line
// and the kernel of a `disk` image from it (such an image carries neither).

import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { KernelBundle } from '../kernel/types.js';

export const RECORD_VERSION = 2;

export interface BuildRecord {
  version: number;
  /** Hash of everything that is not a host file: config, kernel, layout, format, tool version. */
  key: string;
  /** What the planner saw of the host: [op, path, observation]. */
  observations: Array<[string, string, string]>;
  /** The environment variables the planner read (PATH for bare program names...), null = unset. */
  env: Array<[string, string | null]>;
  image: { path: string; size: number; mtimeMs: number };
  cmdline: string;
  kernel: KernelBundle;
  totals: { files: number; bytes: number; libraries: number };
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

export function writeRecord(image: string, r: BuildRecord): void {
  const tmp = `${recordPath(image)}.tmp-${process.pid}`;
  writeFileSync(tmp, JSON.stringify(r) + '\n');
  renameSync(tmp, recordPath(image));
}
