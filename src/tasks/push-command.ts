// `osv push REF`: build the project as a kernel-less qcow2 disk when needed (incrementally, like
// `osv up`), then push it (push-built.ts). An up-to-date build of a project without named
// volumes is pushed by the fast path (cli/fast-push.ts) before this is loaded; this is the path
// that builds, and that pushes named volumes' seed images (push-volumes.ts).

import { resolve } from 'node:path';
import { checkReplaceable } from '../atomic.js';
import { formatReference, type ImageReference } from '../oci/reference.js';
import type { RegistryClient } from '../oci/registry.js';
import { toolVersion } from '../version.js';
import { buildFromFlags } from './build-command.js';
import { noopBuild } from './noop.js';
import { builtFromNoop, parseTarget, pushBuilt, pushedRecord, toRegistry, type Built, type Deliver, type PushCommandOptions, type VolumeStep } from './push-built.js';
import { reportMode } from './report.js';

export { parseTarget, pushRecordPath, type PushCommandOptions, type PushRecord } from './push-built.js';

/** Seed images for named volumes: pushed only to a registry (a cluster imports them from there). */
const volumeStep: VolumeStep = async ({ target, record, built, store, env, client, log }) => {
  if (target.transport !== 'registry') {
    log(`osv: note: the named volumes' seed images are pushed only to a registry (a cluster imports them from there); ${formatReference(target)} gets the application alone`);
    return { seeds: new Map(), seedOf: () => undefined };
  }
  const { pushVolumeSeeds, seedKey } = await import('./push-volumes.js');
  const seeds = await pushVolumeSeeds(target, record.runs, { tool: toolVersion(), arch: built.arch, app: built.name, store, env, ...(client ? { client } : {}) });
  return { seeds, seedOf: (v) => seeds.get(seedKey(v)) };
};

/** Where the image goes: a registry (through `client`), an OCI layout directory or an oci-archive tarball. */
function deliverTo(target: ImageReference, env: NodeJS.ProcessEnv, client: RegistryClient | undefined): Deliver {
  if (target.transport === 'registry') return toRegistry(target, client!, env);
  const label = formatReference(target);
  return async (img) => {
    const { writeLayoutArchive, writeLayoutDir } = await import('../oci/layout-writer.js');
    if (target.transport === 'oci') return writeLayoutDir(resolve(target.path), target.tag, img, label);
    return writeLayoutArchive(resolve(target.path), target.transport === 'oci-archive' ? target.tag : undefined, img, label);
  };
}

export async function pushCommand(targetText: string, opts: PushCommandOptions, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const target = parseTarget(targetText);
  // A local destination that cannot be written is said before anything is built.
  if (target.transport === 'oci') (await import('../oci/layout-writer.js')).checkLayoutDir(resolve(target.path));
  if (target.transport === 'oci-archive') checkReplaceable(resolve(target.path));
  // Connecting and logging in to the registry overlaps with the build check and the layers.
  let client: RegistryClient | undefined;
  if (target.transport === 'registry') {
    const { RegistryClient } = await import('../oci/registry.js');
    client = new RegistryClient(target.registry, { env });
    void client.prepare(target.repository);
  }
  // The image holds the disk without a kernel (KubeVirt boots the kernel from /boot) as qcow2.
  // An unchanged build is found from its records alone, as `osv build` finds it.
  const flags = { ...opts, output: 'disk', format: 'qcow2' };
  const noop = await noopBuild(flags, env);
  const built: Built = noop
    ? builtFromNoop(noop)
    : await buildFromFlags({ ...flags, ...(reportMode(opts, env) === 'plain' ? { quiet: true } : {}) }, env, { reporterOut: process.stderr }).then((b) => ({ outcome: b.outcome, arch: b.config.arch, dir: b.config.dir, name: b.config.name }));
  await pushBuilt(target, built, noop?.record ?? pushedRecord(built.outcome), opts, { env, deliver: deliverTo(target, env, client), ...(client ? { client } : {}), volumes: volumeStep });
}
