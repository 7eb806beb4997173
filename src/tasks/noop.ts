// The no-op build without loading the configuration. A build records, beside the image, every
// input of the configuration step itself: the files the loader read (with what it saw of them),
// the configuration file names discovery looked for, the kernel files, and the environment
// variables that were read. When all of them still hold, the configuration would load the same,
// so only the image's own record (the planner's inputs) is left to check. This skips YAML, the
// schema and the task runner: what remains is Node's start-up and a few hundred stats.

import { readFileSync } from 'node:fs';
import { ensureOwnDir, writeFileAtomic } from '../atomic.js';
import { dirname, join, resolve } from 'node:path';
import { discoverConfig, SEARCH_PLACES } from '../config/discover.js';
import type { Config, ImageFormat, ImageOutput } from '../config/types.js';
import { nodeHostFs } from '../hostfs.js';
import type { KernelBundle } from '../kernel/types.js';
import { lockPath } from '../kernel/lock.js';
import { recordedRunFor, useRun, type BuildRecord, type RecordedRun } from '../image/record.js';
import { toolVersion } from '../version.js';
import type { BuildOutcome } from './build.js';
import { firstChange, firstChangePausing, RecordingHostFs, type Observation } from './fingerprint.js';
import { changedEnv, recordedBuild } from './build-cache.js';
import { fnv1a64 } from '../fnv.js';

const VERSION = 3;

export interface NoopRecord {
  version: number;
  image: string;
  output: string;
  format: string;
  /** The run asked for; its command line and VM settings are in the image's build record. */
  run: string;
  /** The build key of the image then: a record with another key is another build (another -o user, say). */
  key: string;
  env: Array<[string, string | null]>;
  observations: Array<[string, string, Observation]>;
}

/** The flags that choose what is built; with the config file, they name the record. */
export interface NoopFlags {
  run?: string;
  out?: string;
  format?: string;
  output?: string;
  check?: boolean;
}

/** An environment that remembers which variables were read; enumerating it spoils the record. */
export function recordingEnv(env: NodeJS.ProcessEnv): { env: NodeJS.ProcessEnv; read(): Array<[string, string | null]> | undefined } {
  const seen = new Map<string, string | null>();
  let enumerated = false;
  const proxy = new Proxy(env, {
    get(target, key) {
      const v = Reflect.get(target, key) as string | undefined;
      if (typeof key === 'string') seen.set(key, v ?? null);
      return v;
    },
    has(target, key) {
      if (typeof key === 'string') seen.set(key, (Reflect.get(target, key) as string | undefined) ?? null);
      return Reflect.has(target, key);
    },
    ownKeys(target) {
      enumerated = true;
      return Reflect.ownKeys(target);
    },
  });
  return { env: proxy, read: () => (enumerated ? undefined : [...seen.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1))) };
}

/** Where the no-op record of this configuration file and these flags lives. */
export function noopPath(configFile: string, flags: NoopFlags, toolVersion: string): string {
  const h = fnv1a64(JSON.stringify([VERSION, toolVersion, configFile, flags.run ?? null, flags.out ?? null, flags.format ?? null, flags.output ?? null, flags.check !== false]));
  return join(dirname(configFile), '.osv', `noop-${h}.json`);
}

/** The no-op record at `file`, when there is one this version of the record's format wrote. */
function readNoop(file: string): NoopRecord | undefined {
  let front: NoopRecord;
  try {
    front = JSON.parse(readFileSync(file, 'utf8')) as NoopRecord;
  } catch {
    return undefined;
  }
  return front.version === VERSION ? front : undefined;
}

/**
 * The image's build record when nothing the build reads has changed; undefined otherwise.
 * `pause`: see NoopHooks.
 */
