// The kernel cache: kernels/<version>/<arch>/{loader-stripped.elf,loader.img,meta.json}.
// A pull fetches the release metadata, downloads the selected assets, gunzips them, names
// them by what they are (by content), and swaps the directory in whole. Without network the
// error says exactly what to download, from where, and where to put it — files placed there
// by hand are used like downloaded ones.

import * as fs from 'node:fs';
import { dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { err, ok, type Result } from '../diagnostics/result.js';
import { ExitCode, OsvError } from '../diagnostics/error.js';
import type { Arch } from '../config/types.js';
import { KERNEL_FILES, kernelDir, kernelsDir, versionDirName } from './cache.js';
import { classifyBytes, classifyFile } from './classify.js';
import { sha256Bytes, cachedSha256 } from './hash.js';
import { asDefaultRelease, assetUrl, type DefaultRelease } from './default-release.js';
import { makeDirs } from '../atomic.js';
import { certificateHint } from '../net/trust.js';
import {
  DEFAULT_API,
  NetworkProblem,
  downloadAsset,
  fetchHttp,
  fetchRelease,
  parseVersion,
  releasePage,
  roleMarker,
  selectAssets,
  type AssetRole,
  type HttpGet,
  type ReleaseAsset,
  type ReleaseRef,
} from './releases.js';

export interface CachedFile {
  path: string;
  sha256: string;
  /** The asset it was downloaded from; absent for files placed by hand. */
  asset?: string;
  url?: string;
}

export interface CachedKernel {
  version: string;
  arch: Arch;
  dir: string;
  repo?: string;
  tag?: string;
  files: Partial<Record<AssetRole, CachedFile>>;
}

interface Meta {
  version: string;
  repo: string;
  tag: string;
  arch: Arch;
  fetchedAt: string;
  files: Partial<Record<AssetRole, { asset: string; url: string; sha256: string }>>;
}

const META = 'meta.json';

function readMeta(dir: string): Meta | undefined {
  try {
    return JSON.parse(fs.readFileSync(join(dir, META), 'utf8')) as Meta;
  } catch {
    return undefined;
  }
}

/** What the cache holds for a version (files recognised by content), or undefined. */
export function readCached(version: string, arch: Arch, env: NodeJS.ProcessEnv = process.env): CachedKernel | undefined {
  const dir = kernelDir(version, arch, env);
  const meta = readMeta(dir);
  const files: CachedKernel['files'] = {};
  for (const role of ['elf', 'img'] as const) {
    const path = join(dir, KERNEL_FILES[role]);
    if (!fs.existsSync(path)) continue;
    const kind = classifyFile(path).kind;
    if (kind !== role) continue; // a wrong file placed by hand is ignored, and reported by the caller
    const m = meta?.files[role];
    files[role] = { path, sha256: cachedSha256(path, env), ...(m ? { asset: m.asset, url: m.url } : {}) };
  }
  if (!files.elf && !files.img) return undefined;
  return { version, arch, dir, files, ...(meta ? { repo: meta.repo, tag: meta.tag } : {}) };
}

/** Every cached kernel (for `osv kernel list`). */
export function listCached(env: NodeJS.ProcessEnv = process.env): CachedKernel[] {
  const root = kernelsDir(env);
  const out: CachedKernel[] = [];
  for (const v of safeReaddir(root)) {
    for (const arch of safeReaddir(join(root, v))) {
      if (arch !== 'x86_64' && arch !== 'aarch64') continue;
      const meta = readMeta(join(root, v, arch));
      const c = readCached(meta?.version ?? v, arch, env);
      if (c) out.push(c);
    }
  }
  return out;
}

function safeReaddir(dir: string): string[] {
  try {
    return fs.readdirSync(dir).filter((n) => !n.startsWith('.')).sort();
  } catch {
    return [];
  }
}

/** Remove a cached version (all architectures). Returns the directories removed. */
export function removeCached(version: string, env: NodeJS.ProcessEnv = process.env): string[] {
  const dir = join(kernelsDir(env), versionDirName(version));
  if (dirname(dir) !== kernelsDir(env)) throw new Error(`internal: ${version} names no directory of ${kernelsDir(env)}`);
  if (!fs.existsSync(dir)) return [];
  fs.rmSync(dir, { recursive: true, force: true });
  return [dir];
}

export interface PullOptions {
  version: string;
  arch: Arch;
  hiddenSymbols: boolean;
  env?: NodeJS.ProcessEnv;
  http?: HttpGet;
  /** GitHub API base; default https://api.github.com, or $OSV_GITHUB_API. */
  api?: string;
  /** Fetch this tag of this repo instead of what `version` says (a lock pins "latest"). */
  pinned?: ReleaseRef;
  onProgress?(bytes: number, total: number | undefined, asset: string): void;
}

/** Instructions for getting the kernel without osv-up's network access. */
export function manualDownloadError(
  version: string,
  ref: ReleaseRef,
  arch: Arch,
  dir: string,
  problem: NetworkProblem,
  assets?: Partial<Record<AssetRole, ReleaseAsset>>,
): OsvError {
  const certificate = certificateHint(problem.reason);
  const details: string[] = [`${problem.url}: ${problem.reason}`, `to install it by hand, from ${releasePage(ref)}:`];
  for (const role of ['elf', 'img'] as const) {
    const target = join(dir, KERNEL_FILES[role]);
    const what = role === 'elf' ? 'the kernel for direct boot (disk images, Firecracker)' : 'loader.img (bootable images)';
    const a = assets?.[role];
    if (a) {
      details.push(`  ${what}: download ${a.url}`);
      details.push(a.name.endsWith('.gz') ? `    gunzip it and save it as ${target}` : `    save it as ${target}`);
    } else {
      details.push(`  ${what}: the asset whose name ends in "${roleMarker(role, arch)}" or "${roleMarker(role, arch)}.gz"`);
      details.push(`    (gunzip a .gz) saved as ${target}`);
    }
  }
  return new OsvError({
    code: 'kernel.download-failed',
    message: `cannot download the OSv kernel ${version} (${arch}${asDefaultRelease(version, arch) ? ", osv-up's default: the project names no kernel" : ''}): ${certificate ? "the server's certificate was refused" : /^(HTTP |the answer is larger|refused a redirect|more than \d+ redirects)/.test(problem.reason) ? 'GitHub did not serve it' : 'no connection to GitHub'}`,
    details,
    hint: (certificate ? `${certificate}; or ` : '') + 'with the files in place the build uses them and pins their sha256 in osv.lock; or build OSv and set kernel.path (or OSV_KERNEL) to its build/last directory',
    exitCode: ExitCode.buildFailed,
  });
}

/** The default release's assets as GitHub serves them, for instructions given before any answer. */
function namedAssets(d: DefaultRelease, ref: ReleaseRef): Record<AssetRole, ReleaseAsset> {
  const one = (name: string): ReleaseAsset => ({ name, url: assetUrl(ref.repo, ref.tag, name), size: 0 });
  return { elf: one(d.assets.elf), img: one(d.assets.img) };
}

/** The release's assets with exactly these names. */
function pickNamed(assets: ReleaseAsset[], names: Record<AssetRole, string>): Partial<Record<AssetRole, ReleaseAsset>> {
  const out: Partial<Record<AssetRole, ReleaseAsset>> = {};
  for (const role of ['elf', 'img'] as const) {
    const a = assets.find((x) => x.name === names[role]);
    if (a) out[role] = a;
  }
  return out;
}

/** Download a release into the cache (replacing what was there). */
export async function pullKernel(opts: PullOptions): Promise<Result<CachedKernel, OsvError>> {
  const env = opts.env ?? process.env;
  const http = opts.http ?? fetchHttp;
  const api = opts.api ?? env['OSV_GITHUB_API'] ?? DEFAULT_API;
  const parsed = parseVersion(opts.version);
  if (!parsed.ok) return parsed;
  const ref = opts.pinned ?? parsed.value;
  const dir = kernelDir(opts.version, opts.arch, env);

  // osv-up's default release is downloaded by its exact asset names, known before any request.
  const fixed = asDefaultRelease(opts.version, opts.arch);
  const known = fixed ? namedAssets(fixed, ref) : undefined;
  const release = await fetchRelease(ref, http, api);
  if (release instanceof NetworkProblem) return err(manualDownloadError(opts.version, ref, opts.arch, dir, release, known));
  if (!release.ok) return release;
  const rel = release.value;
  const chosen = fixed ? pickNamed(rel.assets, fixed.assets) : selectAssets(rel.assets, opts.arch, opts.hiddenSymbols);
  if (fixed && (!chosen.elf || !chosen.img))
    return err(
      new OsvError({
        code: 'kernel.no-assets',
        message: `release ${rel.tag} of ${ref.repo} no longer has ${[fixed.assets.elf, fixed.assets.img].filter((n) => !rel.assets.some((a) => a.name === n)).join(' and ')}, the kernel this osv-up boots by default`,
        details: [`assets: ${rel.assets.map((a) => a.name).join(', ') || '(none)'}`],
        hint: `choose a kernel: kernel.version (a release, ${rel.htmlUrl}), kernel.path (an OSv build) or OSV_KERNEL`,
        exitCode: ExitCode.buildFailed,
      }),
    );
  if (!chosen.elf && !chosen.img)
    return err(
      new OsvError({
        code: 'kernel.no-assets',
        message: `release ${rel.tag} of ${ref.repo} has no OSv kernel for ${opts.arch}`,
        details: [`assets: ${rel.assets.map((a) => a.name).join(', ') || '(none)'}`, `looked for names ending in ${roleMarker('elf', opts.arch)} or ${roleMarker('img', opts.arch)} (optionally .gz)`],
        hint: `pick another release (${rel.htmlUrl}), or set kernel.path to an OSv build`,
        exitCode: ExitCode.buildFailed,
      }),
    );

  // Download everything first, then swap the directory in, so a failure changes nothing.
  const stage = join(kernelsDir(env), `.pull-${process.pid}-${randomBytes(4).toString('hex')}`);
  makeDirs(stage);
  try {
    const meta: Meta = { version: opts.version, repo: ref.repo, tag: rel.tag, arch: opts.arch, fetchedAt: new Date().toISOString(), files: {} };
    for (const asset of [chosen.elf, chosen.img]) {
      if (!asset) continue;
      const data = await downloadAsset(asset, http, (b, t) => opts.onProgress?.(b, t, asset.name));
      if (data instanceof NetworkProblem) return err(manualDownloadError(opts.version, ref, opts.arch, dir, data, chosen));
      if (!data.ok) return data;
      // Name by content: an asset called *.qemu.* that is really the ELF is stored as the ELF.
      const kind = classifyBytes(data.value.subarray(0, 512), data.value.length).kind;
      if (kind !== 'elf' && kind !== 'img')
        return err(
          new OsvError({
            code: 'kernel.bad-download',
            message: `${asset.name} (from ${asset.url}) is neither an ELF kernel nor a loader.img`,
            hint: 'the release may not contain an OSv kernel for this architecture; use kernel.path',
            exitCode: ExitCode.buildFailed,
          }),
        );
      if (meta.files[kind]) continue; // both assets were the same kind: keep the preferred one
      const sha256 = sha256Bytes(data.value);
      const want = fixed?.sha256[kind];
      if (want && want !== sha256)
        return err(
          new OsvError({
            code: 'kernel.default-mismatch',
            message: `${asset.name} from ${asset.url} is not the kernel this osv-up pins: sha256 ${sha256}, expected ${want}`,
            hint: 'the release was replaced; nothing was cached. Choose a kernel with kernel.version, kernel.path or OSV_KERNEL',
            exitCode: ExitCode.buildFailed,
          }),
        );
      fs.writeFileSync(join(stage, KERNEL_FILES[kind]), data.value);
      meta.files[kind] = { asset: asset.name, url: asset.url, sha256 };
    }
    fs.writeFileSync(join(stage, META), JSON.stringify(meta, null, 2) + '\n');
    makeDirs(join(dir, '..'));
    const old = `${stage}.old`;
    if (fs.existsSync(dir)) fs.renameSync(dir, old);
    fs.renameSync(stage, dir);
    fs.rmSync(old, { recursive: true, force: true });
  } finally {
    fs.rmSync(stage, { recursive: true, force: true });
  }
  const cached = readCached(opts.version, opts.arch, env);
  return cached ? ok(cached) : err(new OsvError({ code: 'kernel.cache', message: `the kernel was downloaded but ${dir} cannot be read back`, exitCode: ExitCode.buildFailed }));
}
