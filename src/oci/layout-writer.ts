// Writing an assembled image as an OCI image layout, for hand-over without a registry:
// `oci:DIR[:TAG]` adds it to a layout directory (blobs are content-addressed, so existing ones
// stay; index.json gets the image under TAG, replacing an older image of that tag, and is
// replaced atomically), `oci-archive:FILE[:TAG]` writes a new tarball of a layout holding only
// this image (written beside FILE and renamed over it when complete). The archive's members are
// sorted and carry no times: the same image gives the same file.

import * as fs from 'node:fs';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { ExitCode, OsvError } from '../diagnostics/error.js';
import { digestHex } from './digest.js';
import { REF_NAME } from './layout.js';
import { MEDIA } from './manifest.js';
import type { AssembledImage, ImageBlob, PushResult } from './push.js';
import { tarStream, type TarWriteEntry } from './tar-writer.js';
import { checkReplaceable, createTemp, makeDirs, removeQuietly, writeFileAtomic } from '../atomic.js';

const LAYOUT = Buffer.from('{"imageLayoutVersion":"1.0.0"}');

const writeFailed = (where: string, e: unknown): OsvError =>
  new OsvError({ code: 'push.write-failed', message: `cannot write ${where}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, hint: 'check the path, free space and permissions', exitCode: ExitCode.buildFailed });

function indexEntry(img: AssembledImage, tag: string | undefined): Record<string, unknown> {
  return {
    mediaType: img.manifest.mediaType,
    digest: img.manifest.digest,
    size: img.manifest.size,
    platform: img.platform,
    ...(tag !== undefined ? { annotations: { [REF_NAME]: tag } } : {}),
  };
}

const allBlobs = (img: AssembledImage): ImageBlob[] => [...img.layers, img.config, img.manifest];

function result(target: string, img: AssembledImage, actions: Map<string, 'written' | 'exists'>): PushResult {
  return { target, digest: img.manifest.digest, blobs: allBlobs(img).map((b) => ({ role: b.role, mediaType: b.mediaType, digest: b.digest, size: b.size, action: actions.get(b.digest) ?? 'written' })) };
}

/** oci:DIR names something that is not a directory: a usage error, said before anything is built. */
export function checkLayoutDir(dir: string): void {
  const there = fs.statSync(dir, { throwIfNoEntry: false });
  if (there && !there.isDirectory())
    throw new OsvError({ code: 'push.not-a-dir', message: `${dir} is not a directory: oci:DIR writes an OCI image layout into a directory`, hint: 'name a new or existing layout directory, or write one file with oci-archive:FILE', exitCode: ExitCode.usage });
}

/** Add the image to the layout directory `dir` (created when missing). */
export function writeLayoutDir(dir: string, tag: string | undefined, img: AssembledImage, target: string): PushResult {
  const actions = new Map<string, 'written' | 'exists'>();
  checkLayoutDir(dir);
  try {
    const blobDir = join(dir, 'blobs', 'sha256');
    makeDirs(blobDir);
    for (const b of allBlobs(img)) {
      const dest = join(blobDir, digestHex(b.digest));
      if (fs.statSync(dest, { throwIfNoEntry: false })?.size === b.size) {
        actions.set(b.digest, 'exists');
        continue;
      }
      if (b.bytes) writeFileAtomic(dest, b.bytes);
      else {
        const t = createTemp(dest);
        try {
          fs.closeSync(t.fd);
          fs.copyFileSync(b.file!, t.path);
          fs.renameSync(t.path, dest);
        } catch (e) {
          removeQuietly(t.path);
          throw e;
        }
      }
      actions.set(b.digest, 'written');
    }
    let manifests: Array<Record<string, unknown>> = [];
    const existing = join(dir, 'index.json');
    if (fs.existsSync(existing)) {
      let index: { manifests?: unknown };
      try {
        index = JSON.parse(fs.readFileSync(existing, 'utf8')) as { manifests?: unknown };
      } catch {
        throw new OsvError({ code: 'push.bad-layout', message: `${existing} is not valid JSON: ${dir} is not an OCI image layout osv-up can add to`, hint: 'write to a new directory, or fix index.json', exitCode: ExitCode.invalidInput });
      }
      manifests = Array.isArray(index.manifests) ? (index.manifests as Array<Record<string, unknown>>) : [];
      // The tag moves to this image (an untagged write replaces the untagged entries).
      manifests = manifests.filter((m) => ((m['annotations'] as Record<string, string> | undefined)?.[REF_NAME] ?? undefined) !== tag);
    }
    manifests.push(indexEntry(img, tag));
    writeFileAtomic(join(dir, 'oci-layout'), LAYOUT);
    writeFileAtomic(existing, Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA.ociIndex, manifests })));
  } catch (e) {
    if (e instanceof OsvError) throw e;
    throw writeFailed(dir, e);
  }
  return result(target, img, actions);
}


/** A tarball of a layout holding only this image. */
export async function writeLayoutArchive(file: string, tag: string | undefined, img: AssembledImage, target: string): Promise<PushResult> {
  const index = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA.ociIndex, manifests: [indexEntry(img, tag)] }));
  const dir = (name: string): TarWriteEntry => ({ name, type: 'dir', mode: 0o755, uid: 0, gid: 0 });
  const blobs = allBlobs(img)
    .filter((b, i, all) => all.findIndex((x) => x.digest === b.digest) === i)
    .sort((a, b) => (a.digest < b.digest ? -1 : 1))
    .map((b): TarWriteEntry => ({ name: `blobs/sha256/${digestHex(b.digest)}`, type: 'file', mode: 0o644, uid: 0, gid: 0, ...(b.bytes ? { data: b.bytes } : { path: b.file! }) }));
  const entries: TarWriteEntry[] = [dir('blobs'), dir('blobs/sha256'), ...blobs, { name: 'index.json', type: 'file', mode: 0o644, uid: 0, gid: 0, data: index }, { name: 'oci-layout', type: 'file', mode: 0o644, uid: 0, gid: 0, data: LAYOUT }];
  checkReplaceable(file);
  let tmp: string | undefined;
  try {
    makeDirs(dirname(file));
    const t = createTemp(file);
    tmp = t.path;
    await pipeline(Readable.from(tarStream(entries)), fs.createWriteStream(tmp, { fd: t.fd }));
    checkReplaceable(file);
    fs.renameSync(tmp, file);
  } catch (e) {
    if (tmp) removeQuietly(tmp);
    if (e instanceof OsvError) throw e;
    throw writeFailed(file, e);
  }
  return result(target, img, new Map());
}
