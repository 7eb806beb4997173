// `osv run REF`, `osv test REF` and `osv pull REF`: an image pushed by `osv push`, booted (or
// only fetched) on a machine with neither its osv.yaml nor OSV_KERNEL. The kernel, the disk,
// the command lines and the run settings all come from the image; the usual flags override.

import type { Arch } from '../config/types.js';
import { withClusterMounts } from '../kubevirt/volumes.js';
import { shortDigest } from '../oci/digest.js';
import { describeVolumes, type PortableVolume } from '../oci/osv-image.js';
import { parseReference } from '../oci/reference.js';
import { escapeOption } from '../plan/cmdline.js';
import { mountOption } from '../plan/volume-mounts.js';
import type { RunCliOptions } from '../run/cli.js';
import type { Disk } from '../run/spec.js';
import { formatBytes, plural } from '../units.js';
import { fetchOsvImage, fetchSeedDisk, type LocalOsvImage } from './osv-image-fetch.js';

const hostArch = (): Arch => (process.arch === 'arm64' ? 'aarch64' : 'x86_64');

async function fetchQuietly(text: string, arch: Arch | undefined, log: (s: string) => void, env: NodeJS.ProcessEnv): Promise<LocalOsvImage> {
  return fetchOsvImage(text, {
    env,
    arch: arch ?? hostArch(),
    baseDir: process.cwd(),
    progress: {
      onManifest: (layers) => {
        const missing = layers.filter((l) => !l.cached);
        if (missing.length > 0) log(`osv: pulling ${text}: ${missing.length} of ${plural(layers.length, 'layer')} (${formatBytes(missing.reduce((s, l) => s + l.size, 0))})`);
      },
    },
  });
}

/** The run's named volumes as this machine attaches them: disks, the command line that mounts them, notes. */
interface RefVolumes {
  disks: Disk[];
  cmdline: string;
  notes: string[];
}

/**
 * A registry image's named volumes start from their seed images (pushed beside it, in its
 * repository), each attached as a KubeVirt VM gets it: a writable one behind a throwaway
 * overlay (what the program writes is gone when the VM stops; the seed in the cache never
 * changes), a read-only one as it is. The run's --mount-fs options, numbered for the build
 * machine's disks, are replaced by ones for these. A volume without a seed (an image written to
 * a layout or an archive, or pushed by an older osv-up) cannot be attached: its mount is left
 * out of the command line (OSv would stop at a device that is not there), and a note says so.
 */
async function refVolumes(text: string, img: LocalOsvImage, cmdline: string, named: readonly PortableVolume[], fetchOpts: Parameters<typeof fetchSeedDisk>[2]): Promise<RefVolumes> {
  const ref = parseReference(text);
  const registry = ref.ok && ref.value.transport === 'registry' ? ref.value : undefined;
  const seeded = registry ? named.filter((v) => v.seed) : [];
  const unseeded = named.filter((v) => !seeded.includes(v));
  const disks: Disk[] = [];
  for (const v of seeded) {
    const path = await fetchSeedDisk(registry!, v.seed!, fetchOpts);
    disks.push(v.readonly ? { path, format: 'qcow2', readonly: true } : { path, format: 'qcow2', snapshot: true });
  }
  const notes: string[] = [];
  if (seeded.some((v) => !v.readonly)) notes.push(`the named volumes ${describeVolumes(seeded.filter((v) => !v.readonly))} start from the seed images pushed with ${img.reference}, behind a throwaway overlay: what the program writes there is discarded when the VM stops`);
  if (unseeded.length > 0) notes.push(`warning: the run's named volumes ${describeVolumes(unseeded)} have no seed image in ${img.reference} (${registry ? 'pushed by an older osv-up' : 'seed images go to registries only'}): they are not attached and not mounted, and the program runs without them`);
  return { disks, cmdline: withClusterMounts(cmdline, named, seeded.map((v, i) => escapeOption(mountOption(v, i)))), notes };
}

export async function runImageRef(text: string, opts: RunCliOptions, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const log = (s: string): void => void process.stderr.write(s + '\n');
  // The flags are refused before anything is pulled (prepareFromFetched applies them after).
  const { settingsFromFlags, debugFromFlags } = await import('../run/flag-settings.js');
  settingsFromFlags(opts);
  debugFromFlags(opts);
  const arch = opts.arch === 'aarch64' || opts.arch === 'x86_64' ? opts.arch : undefined;
  const { prepareFromFetched, finishRun, kernelFlagFile } = await import('../run/cli.js');
  // A --kernel that is no kernel is refused before the pull too (checked again for the image's arch).
  if (opts.kernel !== undefined) kernelFlagFile(opts.kernel, arch ?? hostArch());
  const img = await fetchQuietly(text, arch, log, env);
  const chosen = img.meta.runs.find((r) => r.name === (opts.run ?? img.meta.run));
  const named = chosen?.settings.volumes ?? [];
  const vols = chosen && named.length > 0 ? await refVolumes(text, img, chosen.cmdline, named, { env, arch: img.meta.arch, baseDir: process.cwd() }) : undefined;
  const runs = img.meta.runs.map(({ settings: { volumes: _v, ...settings }, ...r }) => ({ ...r, settings, ...(vols && r.name === chosen?.name ? { cmdline: vols.cmdline } : {}) }));
  const prep = await prepareFromFetched(
    { label: `${img.reference} (${shortDigest(img.digest)})`, arch: img.meta.arch, kernel: img.kernel, disk: img.disk, run: img.meta.run, runs, ...(vols ? { volumeDisks: vols.disks } : {}) },
    opts,
    env,
  );
  prep.notes.push(...(vols?.notes ?? []));
  if (!opts.json && !opts.dryRun) log(`osv: ${img.reference}@${img.digest}${img.meta.kernel.version ? ` (OSv ${img.meta.kernel.version})` : ''}`);
  await finishRun(prep, opts);
}

export interface PullRefOptions {
  arch?: string;
  json?: boolean;
  quiet?: boolean;
}

export async function pullImageRef(text: string, opts: PullRefOptions, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const log = (s: string): void => {
    if (!opts.json && !opts.quiet) process.stderr.write(s + '\n');
  };
  const arch = opts.arch === 'aarch64' || opts.arch === 'x86_64' ? opts.arch : undefined;
  const img = await fetchQuietly(text, arch, log, env);
  if (opts.json) {
    process.stdout.write(
      JSON.stringify({ ok: true, reference: img.reference, digest: img.digest, pulled: img.pulled, kernel: img.kernel, disk: img.disk, kernelVersion: img.meta.kernel.version ?? null, run: img.meta.run, runs: img.meta.runs, from: img.meta.from ?? null }, null, 2) + '\n',
    );
    return;
  }
  if (opts.quiet) return;
  process.stdout.write(`${img.reference}@${img.digest} (${img.pulled ? 'pulled' : 'cached'}; runs: ${img.meta.runs.map((r) => r.name).join(', ')})\n`);
}
