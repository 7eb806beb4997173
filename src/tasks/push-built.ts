// The second half of `osv push`: a build that is done (built now, or found up to date) made into
// the OCI image of its disk and kernel and sent to a registry, an OCI layout directory or an
// oci-archive tarball. Prints the pushed digest (with --json, every blob and what happened to
// it) and records the push in .osv/<name>.push.json for `osv export kubevirt`. It never builds:
// so that the fast path (cli/fast-push.ts) can push an up-to-date build without loading the
// build's code. Named volumes' seed images come in through `volumes` (push-volumes.ts, with the
// seed disk writers, is loaded only for a project that has them).

import { readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { writeFileAtomic } from '../atomic.js';
import type { Arch, NamedVolume } from '../config/types.js';
import { ExitCode, OsvError } from '../diagnostics/error.js';
import { readRecord, type BuildRecord, type RecordedRun } from '../image/record.js';
import { ContentStore, ociCacheDir } from '../oci/cache.js';
import { isDigest, shortDigest, type Digest } from '../oci/digest.js';
import { diskPathFor, KERNEL_PATH, type OsvImageMeta, type PortableRun, type VolumeSeed } from '../oci/osv-image.js';
import type { AssembledImage, BlobsAhead, PushResult } from '../oci/push.js';
import { formatReference, parseReference, type ImageReference, type RegistryReference } from '../oci/reference.js';
import type { RegistryClient } from '../oci/registry.js';
import { writeStderr, writeStdout } from '../output.js';
import { formatBytes } from '../units.js';
import { toolVersion } from '../version.js';
import type { BuildOutcome } from './build.js';
import type { PushedSeed } from './push-volumes.js';

export interface PushCommandOptions {
  config?: string;
  run?: string;
  check?: boolean;
  force?: boolean;
  locked?: boolean;
  json?: boolean;
  quiet?: boolean;
}

/** What `osv export kubevirt` reads when no REF is given. */
export interface PushRecord {
  version: 1;
  /** The target as pushed (registry/repo:tag, oci:DIR:TAG...). */
  target: string;
  /** The registry reference pinned by digest (registry targets only). */
  reference?: string;
  digest: Digest;
  /** The digests of the image's layers and config: what the next push of this image most likely sends again. */
  blobs?: Digest[];
}

export const pushRecordPath = (projectDir: string, name: string): string => join(projectDir, '.osv', `${name}.push.json`);

const usage = (message: string, hint?: string): OsvError => new OsvError({ code: 'push.usage', message, ...(hint ? { hint } : {}), exitCode: ExitCode.usage });

/** A push target: a registry reference with a tag (never a digest), oci:DIR[:TAG] or oci-archive:FILE[:TAG]. */
export function parseTarget(text: string): ImageReference {
  const r = parseReference(text);
  if (!r.ok) throw usage(r.error, 'e.g. registry.example.com/team/app:1.0, oci:out/layout:1.0 or oci-archive:app.tar');
  const ref = r.value;
  if (ref.transport === 'docker-archive') throw usage(`osv push cannot write docker-archive: (${text})`, 'write oci-archive:FILE instead (skopeo and podman load it)');
  if (ref.transport === 'registry' && ref.digest) throw usage(`${text} names a digest: a push names a tag, and the digest is what the push prints`, 'leave out @sha256:…');
  return ref;
}

/** The build that is pushed: its outcome, and the project it belongs to. */
export interface Built {
  outcome: BuildOutcome;
  arch: Arch;
  dir: string;
  name: string;
}

/** The project an image of the default path belongs to (build.ts's defaultImagePath, inverted). */
const projectOf = (image: string): { dir: string; name: string } => ({ dir: dirname(dirname(image)), name: basename(image).replace(/\.(img|qcow2)$/, '') });

/** An up-to-date build found from its records: the project is where its image is. */
export function builtFromNoop(noop: { outcome: BuildOutcome; record: BuildRecord }): Built {
  return { outcome: noop.outcome, arch: noop.record.arch, ...projectOf(noop.outcome.image) };
}

/** The layer and config digests the last push of `image` recorded (none when it has no record, or one without them). */
export function lastPushedBlobs(image: string): Digest[] {
  const { dir, name } = projectOf(image);
  try {
    const rec = JSON.parse(readFileSync(pushRecordPath(dir, name), 'utf8')) as Partial<PushRecord>;
    return Array.isArray(rec.blobs) ? rec.blobs.filter(isDigest) : [];
  } catch {
    return [];
  }
}

/** The build record beside the image (its runs and settings go into the image's labels). */
export function pushedRecord(outcome: BuildOutcome): BuildRecord {
  const record = readRecord(outcome.image);
  if (!record) throw new OsvError({ code: 'push.no-record', message: `${outcome.image} has no build record beside it`, hint: 'rebuild with `osv build --format qcow2 --force`', exitCode: ExitCode.buildFailed });
  return record;
}

export const hasNamedVolumes = (record: BuildRecord): boolean => record.runs.some((r) => r.settings.volumes.some((v) => v.kind === 'named'));

/** Named volumes' seeds, pushed before the application (push-volumes.ts). */
export interface PushedVolumes {
  seeds: Map<string, PushedSeed>;
  seedOf(v: NamedVolume): VolumeSeed | undefined;
}

export type VolumeStep = (ctx: { target: ImageReference; record: BuildRecord; built: Built; store: ContentStore; env: NodeJS.ProcessEnv; client?: RegistryClient; log(s: string): void }) => Promise<PushedVolumes>;

function portableRun(r: RecordedRun, seedOf: (v: NamedVolume) => VolumeSeed | undefined): PortableRun {
  const s = r.settings;
  // Named volumes are described; disk images of this machine are not part of the image at all.
  const named = s.volumes.flatMap((v) => (v.kind === 'named' ? [v] : []));
  return {
    name: r.name,
    cmdline: r.cmdline,
    settings: {
      memory: s.memory,
      cpus: s.cpus,
      ports: s.ports,
      ...(s.timeout !== undefined ? { timeout: s.timeout } : {}),
      ...(s.expect !== undefined ? { expect: s.expect } : {}),
      ...(s.machine !== undefined ? { machine: s.machine } : {}),
      ...(named.length > 0 ? { volumes: named.map((v) => {
        const seed = seedOf(v);
        return { name: v.name, dest: v.dest, size: v.size, readonly: v.readonly, ...(seed ? { seed: { digest: seed.digest, path: seed.path } } : {}) };
      }) } : {}),
    },
  };
}

/** The version string in a kernel ELF, remembered by the kernel's sha256 (reading it costs a 7 MB scan). */
async function kernelVersion(store: ContentStore, sha: string, elf: string): Promise<string | undefined> {
  const memo = join(store.root, 'kernel-versions', `${sha}.txt`);
  try {
    return readFileSync(memo, 'utf8') || undefined;
  } catch {
    const { kernelVersionString } = await import('../kernel/version-string.js');
    const v = kernelVersionString(elf);
    try {
      store.writeFile(memo, v ?? '');
    } catch {
      // only a memo
    }
    return v;
  }
}

/** Sends the assembled image to the target (a registry, a layout, an archive). */
export type Deliver = (img: AssembledImage, store: ContentStore) => Promise<PushResult>;

export interface PushBuiltContext {
  env: NodeJS.ProcessEnv;
  deliver: Deliver;
  /** Logged in already (registry targets): made before the build check, so that the two overlap. */
  client?: RegistryClient;
  /** Needed when the record has named volumes. */
  volumes?: VolumeStep;
}

/** To a registry: the client was made (and logged in) before the build check, and `ahead` probed the blobs the last push sent. */
export const toRegistry = (target: RegistryReference, client: RegistryClient, env: NodeJS.ProcessEnv, ahead?: BlobsAhead): Deliver => async (img, store) => {
  const { pushToRegistry } = await import('../oci/push.js');
  return pushToRegistry(target, img, store, { env }, client, ahead);
};

export async function pushBuilt(target: ImageReference, built: Built, record: BuildRecord, opts: PushCommandOptions, ctx: PushBuiltContext): Promise<void> {
  const { env, client } = ctx;
  const log = (s: string): void => {
    if (!opts.json && !opts.quiet) writeStderr(s + '\n');
  };
  const { outcome } = built;
  log(`osv: ${outcome.upToDate ? 'image up to date' : 'built'} ${outcome.image} (${outcome.totals.files} files, ${formatBytes(outcome.totals.bytes)})`);
  const elf = outcome.kernel.elf;
  if (!elf) throw new OsvError({ code: 'push.no-kernel-elf', message: 'the kernel bundle has no loader-stripped.elf, which KubeVirt and `osv run REF` boot directly', hint: 'point kernel.path (or OSV_KERNEL) at an OSv build directory or at loader-stripped.elf', exitCode: ExitCode.invalidInput });
  const { cachedSha256 } = await import('../kernel/hash.js');
  const store = new ContentStore(ociCacheDir(env));
  const kernelSha = outcome.kernel.sha256s?.elf ?? cachedSha256(elf, env);
  const version = outcome.kernel.tag ?? outcome.kernel.version ?? (await kernelVersion(store, kernelSha, elf));
  // Named volumes: their seed images first, so that the application's labels name them by digest.
  let volumes: PushedVolumes = { seeds: new Map(), seedOf: () => undefined };
  if (hasNamedVolumes(record)) {
    if (!ctx.volumes) throw new Error('pushBuilt: a record with named volumes needs the volume step');
    volumes = await ctx.volumes({ target, record, built, store, env, ...(client ? { client } : {}), log });
  }
  const meta: OsvImageMeta = {
    tool: toolVersion(),
    name: built.name,
    arch: built.arch,
    kernel: { path: KERNEL_PATH, sha256: `sha256:${kernelSha}`, ...(version ? { version } : {}) },
    disk: { path: diskPathFor(built.name) },
    run: record.run,
    runs: record.runs.map((r) => portableRun(r, (v) => volumes.seedOf(v))),
    ...(record.from ? { from: { reference: record.from.reference, digest: record.from.digest } } : {}),
  };
  const { assembleImage } = await import('../oci/assemble.js');
  // File hashes are remembered by stat (path, size, mtime, inode): an unchanged disk is not read again.
  const img = await assembleImage(store, { meta, kernelFile: elf, diskFile: outcome.image }, (p) => `sha256:${cachedSha256(p, env)}`);
  const result = await ctx.deliver(img, store);
  const reference = target.transport === 'registry' ? formatReference({ ...target, tag: target.tag ?? 'latest', digest: result.digest }) : undefined;
  const blobs = result.blobs.filter((b) => b.role !== 'manifest').map((b) => b.digest);
  const rec: PushRecord = { version: 1, target: result.target, ...(reference ? { reference } : {}), digest: result.digest, blobs };
  writeFileAtomic(pushRecordPath(built.dir, built.name), JSON.stringify(rec, null, 1) + '\n');
  const pushedVolumes = [...volumes.seeds.values()].map((s) => ({ volume: s.volume, reference: s.reference, digest: s.digest, path: s.path, blobs: s.blobs }));
  if (opts.json) {
    writeStdout(JSON.stringify({ ok: true, target: result.target, digest: result.digest, ...(reference ? { reference } : {}), image: outcome.image, blobs: result.blobs, ...(pushedVolumes.length > 0 ? { volumes: pushedVolumes } : {}) }, null, 2) + '\n');
    return;
  }
  for (const v of pushedVolumes) log(`  volume   ${v.volume}: seed ${v.reference}`);
  for (const b of result.blobs) log(`  ${b.role.padEnd(8)} ${shortDigest(b.digest)} ${formatBytes(b.size).padStart(9)}  ${b.action}${b.from ? ` from ${b.from}` : ''}`);
  if (!opts.quiet) writeStdout(`${reference ?? `${result.target}@${result.digest}`}\n`);
}
