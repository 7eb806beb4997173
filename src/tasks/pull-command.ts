// `osv pull`: resolve the project's `from:` image again (a tag may have moved), pin what it
// resolves to in osv.lock, and bring that image into the cache. The only command that moves a
// locked digest.

import { ExitCode, OsvError } from '../diagnostics/error.js';
import { shortDigest } from '../oci/digest.js';
import { formatBytes, plural } from '../units.js';
import { chooseImage, ensureImage } from './from-image.js';
import { readImageLocks, lockedDigest } from '../oci/lock.js';

export interface PullCommandOptions {
  config?: string;
  json?: boolean;
  quiet?: boolean;
}

export async function pullCommand(opts: PullCommandOptions, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const { loadConfig } = await import('../config/index.js');
  const loaded = await loadConfig({ cwd: process.cwd(), ...(opts.config ? { configFile: opts.config } : {}), env });
  if (!loaded.ok) throw loaded.error;
  const config = loaded.value;
  if (!config.from)
    throw new OsvError({ code: 'pull.no-image', message: `${config.file} has no from: image to pull`, hint: 'add from: IMAGE to osv.yaml (`osv kernel pull` fetches kernels)', exitCode: ExitCode.invalidInput });
  const log = (s: string): void => {
    if (!opts.json && !opts.quiet) process.stderr.write(s + '\n');
  };
  const before = readImageLocks(config.dir);
  const choice = await chooseImage(config, { env, update: true, writeLock: true });
  const previous = before.ok ? lockedDigest(before.value, config.from.text, choice.platform) : undefined;
  const t0 = Date.now();
  let pulled = 0;
  let bytes = 0;
  await ensureImage(config, choice, {
    env,
    progress: {
      onManifest: (layers) => {
        const missing = layers.filter((l) => !l.cached);
        log(`${config.from!.text}: ${plural(layers.length, 'layer')}, ${missing.length === 0 ? 'all cached' : `pulling ${missing.length} (${formatBytes(missing.reduce((s, l) => s + l.size, 0))})`}`);
      },
      onLayer: (i, state, n, total) => {
        if (state !== 'done') return;
        pulled++;
        bytes += total;
        log(`  layer ${i + 1}: ${formatBytes(n)}`);
      },
    },
  });
  const changed = previous !== undefined && previous !== choice.digest;
  if (opts.json) {
    process.stdout.write(JSON.stringify({ ok: true, reference: config.from.text, platform: choice.platform, digest: choice.digest, previous: previous ?? null, changed, layersPulled: pulled, bytesPulled: bytes, ms: Date.now() - t0 }, null, 2) + '\n');
    return;
  }
  if (opts.quiet) return;
  const what = previous === undefined ? 'pinned' : changed ? `moved from ${shortDigest(previous)}` : 'unchanged';
  process.stdout.write(`${config.from.text} (${choice.platform}): ${choice.digest} (${what}; osv.lock)\n`);
}
