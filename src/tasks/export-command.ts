// `osv export kubevirt [REF]`: the KubeVirt objects for an image pushed by `osv push`, printed or
// written with -o. REF defaults to the project's last push (.osv/<name>.push.json). Only the
// image's manifest and config are fetched (its labels say everything), never its layers.

import { readFileSync } from 'node:fs';
import { writeFileAtomic } from '../atomic.js';
import { resolve } from 'node:path';
import type { Arch } from '../config/types.js';
import { ExitCode, OsvError } from '../diagnostics/error.js';
import { ContentStore, ociCacheDir } from '../oci/cache.js';
import { parseImageConfig, platformFor } from '../oci/manifest.js';
import { describeVolumes, readMeta } from '../oci/osv-image.js';
import { planPull } from '../oci/pull.js';
import { formatReference } from '../oci/reference.js';
import { openSource } from '../oci/source.js';
import { kubevirtObjects, objectName, renderYaml, vmVolumes } from '../kubevirt/render.js';
import type { ClusterVolumes } from '../kubevirt/volumes.js';
import { parseImageRef } from './osv-image-fetch.js';
import { pushRecordPath, type PushRecord } from './push-built.js';
import { oneOf, positive } from '../cli/flag-values.js';
import { unwrap } from '../diagnostics/result.js';

export interface ExportKubevirtOptions {
  run?: string;
  name?: string;
  namespace?: string;
  replicas?: string;
  output?: string;
  arch?: string;
  config?: string;
}

const usage = (message: string, hint?: string): OsvError => new OsvError({ code: 'export.usage', message, ...(hint ? { hint } : {}), exitCode: ExitCode.usage });

/** REF, else the reference of the project's last push. */
async function defaultRef(opts: ExportKubevirtOptions, env: NodeJS.ProcessEnv): Promise<string> {
  const { loadConfig } = await import('../config/index.js');
  const loaded = await loadConfig({ cwd: process.cwd(), ...(opts.config ? { configFile: opts.config } : {}), env });
  if (!loaded.ok) throw loaded.error;
  const path = pushRecordPath(loaded.value.dir, loaded.value.name);
  let rec: PushRecord;
  try {
    rec = JSON.parse(readFileSync(path, 'utf8')) as PushRecord;
  } catch {
    throw usage(`no image to export: ${loaded.value.file} has not been pushed yet (${path} is missing)`, 'push it first (`osv push REGISTRY/REPO:TAG`), or name the image: osv export kubevirt REF');
  }
  if (!rec.reference) throw usage(`the last push went to ${rec.target}, which a cluster cannot pull from`, 'push to a registry, or name a registry image: osv export kubevirt REF');
  return rec.reference;
}

/** What the user must know about the volumes of the YAML: what it needs, what it leaves out. */
export function volumeNotes(vols: ClusterVolumes, label: string, replicas: number | undefined): string[] {
  const notes: string[] = [];
  const imported = vols.dataVolumeTemplates.map((t) => t.metadata?.name ?? '');
  if (imported.length > 0) {
    notes.push(`the volumes ${imported.join(', ')} are CDI DataVolumes imported from their seed images: the cluster needs CDI (containerized-data-importer), and the import runs once, when the VM first needs it`);
    if (replicas !== undefined) notes.push(`each of the ${replicas} VMs of the pool gets a DataVolume of its own (seeded alike): they do not share the volumes' data`);
  }
  if (vols.unseeded.length > 0)
    notes.push(
      `the run's named volumes ${describeVolumes(vols.unseeded)} are not in the YAML: ${label} has no seed image for them (it was pushed by an older osv-up, or not to a registry), and a cluster disk must already hold the file system OSv mounts; push it again with \`osv push REGISTRY/REPO:TAG\``,
    );
  return notes;
}

export async function exportKubevirt(refText: string | undefined, opts: ExportKubevirtOptions, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const replicas = opts.replicas !== undefined ? unwrap(positive('--replicas', opts.replicas)) : undefined;
  if (replicas !== undefined && !Number.isInteger(replicas)) throw usage(`--replicas must be a whole number, got ${opts.replicas}`);
  // Both are DNS-1123 labels to Kubernetes; said before anything is fetched (kubectl refused the YAML).
  for (const [flag, value] of [['--name', opts.name], ['--namespace', opts.namespace]] as const) {
    if (value !== undefined && objectName(value) !== value) throw usage(`${flag} ${JSON.stringify(value)} is not a valid Kubernetes name`, `lowercase letters, digits and '-', at most 63 characters, e.g. ${objectName(value)}`);
  }
  const text = refText ?? (await defaultRef(opts, env));
  const ref = parseImageRef(text);
  if (ref.transport !== 'registry') throw usage(`${text} is not in a registry, and a cluster pulls images from one`, 'push it to a registry the cluster can reach: osv push REGISTRY/REPO:TAG');
  const arch: Arch = opts.arch !== undefined ? unwrap(oneOf<Arch>('--arch', opts.arch, ['x86_64', 'aarch64'])) : process.arch === 'arm64' ? 'aarch64' : 'x86_64';
  const platform = platformFor(arch);
  const source = await openSource(ref, process.cwd(), { env });
  const digest = ref.digest ?? (await source.resolve(platform));
  const store = new ContentStore(ociCacheDir(env));
  const plan = await planPull(source, digest, platform, store);
  const config = parseImageConfig(store.readBlob(plan.configDigest)!, `${source.label} (config)`);
  if (!config.ok) throw config.error;
  const meta = readMeta(config.value.labels, arch);
  if (!meta.ok) throw new OsvError({ code: 'export.not-osv', message: `${source.label}: ${meta.error}`, hint: 'export images made by `osv push`', exitCode: ExitCode.invalidInput });
  const runName = opts.run ?? meta.value.run;
  const run = meta.value.runs.find((r) => r.name === runName);
  if (!run) throw usage(`${source.label} has no run named "${runName}"`, `runs: ${meta.value.runs.map((r) => r.name).join(', ')}`);
  const name = objectName(opts.name ?? (runName === meta.value.run ? meta.value.name : `${meta.value.name}-${runName}`));
  // Pinned by digest alone: some tools (skopeo among them) refuse a reference with a tag and a digest.
  const { tag: _tag, ...untagged } = ref;
  const image = formatReference({ ...untagged, digest });
  const input = { image, meta: meta.value, run, name, ...(opts.namespace ? { namespace: opts.namespace } : {}), ...(replicas !== undefined ? { replicas } : {}) };
  const yaml = renderYaml(kubevirtObjects(input));
  for (const note of volumeNotes(vmVolumes(input), source.label, replicas)) process.stderr.write(`osv: note: ${note}\n`);
  if (opts.output === undefined || opts.output === '-') {
    process.stdout.write(yaml);
    return;
  }
  const out = resolve(opts.output);
  try {
    writeFileAtomic(out, yaml);
  } catch (e) {
    if (e instanceof OsvError) throw e;
    throw new OsvError({ code: 'export.write-failed', message: `cannot write ${out}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, hint: 'check the directory exists and is writable', exitCode: ExitCode.buildFailed });
  }
  process.stderr.write(`osv: wrote ${out} (${replicas !== undefined ? `VirtualMachinePool of ${replicas}` : 'VirtualMachine'}${run.settings.ports.length > 0 ? ' and Service' : ''} for ${image})\n`);
}
