// The build record kept next to each image (.osv/<image>.build.json): what the last build read
// and produced. A build whose key and observations still hold is a no-op.

import { readFileSync, statSync, writeFileSync, renameSync } from 'node:fs';
import type { Config } from '../config/types.js';
import type { KernelBundle } from '../kernel/types.js';
import { nodeHostFs, type HostFs } from '../hostfs.js';
import { firstChange, sha256, type Observation } from './fingerprint.js';

const RECORD_VERSION = 1;

export interface BuildRecord {
  version: number;
  /** Hash of everything that is not a host file: config, kernel, layout, format, tool version. */
  key: string;
  /** What the planner saw of the host. */
  observations: Array<[string, string, Observation]>;
  image: { path: string; size: number; mtimeMs: number };
  cmdline: string;
  kernel: KernelBundle;
  totals: { files: number; bytes: number; libraries: number };
}

export const recordPath = (image: string): string => `${image}.build.json`;

/** Config as stable JSON: Maps (source positions) left out, they do not change the image. */
function configJson(config: Config): string {
  return JSON.stringify(config, (k, v: unknown) => (v instanceof Map ? undefined : k === 'source' ? undefined : v));
}

export interface KeyInput {
  config: Config;
  kernel: KernelBundle;
  run: string;
  output: string;
  format: string;
  toolVersion: string;
  /** Contents of every configuration file that was merged (templates and modules too). */
  configTexts: string[];
}

export function buildKey(k: KeyInput): string {
  return sha256(
    String(RECORD_VERSION),
    k.toolVersion,
    configJson(k.config),
    ...k.configTexts,
    k.kernel.sha256,
    // A bootable image embeds loader.img; libenviron.so is shipped: both are inputs too.
    k.kernel.sha256s?.img ?? k.kernel.img ?? '',
    k.kernel.sha256s?.libenviron ?? k.kernel.libenviron ?? '',
    k.run,
    k.output,
    k.format,
  );
}

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

/** Why the image must be rebuilt, or undefined when the last build still stands. */
export function staleReason(image: string, key: string, fs: HostFs = nodeHostFs): { reason: string } | { record: BuildRecord } {
  const r = readRecord(image);
  if (!r) return { reason: 'no previous build' };
  let st;
  try {
    st = statSync(image);
  } catch {
    return { reason: 'the image is missing' };
  }
  if (st.size !== r.image.size || st.mtimeMs !== r.image.mtimeMs) return { reason: 'the image was changed outside osv' };
  if (r.key !== key) return { reason: 'the configuration, kernel or build options changed' };
  const changed = firstChange(fs, r.observations);
  if (changed !== undefined) return { reason: `${changed} changed` };
  return { record: r };
}
