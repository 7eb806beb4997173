// `osv push REF` of an up-to-date build, answered before the CLI proper is loaded, as
// fast-build.ts answers `osv build`: one CommonJS file (dist/fast-push.cjs) with the build check
// from the records, the image's assembly from layers made before, and the registry client, but
// neither commander nor the build's code, which dist/commands/push.cjs carries (its loading was
// about a fifth of a warm push's CPU). Whatever this path does not take goes on to that bundle,
// unchanged, before anything was pushed: a command line the start did not read as commander
// would, --force, a target that is not valid or not a registry, a build that is not up to date,
// named volumes (their seed images are made by the full path).

import { ContentStore, ociCacheDir } from '../oci/cache.js';
import { flushed } from '../output.js';
import { BlobsAhead } from '../oci/push.js';
import { RegistryClient } from '../oci/registry.js';
import { noopBuild } from '../tasks/noop.js';
import { builtFromNoop, hasNamedVolumes, lastPushedBlobs, parseTarget, pushBuilt, toRegistry } from '../tasks/push-built.js';
import type { ImageReference } from '../oci/reference.js';
import type { PushArgs } from './push-args.js';

/** True when the push was done (or failed and was reported); false: run the full CLI. */
export async function fastPush({ ref, options }: PushArgs, env: NodeJS.ProcessEnv = process.env): Promise<boolean> {
  if (options.force) return false;
  let target: ImageReference;
  try {
    target = parseTarget(ref);
  } catch {
    return false; // the full path reports it
  }
  // Registries only: a layout or an archive is written by the full path (with the tar and zstd readers it needs).
  if (target.transport !== 'registry') return false;
  // The first requests go out before the build check, which holds the thread, so that the
  // registry answers meanwhile: those for the blobs this image's last push sent (most likely the
  // same), which log in as they go, or else a login of its own, as on the full path.
  const client = new RegistryClient(target.registry, { env });
  let ahead: BlobsAhead | undefined;
  const sendAhead = async (image: string): Promise<void> => {
    const digests = lastPushedBlobs(image);
    if (digests.length === 0) {
      void client.prepare(target.repository);
      return;
    }
    ahead = new BlobsAhead(client, target.repository, digests, new ContentStore(ociCacheDir(env)));
  };
  // The check pauses now and then: the lookups, connections, TLS handshakes and requests
  // progress meanwhile (a registry named by IP on loopback needs only the first pause).
  const pause = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
  // -C as commander applies it; on a miss the full CLI applies it again, from where osv started.
  const started = process.cwd();
  let noop;
  try {
    if (options.dir !== undefined) process.chdir(options.dir);
    noop = await noopBuild({ ...options, output: 'disk', format: 'qcow2' }, env, { beforeCheck: sendAhead, pause });
  } catch {
    noop = undefined; // the full path meets the same problem and reports it
  }
  try {
    if (!noop || hasNamedVolumes(noop.record)) {
      process.chdir(started);
      return false;
    }
    await pushBuilt(target, builtFromNoop(noop), noop.record, options, { env, client, deliver: toRegistry(target, client, env, ahead) });
  } catch (e) {
    const { reportFailure } = await import('./render.js');
    process.exitCode = reportFailure(e, Boolean(options.json));
  } finally {
    await ahead?.release();
  }
  await flushed();
  return true;
}
