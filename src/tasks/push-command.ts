// `osv push REF`: build the project as a kernel-less qcow2 disk (incrementally, like `osv up`),
// make the OCI image of it and its kernel, and send it to a registry, an OCI layout directory
// or an oci-archive tarball. Prints the pushed digest (with --json, every blob and what
// happened to it). The last push is recorded in .osv/<name>.push.json for `osv export kubevirt`.

import { readFileSync } from 'node:fs';
import { writeFileAtomic } from '../atomic.js';
import { join, resolve } from 'node:path';
import { ExitCode, OsvError } from '../diagnostics/error.js';
import { readRecord } from '../image/record.js';
import { ContentStore, ociCacheDir } from '../oci/cache.js';
import { shortDigest, type Digest } from '../oci/digest.js';
import { diskPathFor, KERNEL_PATH, type OsvImageMeta, type PortableRun } from '../oci/osv-image.js';
import type { PushResult } from '../oci/push.js';
import { formatReference, parseReference, type ImageReference } from '../oci/reference.js';
import { formatBytes } from '../units.js';
import { toolVersion } from '../version.js';
import { buildFromFlags } from './build-command.js';
import { projectOfImage } from './build.js';
import type { RecordedRun } from '../image/record.js';
import { reportMode } from './report.js';

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

function portableRun(r: RecordedRun): PortableRun {
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
      ...(named.length > 0 ? { volumes: named.map((v) => ({ name: v.name, dest: v.dest, size: v.size, readonly: v.readonly })) } : {}),
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

export async function pushCommand(targetText: string, opts: PushCommandOptions, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const target = parseTarget(targetText);
  const mode = reportMode(opts, env);
  const log = (s: string): void => {
    if (mode !== 'json' && mode !== 'quiet') process.stderr.write(s + '\n');
  };
  // Connecting and logging in to the registry overlaps with the build check and the layers.
  let client: import('../oci/registry.js').RegistryClient | undefined;
  if (target.transport === 'registry') {
    const { RegistryClient } = await import('../oci/registry.js');
    client = new RegistryClient(target.registry, { env });
    void client.prepare(target.repository);
  }
  // The image holds the disk without a kernel (KubeVirt boots the kernel from /boot) as qcow2.
  // An unchanged build is found from its records alone, as `osv build` finds it.
  const flags = { ...opts, output: 'disk', format: 'qcow2' };
  const { noopBuild } = await import('./noop.js');
  const noop = await noopBuild(flags, env);
  const built = noop
    ? { outcome: noop.outcome, arch: noop.record.arch, ...projectOfImage(noop.outcome.image) }
    : await buildFromFlags({ ...flags, ...(mode === 'plain' ? { quiet: true } : {}) }, env, { reporterOut: process.stderr }).then((b) => ({ outcome: b.outcome, arch: b.config.arch, dir: b.config.dir, name: b.config.name }));
  const { outcome } = built;
  log(`osv: ${outcome.upToDate ? 'image up to date' : 'built'} ${outcome.image} (${outcome.totals.files} files, ${formatBytes(outcome.totals.bytes)})`);
  const record = readRecord(outcome.image);
  if (!record) throw new OsvError({ code: 'push.no-record', message: `${outcome.image} has no build record beside it`, hint: 'rebuild with `osv build --format qcow2 --force`', exitCode: ExitCode.buildFailed });
  const elf = outcome.kernel.elf;
  if (!elf) throw new OsvError({ code: 'push.no-kernel-elf', message: 'the kernel bundle has no loader-stripped.elf, which KubeVirt and `osv run REF` boot directly', hint: 'point kernel.path (or OSV_KERNEL) at an OSv build directory or at loader-stripped.elf', exitCode: ExitCode.invalidInput });
  const { cachedSha256 } = await import('../kernel/hash.js');
  const store = new ContentStore(ociCacheDir(env));
  const kernelSha = outcome.kernel.sha256s?.elf ?? cachedSha256(elf, env);
  const version = outcome.kernel.tag ?? outcome.kernel.version ?? (await kernelVersion(store, kernelSha, elf));
  const meta: OsvImageMeta = {
    tool: toolVersion(),
    name: built.name,
    arch: built.arch,
    kernel: { path: KERNEL_PATH, sha256: `sha256:${kernelSha}`, ...(version ? { version } : {}) },
    disk: { path: diskPathFor(built.name) },
    run: record.run,
    runs: record.runs.map(portableRun),
    ...(record.from ? { from: { reference: record.from.reference, digest: record.from.digest } } : {}),
  };
  const { assembleImage } = await import('../oci/assemble.js');
  // File hashes are remembered by stat (path, size, mtime, inode): an unchanged disk is not read again.
  const img = await assembleImage(store, { meta, kernelFile: elf, diskFile: outcome.image }, (p) => `sha256:${cachedSha256(p, env)}`);
  const label = formatReference(target);
  let result: PushResult;
  if (target.transport === 'registry') {
    const { pushToRegistry } = await import('../oci/push.js');
    result = await pushToRegistry(target, img, store, { env }, client);
  } else if (target.transport === 'oci') {
    const { writeLayoutDir } = await import('../oci/layout-writer.js');
    result = writeLayoutDir(resolve(target.path), target.tag, img, label);
  } else {
    const { writeLayoutArchive } = await import('../oci/layout-writer.js');
    result = await writeLayoutArchive(resolve(target.path), target.transport === 'oci-archive' ? target.tag : undefined, img, label);
  }
  const reference = target.transport === 'registry' ? formatReference({ ...target, tag: target.tag ?? 'latest', digest: result.digest }) : undefined;
  const rec: PushRecord = { version: 1, target: result.target, ...(reference ? { reference } : {}), digest: result.digest };
  writeFileAtomic(pushRecordPath(built.dir, built.name), JSON.stringify(rec, null, 1) + '\n');
  if (opts.json) {
    process.stdout.write(JSON.stringify({ ok: true, target: result.target, digest: result.digest, ...(reference ? { reference } : {}), image: outcome.image, blobs: result.blobs }, null, 2) + '\n');
    return;
  }
  for (const b of result.blobs) log(`  ${b.role.padEnd(8)} ${shortDigest(b.digest)} ${formatBytes(b.size).padStart(9)}  ${b.action}${b.from ? ` from ${b.from}` : ''}`);
  if (mode !== 'quiet') process.stdout.write(`${reference ?? `${result.target}@${result.digest}`}\n`);
}
