// An image pushed by `osv push`, fetched for booting on a machine without its osv.yaml or its
// kernel: resolved (a tag costs a HEAD), pulled into the shared cache like any image (every blob
// verified against its digest), then its kernel and disk copied out of the cached layers into
// $XDG_CACHE_HOME/osv-up/oci/osv/<digest>/, where the kernel is checked against the sha256 its
// labels name and the disk must be a qcow2 without a backing file. The directory appears only
// complete (made beside it, renamed into place); an image pinned by digest and already there
// needs no network at all.

import * as fs from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Arch } from '../config/types.js';
import { ExitCode, OsvError } from '../diagnostics/error.js';
import { checkStandaloneQcow2 } from '../oci/assemble.js';
import { ContentStore, ociCacheDir } from '../oci/cache.js';
import { digestHex, type Digest } from '../oci/digest.js';
import { fileSha256 } from '../oci/layer-writer.js';
import { platformFor } from '../oci/manifest.js';
import { readMeta, type OsvImageMeta, type VolumeSeed } from '../oci/osv-image.js';
import { isCached, openImage, pullImage, type PullProgress } from '../oci/pull.js';
import { formatReference, parseReference, type ImageReference, type RegistryReference } from '../oci/reference.js';
import { openSource } from '../oci/source.js';
import { makeDirs } from '../atomic.js';

export interface LocalOsvImage {
  /** The reference as given, in full. */
  reference: string;
  digest: Digest;
  meta: OsvImageMeta;
  /** The kernel ELF and the qcow2 disk, in the cache. */
  kernel: string;
  disk: string;
  /** Fetched now (false: all of it was in the cache). */
  pulled: boolean;
}

export interface FetchOptions {
  env: NodeJS.ProcessEnv;
  arch: Arch;
  /** Where oci: and oci-archive: paths start. */
  baseDir: string;
  progress?: PullProgress;
  signal?: AbortSignal;
}

const bad = (label: string, why: string, hint = 'push it again with `osv push`'): OsvError => new OsvError({ code: 'image-ref.not-osv', message: `${label}: ${why}`, hint, exitCode: ExitCode.invalidInput });

/** Whether a `osv run` argument names an image (not a file): a transport, a registry host, a tag or a digest. */
export function looksLikeImageRef(text: string, cwd: string): boolean {
  if (fs.existsSync(join(cwd, text)) || fs.existsSync(text) || /\.(img|qcow2|raw)$/.test(text)) return false;
  if (/^(oci|oci-archive|docker):/.test(text)) return true;
  const r = parseReference(text);
  if (!r.ok || r.value.transport !== 'registry') return false;
  const first = text.split('/')[0]!;
  return text.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost') ? true : /[:@]/.test(text);
}

export function parseImageRef(text: string): ImageReference {
  const r = parseReference(text);
  if (!r.ok) throw new OsvError({ code: 'image-ref.usage', message: r.error, hint: 'e.g. registry.example.com/team/app:1.0, oci:DIR:TAG or oci-archive:FILE', exitCode: ExitCode.usage });
  return r.value;
}

const metaFile = (dir: string): string => join(dir, 'image.json');

function readLocal(dir: string, reference: string, digest: Digest): LocalOsvImage | undefined {
  try {
    const meta = JSON.parse(fs.readFileSync(metaFile(dir), 'utf8')) as OsvImageMeta;
    const kernel = join(dir, 'loader-stripped.elf');
    const disk = join(dir, 'disk.qcow2');
    if (!fs.existsSync(kernel) || !fs.existsSync(disk)) return undefined;
    return { reference, digest, meta, kernel, disk, pulled: false };
  } catch {
    return undefined;
  }
}

function copyOut(from: { file: string; offset: number; size: number }, to: string): void {
  const src = fs.openSync(from.file, 'r');
  const dst = fs.openSync(to, 'wx', 0o644);
  try {
    const buf = Buffer.allocUnsafe(1 << 20);
    let done = 0;
    while (done < from.size) {
      const n = fs.readSync(src, buf, 0, Math.min(buf.length, from.size - done), from.offset + done);
      if (n === 0) throw new Error(`${from.file} ends early`);
      let w = 0;
      while (w < n) w += fs.writeSync(dst, buf, w, n - w);
      done += n;
    }
  } finally {
    fs.closeSync(src);
    fs.closeSync(dst);
  }
}

/**
 * `dir` in the cache, complete or not at all: `fill` writes it beside it, then it is renamed into
 * place (a concurrent run that got there first, `done()`, wrote the same bytes).
 */