export async function noopHit(front: NoopRecord, env: NodeJS.ProcessEnv, pause?: () => Promise<void>): Promise<{ record: BuildRecord; run: RecordedRun } | undefined> {
  const changed = (observations: NoopRecord['observations']): Promise<string | undefined> =>
    pause ? firstChangePausing(nodeHostFs, observations, pause) : Promise.resolve(firstChange(nodeHostFs, observations));
  if (changedEnv(front.env, env) !== undefined) return undefined;
  if ((await changed(front.observations)) !== undefined) return undefined;
  const image = recordedBuild(front.image, undefined, env);
  // The image may have been rebuilt since with other flags or another configuration writing
  // the same file: only the build this record saw answers.
  if (!('record' in image) || image.record.key !== front.key) return undefined;
  if ((await changed(image.record.observations)) !== undefined) return undefined;
  const run = recordedRunFor(image.record, front.run, front.output);
  return run ? { record: image.record, run } : undefined;
}

/** What a caller with requests on their way (osv push) needs of the no-op check. */
export interface NoopHooks {
  /** Told the image the records name, before the check: the push sends its first requests for that image's blobs. */
  beforeCheck?: (image: string) => Promise<void>;
  /** Awaited now and then during the check (a few hundred stats), so that those requests progress meanwhile. */
  pause?: () => Promise<void>;
}

/** The last build, when nothing it read has changed, found without loading the configuration. */
export async function noopBuild(
  opts: NoopFlags & { config?: string; force?: boolean },
  env: NodeJS.ProcessEnv,
  hooks: NoopHooks = {},
): Promise<{ outcome: BuildOutcome; record: BuildRecord; run: RecordedRun } | undefined> {
  if (opts.force) return undefined;
  // Date.now, not performance.now: the `performance` global loads perf_hooks (2 ms here).
  const started = Date.now();
  const cwd = process.cwd();
  const file = opts.config !== undefined ? resolve(cwd, opts.config) : await discoverConfig(cwd);
  if (file === undefined) return undefined;
  const front = readNoop(noopPath(file, opts, toolVersion()));
  if (!front) return undefined;
  await hooks.beforeCheck?.(front.image);
  const hit = await noopHit(front, env, hooks.pause);
  if (!hit) return undefined;
  const { run } = hit;
  // A run the symbol check has not passed yet takes the full path, which checks it.
  if (opts.check !== false && !run.checked) return undefined;
  // The record as it now is on disk (naming this run), for what reads it next (osv push).
  const record = useRun(front.image, hit.record, run.name);
  const outcome: BuildOutcome = {
    image: front.image,
    output: front.output as ImageOutput,
    format: front.format as ImageFormat,
    filesystem: record.filesystem,
    project: record.project,
    cmdline: run.cmdline,
    kernel: record.kernel,
    key: record.key,
    upToDate: true,
    fromRecords: true,
    totals: record.totals,
    ...(record.from ? { exposedPorts: record.from.exposedPorts } : {}),
    ms: Date.now() - started,
    secrets: record.secrets ?? [],
  };
  return { outcome, record, run };
}

/** After a build: what the configuration step read, for the next no-op. */
export function writeNoop(
  file: string,
  r: {
    image: string;
    output: string;
    format: string;
    config: Config;
    run: string;
    key: string;
    kernel: KernelBundle;
    configReads: RecordingHostFs;
    env: Array<[string, string | null]> | undefined;
    discovered: boolean;
    cwd: string;
  },
): void {
  if (!r.env) return; // the environment was enumerated: no safe summary of what mattered
  const fs = r.configReads;
  // Discovery: a file appearing earlier in the search order would be found instead.
  if (r.discovered) for (const name of SEARCH_PLACES) fs.lstat(join(r.cwd, name));
  for (const p of [r.kernel.elf, r.kernel.img, r.kernel.libenviron, r.kernel.ext?.libext, r.kernel.ext?.liblwext4, lockPath(r.config.dir)]) if (p) fs.stat(p);
  const front: NoopRecord = {
    version: VERSION,
    image: r.image,
    output: r.output,
    format: r.format,
    run: r.run,
    key: r.key,
    env: r.env,
    observations: fs.observations(),
  };
  try {
    ensureOwnDir(dirname(file));
    // 0600: the environment it records may hold secrets (docs/security.md).
    writeFileAtomic(file, JSON.stringify(front) + '\n', { mode: 0o600 });
  } catch {
    // only an optimisation: the next build takes the full path
  }
}
