// `osv cache ls|prune`: what the image cache holds, and freeing it. The cache is shared by
// every project of the user; prune keeps the images the current project's osv.lock pins
// (unless --all), and always removes what no image refers to and what a killed pull left,
// including the kernels and disks `osv run REF` copied out of pushed images (osv/<digest>/,
// osv/seeds/<digest>/): a later `osv run REF` pulls them again. Prune also empties the caches
// osv computes from files it reads (the symbol check's per-object symbols and findings, kernels'
// symbol tables, validators compiled by older versions): they grow with every library and
// kernel seen, and cost only time to make again.

import * as fs from 'node:fs';
import { join } from 'node:path';
import { defaultObjectCacheDir } from '../check/object-cache.js';
import { defaultReportCacheDir } from '../check/report-cache.js';
import { defaultSymbolCacheDir } from '../check/symbol-cache.js';
import { cacheRoot } from '../kernel/cache.js';
import { defaultElfReadCacheDir } from '../resolve/read-cache.js';
import { formatBytes, plural } from '../units.js';
import { ContentStore, ociCacheDir, type CachedImage } from './cache.js';
import type { Digest } from './digest.js';
import { readImageLocks } from './lock.js';
import { printLine } from '../output.js';

const out = printLine;

/** Bytes of a file, or of every file under a directory. */
function sizeOf(path: string): number {
  try {
    const st = fs.statSync(path);
    if (!st.isDirectory()) return st.size;
    return fs.readdirSync(path).reduce((s, n) => s + sizeOf(join(path, n)), 0);
  } catch {
    return 0;
  }
}

/** Bytes an image takes: manifest, config and its uncompressed layers (shared layers counted in each). */
function imageBytes(store: ContentStore, r: CachedImage): number {
  return sizeOf(store.blobPath(r.digest)) + sizeOf(store.blobPath(r.config)) + r.layers.reduce((s, l) => s + sizeOf(store.blobPath(l.diffId)) + sizeOf(store.indexPath(l.diffId)), 0);
}

function listFiles(dir: string): string[] {
  try {
    return fs.readdirSync(dir).map((n) => join(dir, n));
  } catch {
    return [];
  }
}

/** The kernels and disks copied out of pushed images (src/tasks/osv-image-fetch.ts), by digest. */
function unpackedOsvImages(root: string): Array<{ digest: string; path: string }> {
  const osv = join(root, 'osv');
  const named = (dir: string): Array<{ digest: string; path: string }> =>
    listFiles(dir)
      .filter((p) => /^[0-9a-f]{64}$/.test(p.slice(dir.length + 1)))
      .map((path) => ({ digest: `sha256:${path.slice(-64)}`, path }));
  return [...named(osv), ...named(join(osv, 'seeds'))];
}

/** The caches osv computes (never downloads), each emptied whole by prune. */
function derivedCaches(env: NodeJS.ProcessEnv): Array<{ name: string; path: string }> {
  return [
    { name: "the symbol check's per-object symbols", path: defaultObjectCacheDir(env) },
    { name: "the symbol check's findings", path: defaultReportCacheDir(env) },
    { name: "kernels' symbol tables", path: defaultSymbolCacheDir(env) },
    { name: "the resolver's reads of ELF files", path: defaultElfReadCacheDir(env) },
    // Written by osv-up before its validators were generated at build time.
    { name: 'validators compiled by older osv-up versions', path: join(cacheRoot(env), 'schema') },
  ];
}

export async function cacheLsCommand(opts: { json?: boolean }, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const store = new ContentStore(ociCacheDir(env));
  const images = store.images().map((r) => ({ reference: r.reference, digest: r.digest, platform: r.platform, layers: r.layers.length, bytes: imageBytes(store, r) }));
  const unpacked = unpackedOsvImages(store.root).map((u) => u.path);
  const total = [...listFiles(join(store.root, 'blobs', 'sha256')), ...listFiles(join(store.root, 'layers', 'sha256')), ...unpacked].reduce((s, f) => s + sizeOf(f), 0);
  const derived = derivedCaches(env).map((c) => ({ ...c, bytes: sizeOf(c.path) }));
  if (opts.json) return out(JSON.stringify({ dir: store.root, images, bytes: total, derived }, null, 2));
  if (images.length === 0) out(`no images in ${store.root}`);
  else {
    for (const i of images) out(`${i.reference}  ${i.digest}  ${i.platform}  ${plural(i.layers, 'layer')}  ${formatBytes(i.bytes)}`);
    out(`${plural(images.length, 'image')}, ${formatBytes(total)} in ${store.root}`);
  }
  const made = derived.filter((c) => c.bytes > 0);
  if (made.length > 0) out(`computed, made again when needed (prune empties them): ${made.map((c) => `${c.name} ${formatBytes(c.bytes)}`).join(', ')}`);
}

/** A temp file of a pull still running (its process alive) must be left alone: `<pid>-…`, or `osv-<pid>-…` for an unpacked image. */
function live(tmpName: string): boolean {
  const pid = Number(tmpName.replace(/^osv-/, '').split('-')[0]);
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export async function cachePruneCommand(opts: { all?: boolean; json?: boolean }, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const store = new ContentStore(ociCacheDir(env));
  const keep = new Set<string>();
  if (!opts.all) {
    const locks = readImageLocks(process.cwd());
    if (locks.ok) for (const platforms of Object.values(locks.value)) for (const p of Object.values(platforms)) keep.add(p.digest);
  }
  let freed = 0;
  const removed: string[] = [];
  const rm = (path: string): void => {
    const n = sizeOf(path);
    try {
      fs.rmSync(path, { force: true, recursive: true });
      freed += n;
    } catch {
      // still in use or not ours: leave it
    }
  };
  const kept = store.images().filter((r) => keep.has(r.digest));
  for (const r of store.images())
    if (!keep.has(r.digest)) {
      rm(store.imagePath(r.digest));
      removed.push(`${r.reference} (${r.digest})`);
    }
  // Blobs no kept image refers to: layers, manifests, configs of removed or unfinished pulls.
  const wanted = new Set<string>();
  for (const r of kept) for (const d of [r.digest, r.config, ...r.layers.map((l) => l.diffId)]) wanted.add(d.slice('sha256:'.length));
  for (const f of listFiles(join(store.root, 'blobs', 'sha256'))) if (!wanted.has(f.slice(-64))) rm(f);
  for (const f of listFiles(join(store.root, 'layers', 'sha256'))) if (!wanted.has(f.slice(-69, -5))) rm(f);
  for (const u of unpackedOsvImages(store.root))
    if (!keep.has(u.digest)) {
      rm(u.path);
      removed.push(`unpacked ${u.digest}`);
    }
  for (const f of listFiles(join(store.root, 'tmp'))) if (!live(f.slice(f.lastIndexOf('/') + 1))) rm(f);
  for (const c of derivedCaches(env)) {
    const before = freed;
    for (const f of listFiles(c.path)) rm(f);
    if (freed > before) removed.push(`${c.name} (${formatBytes(freed - before)})`);
  }
  const summary = { ok: true, removed, kept: kept.map((r) => `${r.reference} (${r.digest as Digest})`), freedBytes: freed };
  if (opts.json) return out(JSON.stringify(summary, null, 2));
  for (const r of removed) out(`removed ${r}`);
  for (const k of summary.kept) out(`kept ${k} (pinned by osv.lock)`);
  out(`freed ${formatBytes(freed)}`);
}
