// Images in tarballs: `docker save` output (legacy: manifest.json with Config and Layers paths;
// Docker 25 and later: an OCI layout inside, plus that manifest.json) and `oci-archive:` (an
// OCI layout in a tar). The archive is scanned once for its member headers (data is skipped,
// not read); members are then read in place. A legacy image has no manifest: one is made from
// manifest.json in Docker v2 form, so the rest of the pipeline (digests, cache, lock) is the
// same as for a registry.

import * as fs from 'node:fs';
import { fileProblem, openRegularFile } from '../hostfs.js';
import { posix } from 'node:path';
import { ExitCode, OsvError } from '../diagnostics/error.js';
import { digestHex, sha256Digest, DigestCounter, type Digest } from './digest.js';
import { sniff } from './layer.js';
import { CONTAINERD_NAME, LayoutSource, REF_NAME, type LayoutFiles } from './layout.js';
import { MEDIA, parseImageConfig, type Descriptor, type Platform } from './manifest.js';
import { formatReference, parseReference, type DockerArchiveReference, type LayoutReference } from './reference.js';
import { sourceError, type ImageSource } from './source.js';
import { BLOCK, TarParser, type TarHeader } from './tar.js';

interface Member {
  offset: number;
  size: number;
}

/** Every regular file of a tar by normalized name; symlinks and hard links followed. */
export function scanArchive(path: string, label: string): Map<string, Member> {
  let fd: number;
  try {
    fd = openRegularFile(path);
  } catch (e) {
    throw new OsvError({ code: 'oci.bad-source', message: `${label}: cannot open ${path}: it ${fileProblem(e)}`, hint: 'check the path (relative paths start at the project directory)', exitCode: ExitCode.invalidInput });
  }
  const headers: TarHeader[] = [];
  const parser = new TarParser((h) => headers.push(h));
  try {
    const buf = Buffer.alloc(BLOCK);
    let pos = 0;
    for (;;) {
      if (parser.dataDue > 0) {
        pos += parser.dataDue;
        parser.skipData();
        continue;
      }
      const n = fs.readSync(fd, buf, 0, BLOCK, pos);
      if (n === 0) break;
      parser.push(n === BLOCK ? buf : buf.subarray(0, n));
      pos += n;
    }
    parser.end();
  } catch (e) {
    throw sourceError(label, `${path} is not a readable tar archive: ${(e as Error).message}`);
  } finally {
    fs.closeSync(fd);
  }
  const norm = (n: string): string => posix.normalize(n.replace(/^\/+/, '')).replace(/\/$/, '');
  const files = new Map<string, Member>();
  const links = new Map<string, string>();
  for (const h of headers) {
    const name = norm(h.name);
    if (h.type === 'file') files.set(name, { offset: h.dataOffset, size: h.size });
    else if (h.type === 'hardlink') links.set(name, norm(h.linkname));
    else if (h.type === 'symlink') links.set(name, norm(posix.join(posix.dirname(name), h.linkname)));
  }
  for (const [name] of links) {
    let target = name;
    for (let i = 0; i < 8 && links.has(target); i++) target = links.get(target)!;
    const m = files.get(target);
    if (m) files.set(name, m);
  }
  return files;
}

function archiveFiles(path: string, members: Map<string, Member>): LayoutFiles {
  return {
    where: path,
    read(name) {
      const m = members.get(name);
      if (!m) return undefined;
      const b = Buffer.alloc(m.size);
      const fd = fs.openSync(path, 'r');
      try {
        let done = 0;
        while (done < m.size) {
          const n = fs.readSync(fd, b, done, m.size - done, m.offset + done);
          if (n === 0) throw new Error(`${path} ends inside ${name}`);
          done += n;
        }
      } finally {
        fs.closeSync(fd);
      }
      return b;
    },
    stream(name) {
      const m = members.get(name);
      if (!m) throw new Error(`${name} is not in ${path}`);
      if (m.size === 0) return (async function* () {})();
      return fs.createReadStream(path, { start: m.offset, end: m.offset + m.size - 1, highWaterMark: 1 << 20 });
    },
  };
}

/** `repo:tag` as docker and containerd store it, in full form, for comparing. */
const fullName = (name: string): string | undefined => {
  const r = parseReference(name);
  return r.ok ? formatReference(r.value) : undefined;
};

export function openArchive(path: string, ref: DockerArchiveReference | LayoutReference, label: string): ImageSource {
  const members = scanArchive(path, label);
  const files = archiveFiles(path, members);
  if (members.has('index.json')) {
    const wanted = ref.transport === 'docker-archive' ? ref.ref : ref.tag;
    const want = wanted !== undefined ? fullName(wanted) : undefined;
    const pick = (d: Descriptor): boolean | undefined => {
      if (wanted === undefined) return undefined;
      const a = d.annotations ?? {};
      if (ref.transport === 'oci-archive') return a[REF_NAME] === wanted;
      return (a[CONTAINERD_NAME] !== undefined && fullName(a[CONTAINERD_NAME]) === want) || a[REF_NAME] === wanted;
    };
    return new LayoutSource(files, label, pick, wanted);
  }
  if (ref.transport === 'oci-archive') throw sourceError(label, `${path} has no index.json: it is not an OCI archive`, 'for `docker save` output use docker-archive:');
  if (!members.has('manifest.json')) throw sourceError(label, `${path} has neither index.json nor manifest.json: it is not a docker save archive`);
  return new LegacyArchive(files, members, label, ref.transport === 'docker-archive' ? ref.ref : undefined);
}