async function placeInCache(store: ContentStore, dir: string, done: () => boolean, fill: (tmp: string) => Promise<void> | void): Promise<void> {
  const tmp = join(store.root, 'tmp', `osv-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    makeDirs(tmp);
    await fill(tmp);
    makeDirs(join(dir, '..'));
    try {
      fs.renameSync(tmp, dir);
    } catch (e) {
      if (!done()) throw e;
    }
  } catch (e) {
    if (e instanceof OsvError) throw e;
    throw new OsvError({ code: 'image-ref.cache-write', message: `cannot write the image cache (${store.root}): ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, hint: 'check free space and permissions of $XDG_CACHE_HOME (default ~/.cache)', exitCode: ExitCode.buildFailed });
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/** A qcow2 copied out of the cache must stand alone (no backing file), as a containerDisk must. */
function checkDisk(label: string, path: string, file: string): void {
  try {
    checkStandaloneQcow2(file);
  } catch (e) {
    throw bad(label, `its disk ${path}: ${(e as OsvError).message.replace(/^\S+ /, '')}`);
  }
}

export async function fetchOsvImage(text: string, opts: FetchOptions): Promise<LocalOsvImage> {
  const ref = parseImageRef(text);
  const label = formatReference(ref);
  const store = new ContentStore(ociCacheDir(opts.env));
  const platform = platformFor(opts.arch);
  const dirFor = (d: Digest): string => join(store.root, 'osv', digestHex(d));
  // Pinned by digest and already here: no network.
  if (ref.transport === 'registry' && ref.digest) {
    const local = readLocal(dirFor(ref.digest), label, ref.digest);
    if (local) return local;
  }
  const source = await openSource(ref, opts.baseDir, { env: opts.env, ...(opts.signal ? { signal: opts.signal } : {}) });
  const digest = await source.resolve(platform);
  const dir = dirFor(digest);
  const local = readLocal(dir, label, digest);
  if (local) return local;
  const pulled = !isCached(store, digest);
  if (pulled) await pullImage(source, digest, platform, store, opts.progress ?? {}, opts.signal);
  const image = openImage(store, digest, label);
  const meta = readMeta(image.config.labels, opts.arch);
  if (!meta.ok) throw bad(label, meta.error, 'osv run REF boots images made by `osv push`; for another image, use it as from: in osv.yaml');
  const kernelAt = image.fs.locate(meta.value.kernel.path);
  if (!kernelAt) throw bad(label, `it has no file ${meta.value.kernel.path}, which its labels name as the kernel`);
  let disks: string[];
  try {
    disks = image.fs.readdir('/disk');
  } catch {
    disks = [];
  }
  if (disks.length !== 1 || `/disk/${disks[0]}` !== meta.value.disk.path)
    throw bad(label, `/disk/ must hold exactly the one file ${meta.value.disk.path}; it holds ${disks.length === 0 ? 'nothing' : disks.join(', ')}`);
  const diskAt = image.fs.locate(meta.value.disk.path)!;
  await placeInCache(store, dir, () => readLocal(dir, label, digest) !== undefined, async (tmp) => {
    copyOut(kernelAt, join(tmp, 'loader-stripped.elf'));
    copyOut(diskAt, join(tmp, 'disk.qcow2'));
    const sha = await fileSha256(join(tmp, 'loader-stripped.elf'));
    if (sha !== meta.value.kernel.sha256) throw bad(label, `its kernel's sha256 is ${sha}, not the ${meta.value.kernel.sha256} its labels name`, 'the image was changed after `osv push`; push it again');
    checkDisk(label, meta.value.disk.path, join(tmp, 'disk.qcow2'));
    fs.writeFileSync(metaFile(tmp), JSON.stringify(meta.value, null, 1));
  });
  return { ...readLocal(dir, label, digest)!, pulled };
}

/**
 * A named volume's seed disk (push-volumes.ts pushed it to the application's repository, pinned
 * by digest): pulled into the cache like any image, its qcow2 copied out once to
 * $XDG_CACHE_HOME/osv-up/oci/osv/seeds/<digest>/ and checked to stand alone. `app` is the
 * application's reference: the seed is in its repository.
 */
export async function fetchSeedDisk(app: RegistryReference, seed: VolumeSeed, opts: FetchOptions): Promise<string> {
  const ref: RegistryReference = { ...app, digest: seed.digest };
  const label = formatReference(ref);
  const store = new ContentStore(ociCacheDir(opts.env));
  const dir = join(store.root, 'osv', 'seeds', digestHex(seed.digest));
  const disk = join(dir, 'disk.qcow2');
  if (fs.existsSync(disk)) return disk;
  const platform = platformFor(opts.arch);
  const source = await openSource(ref, opts.baseDir, { env: opts.env, ...(opts.signal ? { signal: opts.signal } : {}) });
  const digest = await source.resolve(platform);
  if (!isCached(store, digest)) await pullImage(source, digest, platform, store, opts.progress ?? {}, opts.signal);
  const at = openImage(store, digest, label).fs.locate(seed.path);
  if (!at) throw bad(label, `it has no file ${seed.path}, which the application's labels name as a volume's seed`);
  await placeInCache(store, dir, () => fs.existsSync(disk), (tmp) => {
    copyOut(at, join(tmp, 'disk.qcow2'));
    checkDisk(label, seed.path, join(tmp, 'disk.qcow2'));
  });
  return disk;
}
