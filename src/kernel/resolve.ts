// resolveKernel: from the configuration (and OSV_KERNEL) to a KernelBundle with sha256s.
// Precedence: OSV_KERNEL (one run's override) > kernel.path > kernel.version. A downloaded
// kernel is verified against osv.lock on every use; the first use of a version writes the
// lock. Fast on a no-op build: hashes come from the stat-keyed cache, the lock is JSON.

import { err, ok, type Result } from '../diagnostics/result.js';
import { ExitCode, OsvError } from '../diagnostics/error.js';
import type { Arch } from '../config/types.js';
import type { KernelBundle } from './types.js';
import { cachedSha256 } from './hash.js';
import { resolveKernelPath, type KernelFiles } from './local.js';
import type { HttpGet } from './releases.js';

/** The parts of Config (or Plan) that choose a kernel. */
export interface KernelChoice {
  kernel: { version?: string; path?: string; sha256?: string; hiddenSymbols: boolean };
  arch: Arch;
  /** The project directory (where osv.lock lives); without it nothing is locked. */
  dir?: string;
}

export interface ResolveKernelOptions {
  http?: HttpGet;
  api?: string;
  /** Never download: a missing kernel is an error with the by-hand instructions. */
  offline?: boolean;
  onProgress?(bytes: number, total: number | undefined, asset: string): void;
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

/** kernel.sha256 pins a kernel.path (or version) file: it must match the elf or the img. */
export function checkPinned(b: KernelBundle, expected: string | undefined, what: string): Result<KernelBundle, OsvError> {
  if (!expected) return ok(b);
  const want = expected.toLowerCase();
  if (b.sha256s?.elf === want || b.sha256s?.img === want) return ok(b);
  return err(
    new OsvError({
      code: 'kernel.sha256-mismatch',
      message: `the kernel at ${b.elf ?? b.img} does not have the sha256 that kernel.sha256 pins`,
      details: [`expected ${want}`, ...(b.sha256s?.elf ? [`elf      ${b.sha256s.elf}`] : []), ...(b.sha256s?.img ? [`img      ${b.sha256s.img}`] : [])],
      hint: `if the kernel changed on purpose, update kernel.sha256 (${what})`,
      exitCode: ExitCode.invalidInput,
    }),
  );
}

export async function resolveKernel(
  config: KernelChoice,
  env: NodeJS.ProcessEnv = process.env,
  opts: ResolveKernelOptions = {},
): Promise<Result<KernelBundle, OsvError>> {
  const k = config.kernel;
  const override = env['OSV_KERNEL'];
  if (override) {
    const files = resolveKernelPath(override, config.arch, 'OSV_KERNEL');
    return files.ok ? ok(bundleFromFiles(files.value, 'env', k.hiddenSymbols, env)) : files;
  }
  if (k.path) {
    const files = resolveKernelPath(k.path, config.arch);
    if (!files.ok) return files;
    return checkPinned(bundleFromFiles(files.value, 'path', k.hiddenSymbols, env), k.sha256, 'in osv.yaml');
  }
  if (k.version) {
    const { resolveRelease } = await import('./release-kernel.js');
    return resolveRelease(config, k.version, env, opts);
  }
  return err(
    new OsvError({
      code: 'kernel.none',
      message: 'no OSv kernel is configured',
      hint: 'set kernel.version (e.g. "latest") to download a release, kernel.path to an OSv build, or OSV_KERNEL for one run',
      exitCode: ExitCode.invalidInput,
    }),
  );
}