interface LegacyEntry {
  Config?: unknown;
  RepoTags?: unknown;
  Layers?: unknown;
}

/** A legacy `docker save` image, with a Docker v2 manifest made for it. */
class LegacyArchive implements ImageSource {
  private made: { digest: Digest; bytes: Buffer } | undefined;
  constructor(
    private readonly files: LayoutFiles,
    private readonly members: Map<string, Member>,
    readonly label: string,
    private readonly ref: string | undefined,
  ) {}

  private entry(): { config: string; layers: string[] } {
    let list: unknown;
    try {
      list = JSON.parse(this.files.read('manifest.json')!.toString('utf8'));
    } catch {
      throw sourceError(this.label, 'manifest.json is not JSON');
    }
    if (!Array.isArray(list)) throw sourceError(this.label, 'manifest.json is not a list');
    const entries = list as LegacyEntry[];
    const tags = (e: LegacyEntry): string[] => (Array.isArray(e.RepoTags) ? e.RepoTags.filter((t): t is string => typeof t === 'string') : []);
    let e: LegacyEntry | undefined;
    if (this.ref !== undefined) {
      const want = fullName(this.ref);
      e = entries.find((x) => tags(x).some((t) => fullName(t) === want));
      if (!e) throw sourceError(this.label, `no image in the archive is tagged ${this.ref}`, `its tags are: ${entries.flatMap(tags).join(', ') || 'none'}`);
    } else {
      if (entries.length !== 1) throw sourceError(this.label, `the archive holds ${entries.length} images: name one`, `add :REPO:TAG, one of: ${entries.flatMap(tags).join(', ') || '(untagged)'}`);
      e = entries[0]!;
    }
    if (typeof e.Config !== 'string' || !Array.isArray(e.Layers) || !e.Layers.every((l) => typeof l === 'string')) throw sourceError(this.label, 'manifest.json lacks Config or Layers');
    return { config: e.Config, layers: e.Layers as string[] };
  }

  /** The Docker v2 manifest of the legacy image (layer digests over the members as stored). */
  private async make(): Promise<{ digest: Digest; bytes: Buffer }> {
    if (this.made) return this.made;
    const { config, layers } = this.entry();
    const configBytes = this.files.read(config);
    if (!configBytes) throw sourceError(this.label, `the config ${config} named by manifest.json is missing`);
    const cfg = parseImageConfig(configBytes, `${this.label} (${config})`);
    if (!cfg.ok) throw cfg.error;
    const descriptors: Array<{ mediaType: string; digest: Digest; size: number }> = [];
    for (const [i, l] of layers.entries()) {
      const m = this.members.get(posix.normalize(l));
      if (!m) throw sourceError(this.label, `the layer ${l} named by manifest.json is missing`);
      // An uncompressed layer is its own diff_id (checked again as it is read); a compressed one is hashed here.
      const head = m.size > 0 ? await firstBytes(this.files.stream(posix.normalize(l))) : Buffer.alloc(0);
      const compressed = sniff(head) !== 'none';
      const digest = compressed || cfg.value.diffIds[i] === undefined ? await hashStream(this.files.stream(posix.normalize(l))) : cfg.value.diffIds[i]!;
      descriptors.push({ mediaType: compressed ? MEDIA.dockerLayerGzip : MEDIA.dockerLayerTar, digest, size: m.size });
    }
    const manifest = { schemaVersion: 2, mediaType: MEDIA.dockerManifest, config: { mediaType: MEDIA.dockerConfig, digest: sha256Digest(configBytes), size: configBytes.length }, layers: descriptors };
    const bytes = Buffer.from(JSON.stringify(manifest));
    this.made = { digest: sha256Digest(bytes), bytes };
    this.blobs.set(sha256Digest(configBytes), config);
    layers.forEach((l, i) => this.blobs.set(descriptors[i]!.digest, posix.normalize(l)));
    return this.made;
  }

  /** Member name of each blob of the made manifest. */
  private readonly blobs = new Map<Digest, string>();

  async resolve(_platform: Platform): Promise<Digest> {
    return (await this.make()).digest;
  }

  async manifest(digest: Digest): Promise<Buffer> {
    const m = await this.make();
    if (digest !== m.digest) throw sourceError(this.label, `the archive has changed: its image is now ${m.digest}, not ${digest}`, 'run `osv pull` to pin it again');
    return m.bytes;
  }

  async blob(digest: Digest): Promise<AsyncIterable<Buffer>> {
    await this.make();
    const name = this.blobs.get(digest) ?? `blobs/sha256/${digestHex(digest)}`;
    return this.files.stream(name);
  }
}

async function firstBytes(s: AsyncIterable<Buffer>): Promise<Buffer> {
  for await (const c of s) return c.subarray(0, 4);
  return Buffer.alloc(0);
}

async function hashStream(s: AsyncIterable<Buffer>): Promise<Digest> {
  const h = new DigestCounter();
  for await (const c of s) h.update(c);
  return h.digest();
}
