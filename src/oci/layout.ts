// The OCI image layout (image-spec image-layout.md): `oci-layout`, `index.json` naming the
// images (tags in the org.opencontainers.image.ref.name annotation), `blobs/<alg>/<hex>`. Read
// from a directory or, through the same file access, from inside a tarball (oci-archive, and
// the OCI layout Docker 25 and later put in `docker save` output).

import * as fs from 'node:fs';
import { join } from 'node:path';
import type { Digest } from './digest.js';
import { digestHex } from './digest.js';
import { parseManifest, type Descriptor, type Platform } from './manifest.js';
import { platformManifest, sourceError, type ImageSource } from './source.js';

/** Read access to the files of a layout, wherever they are. */
export interface LayoutFiles {
  /** Whole small file (index.json, manifests), or undefined when absent. */
  read(path: string): Buffer | undefined;
  stream(path: string): AsyncIterable<Buffer>;
  /** Where the files are, for messages. */
  where: string;
}

export const REF_NAME = 'org.opencontainers.image.ref.name';
/** The full reference containerd and Docker write beside the short ref.name. */
export const CONTAINERD_NAME = 'io.containerd.image.name';

export function directoryFiles(dir: string): LayoutFiles {
  return {
    where: dir,
    read(path) {
      try {
        return fs.readFileSync(join(dir, path));
      } catch {
        return undefined;
      }
    },
    stream: (path) => fs.createReadStream(join(dir, path), { highWaterMark: 1 << 20 }),
  };
}

const blobPath = (d: Digest): string => `blobs/sha256/${digestHex(d)}`;

export class LayoutSource implements ImageSource {
  constructor(
    private readonly files: LayoutFiles,
    readonly label: string,
    /** Which index entry: by ref.name (or full containerd name); none = the only one. */
    private readonly pick: (d: Descriptor) => boolean | undefined,
    private readonly wanted: string | undefined,
  ) {}

  static directory(dir: string, label: string, tag: string | undefined): LayoutSource {
    if (!fs.existsSync(join(dir, 'index.json')))
      throw sourceError(label, `${dir} is not an OCI image layout (it has no index.json)`, 'oci: names a directory written by skopeo copy oci:DIR, umoci or buildah push oci:DIR');
    return new LayoutSource(directoryFiles(dir), label, (d) => (tag === undefined ? undefined : d.annotations?.[REF_NAME] === tag), tag);
  }

  private entries(): Descriptor[] {
    const bytes = this.files.read('index.json');
    if (!bytes) throw sourceError(this.label, `${this.files.where} has no index.json`);
    const parsed = parseManifest(bytes, `${this.label} (index.json)`);
    if (!parsed.ok) throw parsed.error;
    if (parsed.value.kind !== 'index') throw sourceError(this.label, 'index.json is not an image index');
    return parsed.value.manifests;
  }

  async resolve(platform: Platform): Promise<Digest> {
    const all = this.entries();
    const names = all.map((d) => d.annotations?.[REF_NAME]).filter((n): n is string => n !== undefined);
    let chosen: Descriptor | undefined;
    if (all.length === 0) throw sourceError(this.label, 'the layout holds no image (its index.json lists none)', 'write the image into it again');
    if (this.wanted !== undefined) {
      const tagged = all.filter((d) => this.pick(d));
      chosen = tagged[0];
      if (!chosen) throw sourceError(this.label, `no image is tagged "${this.wanted}"`, names.length > 0 ? `the tags are: ${names.join(', ')}` : 'the layout has no tagged image');
      // Two different images under one tag: which one is meant cannot be told.
      const digests = [...new Set(tagged.map((d) => d.digest))];
      if (digests.length > 1) throw sourceError(this.label, `${digests.length} different images are tagged "${this.wanted}" (${digests.join(', ')})`, 'the layout is ambiguous: write it again, or tag the images apart');
    } else {
      if (all.length !== 1) throw sourceError(this.label, `it holds ${all.length} images: name one`, names.length > 0 ? `add :TAG, one of: ${names.join(', ')}` : undefined);
      chosen = all[0]!;
    }
    return platformManifest(await this.manifest(chosen.digest), chosen.digest, platform, this.label, (d) => this.manifest(d));
  }

  async manifest(digest: Digest): Promise<Buffer> {
    const b = this.files.read(blobPath(digest));
    if (!b) throw sourceError(this.label, `the blob ${digest} is missing from ${this.files.where}`, 'the layout is incomplete; write it again');
    return b;
  }

  async blob(digest: Digest): Promise<AsyncIterable<Buffer>> {
    return this.files.stream(blobPath(digest));
  }
}
