// Sending an assembled image to a registry: every blob first (a HEAD skips what the repository
// has; a blob this machine pushed to another repository of the same registry is mounted from
// there instead of uploaded; for a blob never pushed there, the upload session is opened beside
// the HEAD), the config, then the manifest under its tag. The manifest goes
// last, so a failed push never leaves a tag naming missing blobs. Blob uploads run three at a
// time. Which repositories hold which blobs is remembered in the image cache, only as a hint
// for mounts (a mount the registry refuses falls back to an upload).

import * as fs from 'node:fs';
import { join } from 'node:path';
import type { ContentStore } from './cache.js';
import type { Digest } from './digest.js';
import { FileBody } from './file-body.js';
import type { Platform } from './manifest.js';
import { formatReference, type RegistryReference } from './reference.js';
import { RegistryClient, type RegistryOptions } from './registry.js';

export type BlobRole = 'kernel' | 'disk' | 'config' | 'manifest';
export type BlobAction = 'uploaded' | 'exists' | 'mounted' | 'written';

export interface ImageBlob {
  role: BlobRole;
  mediaType: string;
  digest: Digest;
  size: number;
  /** Where the bytes are: a file (layers, in the content store) or in memory (config, manifest). */
  file?: string;
  bytes?: Buffer;
}

/** An image ready to go anywhere: its blobs and its manifest. */
export interface AssembledImage {
  platform: Platform;
  layers: ImageBlob[];
  config: ImageBlob;
  manifest: ImageBlob;
}

export interface PushedBlob {
  role: BlobRole;
  mediaType: string;
  digest: Digest;
  size: number;
  action: BlobAction;
  /** For a mount: the repository it came from. */
  from?: string;
}

export interface PushResult {
  /** The target in full: docker.io/library/app:1, oci:DIR:TAG, oci-archive:FILE. */
  target: string;
  digest: Digest;
  blobs: PushedBlob[];
}

/** A blob's bytes for an upload: those in memory, or its file sent through reused buffers (file-body.ts). */
export const blobContent = (b: ImageBlob): (() => FileBody | Buffer) => () => b.bytes ?? new FileBody(b.file!, b.size);

// ---- where this machine pushed what (hints for cross-repository mounts) ----

const hintsPath = (store: ContentStore, registry: string): string => join(store.root, 'pushed', `${registry.replace(/[^A-Za-z0-9.-]/g, '_')}.json`);

function readHints(store: ContentStore, registry: string): Record<string, string[]> {
  try {
    const v = JSON.parse(fs.readFileSync(hintsPath(store, registry), 'utf8')) as unknown;
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, string[]>) : {};
  } catch {
    return {};
  }
}

function rememberHints(store: ContentStore, registry: string, repo: string, digests: Digest[]): void {
  const hints = readHints(store, registry);
  for (const d of digests) hints[d] = [repo, ...(hints[d] ?? []).filter((r) => r !== repo)].slice(0, 8);
  try {
    store.writeFile(hintsPath(store, registry), JSON.stringify(hints));
  } catch {
    // only a hint: the push itself succeeded
  }
}

/** The first requests for a blob: its HEAD, and (for a blob never pushed there) its upload session. */
export interface BlobProbe {
  exists: Promise<boolean>;
  session?: Promise<URL | undefined>;
}

/**
 * A blob this machine never pushed to the registry is most likely new to it: its upload session
 * is opened while the HEAD asks, one round trip less before the upload (closed if not needed).
 */
function probeBlob(client: RegistryClient, repo: string, digest: Digest, mountFrom: string[]): BlobProbe {
  const exists = client.hasBlob(repo, digest);
  const session = mountFrom.length === 0 ? client.startUpload(repo, digest) : undefined;
  // Awaited by pushBlob, or closed by BlobsAhead.release: not unhandled rejections meanwhile.
  exists.catch(() => undefined);
  session?.catch(() => undefined);
  return { exists, ...(session ? { session } : {}) };
}

async function closeSession(client: RegistryClient, repo: string, probe: BlobProbe): Promise<void> {
  const s = await probe.session?.catch(() => undefined);
  if (s) await client.cancelUpload(repo, s);
}

