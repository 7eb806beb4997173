// When the last build still stands: its key and every observation of the host still hold.

import { statSync } from 'node:fs';
import type { Config } from '../config/types.js';
import type { KernelBundle } from '../kernel/types.js';
import { nodeHostFs, type HostFs } from '../hostfs.js';
import { firstChange, sha256 } from './fingerprint.js';
import { readRecord, RECORD_VERSION, type BuildRecord } from '../image/record.js';

export { readRecord, writeRecord, recordPath, type BuildRecord } from '../image/record.js';

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
  /** With `from:`: the image's manifest digest (it stands for every file of the image). */
  image?: string;
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
    k.image ?? '',
  );
}

/**
 * The last build's record, unless the image, the key or an environment variable it read has
 * changed since. `key` undefined: the caller has already shown that everything the key covers
 * is unchanged (the no-op records of noop.ts). The planner's inputs are left to the caller.
 */
export function recordedBuild(image: string, key: string | undefined, env: NodeJS.ProcessEnv): { reason: string } | { record: BuildRecord } {
  const r = readRecord(image);
  if (!r) return { reason: 'no previous build' };
  let st;
  try {
    st = statSync(image);
  } catch {
    return { reason: 'the image is missing' };
  }
  if (st.size !== r.image.size || st.mtimeMs !== r.image.mtimeMs) return { reason: 'the image was changed outside osv' };
  if (key !== undefined && r.key !== key) return { reason: 'the configuration, kernel or build options changed' };
  const envChange = changedEnv(r.env, env);
  if (envChange !== undefined) return { reason: `$${envChange} changed` };
  return { record: r };
}

/** Why the image must be rebuilt (a reason), or the record of the last build when it still stands. */
export function staleReason(image: string, key: string | undefined, env: NodeJS.ProcessEnv, fs: HostFs = nodeHostFs): { reason: string } | { record: BuildRecord } {
  const recorded = recordedBuild(image, key, env);
  if (!('record' in recorded)) return recorded;
  const changed = firstChange(fs, recorded.record.observations);
  if (changed !== undefined) return { reason: `${changed} changed` };
  return recorded;
}

/** The first recorded environment variable whose value is no longer the same. */
export function changedEnv(recorded: Array<[string, string | null]>, env: NodeJS.ProcessEnv): string | undefined {
  for (const [k, v] of recorded) if ((env[k] ?? null) !== v) return k;
  return undefined;
}
