// `from:` in the task layer, where the effects are: which digest a build uses (osv.lock's, or
// the registry's answer now, pinned in the lock), getting that image into the cache, and
// opening it as the planner's view of the host with the image's config defaults applied.

import { ExitCode, OsvError, OsvErrors } from '../diagnostics/error.js';
import type { Config } from '../config/types.js';
import { IMAGE_ROOT } from '../config/types.js';
import { applyImageDefaults } from '../config/image-defaults.js';
import { nodeHostFs, type HostFs } from '../hostfs.js';
import { ContentStore, ociCacheDir } from '../oci/cache.js';
import type { Digest } from '../oci/digest.js';
import { lockedDigest, readImageLocks, writeImageLock } from '../oci/lock.js';
import { formatPlatform, platformFor } from '../oci/manifest.js';
import { ImageMountFs } from '../oci/mount.js';
import { isCached, openImage, pullImage, type OpenedImage, type PullProgress } from '../oci/pull.js';
import { openSource, type ImageSource } from '../oci/source.js';
import type { PlanImage } from '../plan/types.js';
import { plural } from '../units.js';

export interface ImageChoice {
  /** The manifest digest to build from. */
  digest: Digest;
  platform: string;
  /** Read from osv.lock (false: resolved now). */
  locked: boolean;
}

export interface ChooseOptions {
  env: NodeJS.ProcessEnv;
  /** --locked: a reference missing from osv.lock is an error, never resolved. */
  locked?: boolean;
  /** Resolve again even when locked (`osv pull`). */
  update?: boolean;
  /** Write what was resolved to osv.lock (builds and pulls do; `osv plan` does not). */
  writeLock: boolean;
  signal?: AbortSignal;
}

export const storeFor = (env: NodeJS.ProcessEnv): ContentStore => new ContentStore(ociCacheDir(env));

export async function sourceFor(config: Config, opts: { env: NodeJS.ProcessEnv; signal?: AbortSignal }): Promise<ImageSource> {
  return openSource(config.from!.reference, config.dir, { env: opts.env, ...(opts.signal ? { signal: opts.signal } : {}) });
}

/** The digest the build uses: osv.lock's entry, else the reference resolved now (and locked). */
export async function chooseImage(config: Config, opts: ChooseOptions): Promise<ImageChoice> {
  const from = config.from!;
  const platform = formatPlatform(platformFor(config.arch));
  const locks = readImageLocks(config.dir);
  if (!locks.ok) throw locks.error;
  const pinned = lockedDigest(locks.value, from.text, platform);
  if (pinned && !opts.update) return { digest: pinned, platform, locked: true };
  if (!pinned && opts.locked)
    throw new OsvError({
      code: 'oci.not-locked',
      message: `--locked: osv.lock has no digest for ${from.text} (${platform})`,
      hint: 'run `osv pull` and commit osv.lock',
      source: from.source,
      exitCode: ExitCode.invalidInput,
    });
  const source = await sourceFor(config, opts);
  const digest = await source.resolve(platformFor(config.arch));
  if (opts.writeLock) {
    const w = writeImageLock(config.dir, from.text, platform, digest);
    if (!w.ok) throw w.error;
  }
  return { digest, platform, locked: false };
}

/** The image in the cache, pulled first when it is not. */
export async function ensureImage(config: Config, choice: ImageChoice, opts: { env: NodeJS.ProcessEnv; progress?: PullProgress; signal?: AbortSignal }): Promise<void> {
  const store = storeFor(opts.env);
  if (isCached(store, choice.digest)) return;
  const source = await sourceFor(config, opts);
  await pullImage(source, choice.digest, platformFor(config.arch), store, opts.progress ?? {}, opts.signal);
}

export interface PreparedImage {
  image: OpenedImage;
  /** The host with the image mounted at the sysroot. */
  fs: HostFs;
  /** The configuration with the image's Entrypoint, Cmd, Env and WorkingDir filled in. */
  config: Config;
  plan: { plan: PlanImage; notes: string[] };
}

/**
 * For `osv plan`, `why`, `check`, `manifest`: the image the build would use (osv.lock's digest,
 * or the reference resolved now, not written to the lock: planning changes no project file),
 * pulled into the cache when missing (the cache is not the project's), opened.
 */
export async function imageForPlanning(config: Config, env: NodeJS.ProcessEnv): Promise<PreparedImage | undefined> {
  if (!config.from) return undefined;
  const choice = await chooseImage(config, { env, writeLock: false });
  await ensureImage(config, choice, {
    env,
    progress: {
      onManifest: (layers) => {
        const missing = layers.filter((l) => !l.cached).length;
        if (missing > 0) process.stderr.write(`osv: pulling ${config.from!.text}: ${missing} of ${plural(layers.length, 'layer')}\n`);
      },
    },
  });
  return prepareImage(config, choice, env);
}

/**
 * Planning errors about files of the image (a static or musl program, a script, a missing
 * library) name the image and the layer each such file comes from.
 */
export function withImageOrigins(e: unknown, fs: HostFs): unknown {
  const errors = e instanceof OsvErrors ? e.errors : e instanceof OsvError ? [e] : undefined;
  if (!errors) return e;
  const explained = errors.map((x) => {
    const paths = [...new Set([x.message, ...x.details].flatMap((t) => t.match(new RegExp(`${IMAGE_ROOT}/[^\\s,:;()'"]+`, 'g')) ?? []))];
    const lines = paths.flatMap((p) => {
      const o = fs.origin?.(p);
      return o ? [`${p.slice(IMAGE_ROOT.length)} is in the image ${o.image} (${o.digest}), layer ${o.layer} (${o.layerDigest})${o.path !== p.slice(IMAGE_ROOT.length) ? `, as ${o.path}` : ''}`] : [];
    });
    if (lines.length === 0) return x;
    return new OsvError({ code: x.code, message: x.message, details: [...x.details, ...lines], ...(x.hint ? { hint: x.hint } : {}), ...(x.source ? { source: x.source } : {}), exitCode: x.exitCode, cause: x });
  });
  return e instanceof OsvErrors ? new OsvErrors(explained) : explained[0];
}

/** Open a cached image for planning (no network). */
export function prepareImage(config: Config, choice: ImageChoice, env: NodeJS.ProcessEnv, host: HostFs = nodeHostFs): PreparedImage {
  const from = config.from!;
  const image = openImage(storeFor(env), choice.digest, from.text);
  const c = image.config;
  return {
    image,
    fs: new ImageMountFs(host, IMAGE_ROOT, image, from.text),
    config: applyImageDefaults(config, { ...(c.entrypoint ? { entrypoint: c.entrypoint } : {}), ...(c.cmd ? { cmd: c.cmd } : {}), env: c.env, ...(c.workingDir ? { workingDir: c.workingDir } : {}) }),
    plan: {
      plan: { reference: from.text, digest: choice.digest, platform: choice.platform, layers: image.record.layers.map((l) => ({ digest: l.digest, size: l.size })), exposedPorts: c.exposedPorts },
      notes: image.notes,
    },
  };
}
