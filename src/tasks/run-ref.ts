// `osv run REF`, `osv test REF` and `osv pull REF`: an image pushed by `osv push`, booted (or
// only fetched) on a machine with neither its osv.yaml nor OSV_KERNEL. The kernel, the disk,
// the command lines and the run settings all come from the image; the usual flags override.

import type { Arch } from '../config/types.js';
import { shortDigest } from '../oci/digest.js';
import { describeVolumes } from '../oci/osv-image.js';
import type { RunCliOptions } from '../run/cli.js';
import { formatBytes } from '../units.js';
import { fetchOsvImage, type LocalOsvImage } from './osv-image-fetch.js';

const hostArch = (): Arch => (process.arch === 'arm64' ? 'aarch64' : 'x86_64');

async function fetchQuietly(text: string, arch: Arch | undefined, log: (s: string) => void, env: NodeJS.ProcessEnv): Promise<LocalOsvImage> {
  return fetchOsvImage(text, {
    env,
    arch: arch ?? hostArch(),
    baseDir: process.cwd(),
    progress: {
      onManifest: (layers) => {
        const missing = layers.filter((l) => !l.cached);
        if (missing.length > 0) log(`osv: pulling ${text}: ${missing.length} of ${layers.length} layers (${formatBytes(missing.reduce((s, l) => s + l.size, 0))})`);
      },
    },
  });
}

export async function runImageRef(text: string, opts: RunCliOptions, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const log = (s: string): void => void process.stderr.write(s + '\n');
  const arch = opts.arch === 'aarch64' || opts.arch === 'x86_64' ? opts.arch : undefined;
  const img = await fetchQuietly(text, arch, log, env);
  const { prepareFromFetched, finishRun } = await import('../run/cli.js');
  const prep = await prepareFromFetched(
    { label: `${img.reference} (${shortDigest(img.digest)})`, arch: img.meta.arch, kernel: img.kernel, disk: img.disk, run: img.meta.run, runs: img.meta.runs.map(({ settings: { volumes: _v, ...settings }, ...r }) => ({ ...r, settings })) },
    opts,
    env,
  );
  const named = img.meta.runs.find((r) => r.name === (opts.run ?? img.meta.run))?.settings.volumes ?? [];
  if (named.length > 0) prep.notes.push(`the run's named volumes ${describeVolumes(named)} are state of the machine that built the image and are not attached here: the program runs without them`);
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