/**
 * The probes of the blobs a push will most likely send, made before the work that says which
 * blobs they are: `osv push` of an up-to-date build sends them for the blobs it pushed last
 * time, then checks the build (a few hundred stats that hold the thread) while the registry
 * answers. pushToRegistry takes the probes of the blobs it pushes; release(), once the push is
 * done or did not happen, closes the upload sessions of the others (the build had changed).
 */
export class BlobsAhead {
  private readonly probes = new Map<Digest, BlobProbe>();
  /** Where this machine pushed what on the registry, read once for the probes and the push. */
  readonly hints: Record<string, string[]>;

  constructor(
    private readonly client: RegistryClient,
    private readonly repo: string,
    digests: Digest[],
    store: ContentStore,
  ) {
    this.hints = readHints(store, client.registry);
    for (const d of digests) if (!this.probes.has(d)) this.probes.set(d, probeBlob(client, repo, d, this.hints[d] ?? []));
  }

  /** The probe of `digest`, once. */
  take(digest: Digest): BlobProbe | undefined {
    const p = this.probes.get(digest);
    this.probes.delete(digest);
    return p;
  }

  /** Close the upload sessions nobody took (failures are left to the registry's clean-up). */
  async release(): Promise<void> {
    const left = [...this.probes.values()];
    this.probes.clear();
    await Promise.all(left.map((p) => closeSession(this.client, this.repo, p)));
  }
}

async function pushBlob(client: RegistryClient, repo: string, b: ImageBlob, mountFrom: string[], ahead?: BlobsAhead): Promise<PushedBlob> {
  const base = { role: b.role, mediaType: b.mediaType, digest: b.digest, size: b.size };
  const probe = ahead?.take(b.digest) ?? probeBlob(client, repo, b.digest, mountFrom);
  let exists: boolean;
  try {
    exists = await probe.exists;
  } catch (e) {
    await closeSession(client, repo, probe);
    throw e;
  }
  if (exists) {
    await closeSession(client, repo, probe);
    return { ...base, action: 'exists' };
  }
  for (const from of mountFrom) {
    if (from !== repo && (await client.mountBlob(repo, b.digest, from))) {
      await closeSession(client, repo, probe);
      return { ...base, action: 'mounted', from };
    }
  }
  const session = probe.session ? await probe.session : await client.startUpload(repo, b.digest);
  if (session) await client.finishUpload(repo, b.digest, b.size, blobContent(b), session);
  return { ...base, action: 'uploaded' };
}

/** `ahead`: probes sent before the image was assembled (see BlobsAhead); its maker releases it. */
export async function pushToRegistry(ref: RegistryReference, img: AssembledImage, store: ContentStore, opts: RegistryOptions = {}, client = new RegistryClient(ref.registry, opts), ahead?: BlobsAhead): Promise<PushResult> {
  const repo = ref.repository;
  const hints = ahead?.hints ?? readHints(store, ref.registry);
  const blobs = [...img.layers, img.config];
  const pushed: PushedBlob[] = new Array(blobs.length);
  let next = 0;
  let failed = false;
  const worker = async (): Promise<void> => {
    while (!failed && next < blobs.length) {
      const i = next++;
      const b = blobs[i]!;
      try {
        pushed[i] = await pushBlob(client, repo, b, hints[b.digest] ?? [], ahead);
      } catch (e) {
        failed = true;
        throw e;
      }
    }
  };
  // After a failure no other blob is started, and those under way end (their upload sessions
  // used or closed) before the failure is reported: the process may exit right after it.
  const ended = await Promise.allSettled([worker(), worker(), worker()]);
  const failure = ended.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failure) throw failure.reason;
  const tag = ref.tag ?? 'latest';
  const digest = await client.putManifest(repo, tag, img.manifest.bytes!, img.manifest.mediaType);
  rememberHints(store, ref.registry, repo, blobs.map((b) => b.digest));
  return {
    target: formatReference({ ...ref, tag }),
    digest,
    blobs: [...pushed, { role: 'manifest', mediaType: img.manifest.mediaType, digest, size: img.manifest.size, action: 'uploaded' }],
  };
}
