// The planner's view with an image: the host file system, with the image's merged root at
// IMAGE_ROOT. A path below it is a path inside the image; every other path is the host's
// (project files named `./...`, the kernel). One more host file system, as far as the planner
// can tell: it reads through HostFs and never learns where a file's bytes are kept.

import type { HostFile, HostFs, HostStat, ImageFileData } from '../hostfs.js';
import type { OpenedImage } from './pull.js';

export class ImageMountFs implements HostFs {
  constructor(
    private readonly host: HostFs,
    readonly mountPoint: string,
    private readonly image: OpenedImage,
    /** The image as osv.yaml names it. */
    private readonly name: string,
  ) {}

  /** The image path of a path below the mount point, or undefined for a host path. */
  private inner(path: string): string | undefined {
    if (path === this.mountPoint) return '/';
    return path.startsWith(this.mountPoint + '/') ? path.slice(this.mountPoint.length) : undefined;
  }

  lstat(path: string): HostStat | undefined {
    const p = this.inner(path);
    return p === undefined ? this.host.lstat(path) : this.image.fs.lstat(p);
  }
  stat(path: string): HostStat | undefined {
    const p = this.inner(path);
    return p === undefined ? this.host.stat(path) : this.image.fs.stat(p);
  }
  readlink(path: string): string {
    const p = this.inner(path);
    return p === undefined ? this.host.readlink(path) : this.image.fs.readlink(p);
  }
  readdir(path: string): string[] {
    const p = this.inner(path);
    return p === undefined ? this.host.readdir(path) : this.image.fs.readdir(p);
  }
  readRange(path: string, offset: number, length: number): Buffer {
    const p = this.inner(path);
    return p === undefined ? this.host.readRange(path, offset, length) : this.image.fs.readRange(p, offset, length);
  }
  readFile(path: string): Buffer {
    const p = this.inner(path);
    return p === undefined ? this.host.readFile(path) : this.image.fs.readFile(p);
  }
  open(path: string): HostFile {
    const p = this.inner(path);
    if (p === undefined) return this.host.open(path);
    const f = this.image.fs.open(p);
    return { path, size: f.size, read: (o, l) => f.read(o, l), close: () => f.close() };
  }
  origin(path: string): ImageFileData | undefined {
    const p = this.inner(path);
    const o = p === undefined ? undefined : this.image.fs.locate(p);
    if (!o) return undefined;
    const layer = this.image.layers[o.layer]!;
    return { image: this.name, digest: this.image.record.digest, layer: o.layer + 1, layerDigest: layer.digest, path: o.path, file: o.file, offset: o.offset, mtimeMs: o.mtimeMs };
  }
}
