// The kernel.version branch of resolveKernel: the cache, the download, and osv.lock. Imported
// only when a project names a release, so path and OSV_KERNEL kernels load none of it.

import * as fs from 'node:fs';
import { join } from 'node:path';
import { err, ok, type Result } from '../diagnostics/result.js';
import { ExitCode, OsvError } from '../diagnostics/error.js';
import type { Arch } from '../config/types.js';
import type { KernelBundle } from './types.js';
import { readLock, writeLock, lockPath, type KernelLock } from './lock.js';
import { pullKernel, readCached, type CachedKernel } from './store.js';
import { parseVersion, type HttpGet } from './releases.js';
import { kernelDir } from './cache.js';
import { sha256File } from './hash.js';
import { checkPinned, type KernelChoice, type ResolveKernelOptions } from './resolve.js';

export async function resolveRelease(
  config: KernelChoice,
  version: string,
  env: NodeJS.ProcessEnv,
  opts: ResolveKernelOptions,
): Promise<Result<KernelBundle, OsvError>> {
  const { arch } = config;
  const hidden = config.kernel.hiddenSymbols;
  const ref = parseVersion(version);
  if (!ref.ok) return ref;
  let lock: KernelLock | undefined;
  if (config.dir) {
    const l = readLock(config.dir);
    if (!l.ok) return l;
    const k = l.value.kernel;
    if (k && k.version === version && k.arch === arch) lock = k;
  }

  let cached = readCached(version, arch, env);
  if (!cached) {
    const placed = misplacedFiles(version, arch, env);
    if (placed) return err(placed);
    const pulled = await pullKernel({
      version,
      arch,
      hiddenSymbols: hidden,
      env,
      ...(opts.http ? { http: opts.http } : {}),
      ...(opts.api ? { api: opts.api } : {}),
      ...(opts.offline ? { http: offlineHttp } : {}),
      ...(lock ? { pinned: { repo: lock.repo, tag: lock.tag } } : {}),
      ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
    });
    if (!pulled.ok) return pulled;
    cached = pulled.value;
  }

  if (lock) {
    const v = verifyAgainstLock(cached, lock, config.dir!);
    if (!v.ok) return v;
  } else if (config.dir) {
    const w = writeLock(config.dir, lockFor(cached, version, ref.value.repo));
    if (!w.ok) return w;
  }
  const b: KernelBundle = {
    ...(cached.files.elf ? { elf: cached.files.elf.path } : {}),
    ...(cached.files.img ? { img: cached.files.img.path } : {}),
    sha256: (cached.files.elf ?? cached.files.img)!.sha256,
    sha256s: {
      ...(cached.files.elf ? { elf: cached.files.elf.sha256 } : {}),
      ...(cached.files.img ? { img: cached.files.img.sha256 } : {}),
    },
    origin: 'release',
    version,
    ...(cached.tag ? { tag: cached.tag } : {}),
    hiddenSymbols: hidden,
  };
  return checkPinned(b, config.kernel.sha256, 'in osv.yaml', lock ? (Object.keys(lock.files) as Array<'elf' | 'img'>) : []);
}

export function lockFor(c: CachedKernel, version: string, repo: string): KernelLock {
  const files: KernelLock['files'] = {};
  for (const role of ['elf', 'img'] as const) {
    const f = c.files[role];
    if (f) files[role] = { sha256: f.sha256, ...(f.asset ? { asset: f.asset } : {}) };
  }
  return { version, repo: c.repo ?? repo, tag: c.tag ?? version, arch: c.arch, files };
}

/** Every file the lock pins must be in the cache with that sha256; anything else is refused. */
function verifyAgainstLock(c: CachedKernel, lock: KernelLock, projectDir: string): Result<void, OsvError> {
  const problems: string[] = [];
  for (const role of ['elf', 'img'] as const) {
    const want = lock.files[role];
    if (!want) continue;
    const have = c.files[role];
    // Hashed now: the stat-keyed cache is for speed, a pin is checked against the bytes.
    const actual = have ? sha256File(have.path) : undefined;
    if (!have) problems.push(`${role}: osv.lock pins ${want.sha256} but ${c.dir} has no ${role === 'elf' ? 'loader-stripped.elf' : 'loader.img'}`);
    else if (actual !== want.sha256) problems.push(`${have.path}: sha256 ${actual}, osv.lock pins ${want.sha256}`);
  }
  if (!problems.length) return ok(undefined);
  return err(
    new OsvError({
      code: 'kernel.lock-mismatch',
      message: `the cached OSv kernel ${lock.version} is not the one ${lockPath(projectDir)} pins; refusing to use it`,
      details: problems,
      hint:
        `to go back to the pinned kernel: \`osv kernel rm ${lock.version}\` and build again (downloads ${lock.repo} ${lock.tag} and checks it against osv.lock); ` +
        `to move the project to a new kernel on purpose: \`osv kernel pull ${lock.version}\` (re-pins osv.lock)`,
      exitCode: ExitCode.invalidInput,
    }),
  );
}

/** Files placed by hand under a wrong name (e.g. still gzipped, or the ELF saved as loader.img). */
function misplacedFiles(version: string, arch: Arch, env: NodeJS.ProcessEnv): OsvError | undefined {
  const dir = kernelDir(version, arch, env);
  let names: string[];
  try {
    names = fs.readdirSync(dir).filter((n) => n !== 'meta.json');
  } catch {
    return undefined;
  }
  if (!names.length) return undefined;
  return new OsvError({
    code: 'kernel.cache-unusable',
    message: `${dir} holds files, but no loader-stripped.elf (an ELF) or loader.img (a boot image)`,
    details: names.map((n) => `found ${join(dir, n)}`),
    hint: 'gunzip downloaded .gz files and name them loader-stripped.elf (the ELF) and loader.img (the boot image)',
    exitCode: ExitCode.invalidInput,
  });
}

const offlineHttp: HttpGet = () => Promise.reject(new Error('offline mode: downloads are disabled'));
