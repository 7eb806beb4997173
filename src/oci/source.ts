// Where an image's manifests and blobs come from: a registry, an OCI image layout directory,
// or a tarball (docker save, oci-archive). One interface, so pulling, verifying and caching are
// the same for all of them. Everything a source returns is verified by the puller against the
// digests that name it.

import { isAbsolute, resolve as resolvePath } from 'node:path';
import { ExitCode, OsvError } from '../diagnostics/error.js';
import type { Digest } from './digest.js';
import { formatPlatform, parseManifest, selectPlatform, type Platform } from './manifest.js';
import { fetchBlockedPort, formatReference, manifestRef, type ImageReference, type RegistryReference } from './reference.js';
import { RegistryClient, type RegistryOptions } from './registry.js';

export interface ImageSource {
  /** The reference in full, for messages. */
  readonly label: string;
  /** The digest of the platform's manifest (a tag resolved, an index looked into). */
  resolve(platform: Platform): Promise<Digest>;
  /** Manifest bytes by digest (the puller checks the digest). */
  manifest(digest: Digest): Promise<Buffer>;
  /** A blob's bytes (the puller checks digest and size). */
  blob(digest: Digest, size: number): Promise<AsyncIterable<Buffer>>;
}

export class RegistrySource implements ImageSource {
  readonly label: string;
  private readonly client: RegistryClient;
  constructor(
    private readonly ref: RegistryReference,
    opts: RegistryOptions = {},
  ) {
    this.label = formatReference(ref);
    // fetch would fail with a bare "bad port"; say what it means.
    const blocked = opts.fetch ? undefined : fetchBlockedPort(ref.registry);
    if (blocked) throw sourceError(this.label, `cannot pull from ${ref.registry}: ${blocked}`, 'serve the registry on another port (5000 is usual) and name that port in the reference');
    this.client = new RegistryClient(ref.registry, opts);
  }

  async resolve(platform: Platform): Promise<Digest> {
    const ref = manifestRef(this.ref);
    // HEAD first: a single-platform manifest's digest costs no pull (Docker Hub counts GETs).
    const head = await this.client.headManifest(this.ref.repository, ref);
    if (head.digest && (head.mediaType.endsWith('manifest.v1+json') || head.mediaType.endsWith('manifest.v2+json')) && !head.mediaType.includes('list')) return head.digest;
    const m = await this.client.getManifest(this.ref.repository, head.digest ?? ref);
    const parsed = parseManifest(m.bytes, this.label, m.mediaType);
    if (!parsed.ok) throw parsed.error;
    if (parsed.value.kind === 'manifest') return m.digest;
    const d = selectPlatform(parsed.value, platform, this.label);
    if (!d.ok) throw d.error;
    return d.value.digest;
  }

  async manifest(digest: Digest): Promise<Buffer> {
    return (await this.client.getManifest(this.ref.repository, digest)).bytes;
  }

  blob(digest: Digest): Promise<AsyncIterable<Buffer>> {
    return this.client.getBlob(this.ref.repository, digest);
  }
}

export const sourceError = (label: string, message: string, hint?: string): OsvError =>
  new OsvError({ code: 'oci.bad-source', message: `${label}: ${message}`, ...(hint ? { hint } : {}), exitCode: ExitCode.invalidInput });

/** The source for a reference; layout and archive paths are relative to `baseDir`. */
export async function openSource(ref: ImageReference, baseDir: string, opts: RegistryOptions = {}): Promise<ImageSource> {
  if (ref.transport === 'registry') return new RegistrySource(ref, opts);
  const path = isAbsolute(ref.path) ? ref.path : resolvePath(baseDir, ref.path);
  const { LayoutSource } = await import('./layout.js');
  if (ref.transport === 'oci') return LayoutSource.directory(path, formatReference(ref), ref.tag);
  const { openArchive } = await import('./archive.js');
  return openArchive(path, ref, formatReference(ref));
}

/** Pick a manifest out of an index by platform, reading nested indexes through `read`. */
export async function platformManifest(bytes: Buffer, digest: Digest, platform: Platform, label: string, read: (d: Digest) => Promise<Buffer>, depth = 0): Promise<Digest> {
  const parsed = parseManifest(bytes, label);
  if (!parsed.ok) throw parsed.error;
  if (parsed.value.kind === 'manifest') return digest;
  if (depth > 4) throw sourceError(label, 'indexes nested too deeply');
  const d = selectPlatform(parsed.value, platform, label);
  if (!d.ok) throw d.error;
  return platformManifest(await read(d.value.digest), d.value.digest, platform, label, read, depth + 1);
}

export { formatPlatform };
