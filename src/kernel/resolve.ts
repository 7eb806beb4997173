// resolveKernel: from the configuration (and OSV_KERNEL) to a KernelBundle with sha256s.
// Precedence: OSV_KERNEL (one run's override) > kernel.path > kernel.version > osv-up's default
// release (default-release.ts). A downloaded kernel is verified against osv.lock on every use;
// the first use of a version writes the lock. Fast on a no-op build: hashes come from the stat-keyed cache, the lock is JSON.

import { err, ok, type Result } from '../diagnostics/result.js';
import { ExitCode, OsvError } from '../diagnostics/error.js';
import type { Arch } from '../config/types.js';
import type { KernelBundle } from './types.js';
import { basename } from 'node:path';
import { cachedSha256, sha256File } from './hash.js';
import { resolveKernelPath, type KernelFiles } from './local.js';
import type { HttpGet } from './releases.js';
import { defaultRelease } from './default-release.js';

/** The parts of Config (or Plan) that choose a kernel. */
export interface KernelChoice {
  kernel: { version?: string; path?: string; sha256?: string; hiddenSymbols: boolean };
  arch: Arch;
  /** The project directory (where osv.lock lives); without it nothing is locked. */
  dir?: string;
  /** The root filesystem, to refuse a default kernel that cannot mount it. */
  filesystem?: 'rofs' | 'ext';
}

export interface ResolveKernelOptions {
  http?: HttpGet;
  api?: string;
  /** Never download: a missing kernel is an error with the by-hand instructions. */
  offline?: boolean;
  onProgress?(bytes: number, total: number | undefined, asset: string): void;
  /** What set OSV_KERNEL, for messages: a flag passed on as it (`--kernel`); default OSV_KERNEL. */
  overrideFrom?: string;
}

function bundleFromFiles(files: KernelFiles, origin: 'path' | 'env', hiddenSymbols: boolean, env: NodeJS.ProcessEnv): KernelBundle {
  const sha256s: NonNullable<KernelBundle['sha256s']> = {};
  if (files.elf) sha256s.elf = cachedSha256(files.elf, env);
  if (files.img) sha256s.img = cachedSha256(files.img, env);
  if (files.libenviron) sha256s.libenviron = cachedSha256(files.libenviron, env);
  return {
    ...(files.elf ? { elf: files.elf } : {}),
    ...(files.img ? { img: files.img } : {}),
    ...(files.libenviron ? { libenviron: files.libenviron } : {}),
    ...(files.ext ? { ext: files.ext } : {}),
    sha256: (sha256s.elf ?? sha256s.img)!,
    sha256s,
    origin,
    hiddenSymbols,
  };
}

/**
 * kernel.sha256 pins one kernel file: it must match the elf or the img, hashed now (never taken
 * from the stat-keyed cache). Only pinned files are used: the one kernel.sha256 matches, and
 * those `alsoPinned` (osv.lock's, just verified); an unpinned loader.img or libenviron.so beside
 * it is left out, and the bundle's note says so.
 */
export function checkPinned(b: KernelBundle, expected: string | undefined, what: string, alsoPinned: ReadonlyArray<'elf' | 'img'> = []): Result<KernelBundle, OsvError> {
  if (!expected) return ok(b);
  const want = expected.toLowerCase();
  const fresh = { elf: b.elf ? sha256File(b.elf) : undefined, img: b.img ? sha256File(b.img) : undefined };
  const role = fresh.elf === want ? 'elf' : fresh.img === want ? 'img' : undefined;
  if (!role)
    return err(
      new OsvError({
        code: 'kernel.sha256-mismatch',
        message: `the kernel at ${b.elf ?? b.img} does not have the sha256 that kernel.sha256 pins`,
        details: [`expected ${want}`, ...(fresh.elf ? [`elf      ${fresh.elf}`] : []), ...(fresh.img ? [`img      ${fresh.img}`] : [])],
        hint: `if the kernel changed on purpose, update kernel.sha256 (${what})`,
        exitCode: ExitCode.invalidInput,
      }),
    );
  const keep = new Set([role, ...alsoPinned]);
  const out: KernelBundle = { ...b, sha256s: {} };
  const dropped: string[] = [];
  for (const r of ['elf', 'img'] as const) {
    if (!b[r]) continue;
    if (keep.has(r)) out.sha256s![r] = fresh[r]!;
    else {
      delete out[r];
      dropped.push(basename(b[r]));
    }
  }
  if (b.libenviron) {
    delete out.libenviron;
    dropped.push(basename(b.libenviron));
  }
  out.sha256 = (out.sha256s!.elf ?? out.sha256s!.img)!;
  if (dropped.length) out.note = `kernel.sha256 pins ${basename(b[role]!)}; the unpinned ${dropped.join(' and ')} beside it ${dropped.length > 1 ? 'are' : 'is'} not used`;
  return ok(out);
}

export async function resolveKernel(
  config: KernelChoice,
  env: NodeJS.ProcessEnv = process.env,
  opts: ResolveKernelOptions = {},
): Promise<Result<KernelBundle, OsvError>> {
  const k = config.kernel;
  const override = env['OSV_KERNEL'];
  if (override) {
    const from = opts.overrideFrom ?? 'OSV_KERNEL';
    const files = resolveKernelPath(override, config.arch, from);
    if (!files.ok) return files;
    // One run's override, trusted as the user's own choice; but the pins it skips are named.
    const skipped = [...(k.sha256 ? ['kernel.sha256'] : []), ...(k.version && config.dir ? ['osv.lock'] : [])];
    const b = bundleFromFiles(files.value, 'env', k.hiddenSymbols, env);
    return ok(skipped.length ? { ...b, note: `${from} overrides osv.yaml's kernel: not checked against ${skipped.join(' or ')}` } : b);
  }
  if (k.path) {
    const files = resolveKernelPath(k.path, config.arch);
    if (!files.ok) return files;
    return checkPinned(bundleFromFiles(files.value, 'path', k.hiddenSymbols, env), k.sha256, 'in osv.yaml');
  }
  const { resolveRelease } = await import('./release-kernel.js');
  if (k.version) return resolveRelease(config, k.version, env, opts);
  // No kernel named: osv-up's default release, pinned in osv.lock like a kernel.version.
  const d = defaultRelease(config.arch);
  if (!d)
    return err(
      new OsvError({
        code: 'kernel.none',
        message: `no OSv kernel is configured, and osv-up has no default kernel for ${config.arch}`,
        hint: 'set kernel.version to a release with a kernel for it, kernel.path to an OSv build, or OSV_KERNEL for one run',
        exitCode: ExitCode.invalidInput,
      }),
    );
  if (config.filesystem !== undefined && !d.filesystems.includes(config.filesystem))
    return err(
      new OsvError({
        code: 'kernel.default-filesystem',
        message: `filesystem: ${config.filesystem} needs a kernel built for it, and osv-up's default kernel (${d.version}) mounts only ${d.filesystems.join(', ')}`,
        hint: `build OSv with fs=${config.filesystem} and set kernel.path (or OSV_KERNEL) to its build directory`,
        exitCode: ExitCode.invalidInput,
      }),
    );
  return resolveRelease({ ...config, kernel: { ...k, hiddenSymbols: k.hiddenSymbols || d.hiddenSymbols } }, d.version, env, opts);
}
