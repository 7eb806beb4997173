// An image's root file system as the planner sees it: the layers applied in order onto an
// empty tree in memory (image-spec layer.md), never unpacked. A file's bytes stay in its
// cached uncompressed layer and are read from there. Implements HostFs over image paths
// (`/usr/bin/python3`), following symlinks as the kernel would inside a chroot: absolute
// targets restart at the image's root, `..` stops at it.
//
// Applying a layer: its whiteouts and opaque markers act on the layers below only, before
// any of its own members (wherever they stand in the tar); then its members in order. A
// member written through a symlink (planted by a lower layer or earlier in this one), a hard
// link to something that is not a file, a parent that is not a directory: errors naming the
// image, the layer and the member.

import * as fs from 'node:fs';
import type { HostFile, HostFs, HostKind, HostStat } from '../hostfs.js';
import { compareBytes } from '../hostfs.js';
import type { LayerIndex, LayerLabel } from './layer.js';
import { layerError } from './layer.js';

interface FileData {
  /** Index into the layer list. */
  layer: number;
  offset: number;
}

interface Node {
  kind: 'file' | 'dir' | 'symlink';
  mode: number;
  size: number;
  mtimeMs: number;
  ino: number;
  /** Layer that wrote it (0-based). */
  layer: number;
  link?: string;
  data?: FileData;
  children?: Map<string, Node>;
}

/** Where an image file's bytes come from. */
export interface ImageFileOrigin {
  /** 0-based layer index. */
  layer: number;
  /** The canonical path in the image. */
  path: string;
  /** The cached uncompressed layer holding the bytes, and where. */
  file: string;
  offset: number;
  size: number;
  mtimeMs: number;
}

export interface MergeInput {
  label: LayerLabel;
  index: LayerIndex;
  /** The cached uncompressed layer file. */
  file: string;
}

const MAX_LINKS = 40;

class FsError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export class MergedFs implements HostFs {
  private readonly root: Node;
  private nextIno = 2;
  private readonly files: string[];

  private constructor(inputs: MergeInput[]) {
    this.files = inputs.map((i) => i.file);
    this.root = { kind: 'dir', mode: 0o755, size: 0, mtimeMs: 0, ino: 1, layer: 0, children: new Map() };
  }

  /** Apply the layers bottom-up; throws an OsvError naming the offending member. */
  static merge(inputs: MergeInput[]): MergedFs {
    const m = new MergedFs(inputs);
    inputs.forEach((input, i) => m.apply(input, i));
    return m;
  }

  private apply(input: MergeInput, layer: number): void {
    const { label, index } = input;
    const fail = (path: string, why: string): never => {
      throw layerError(label, 'oci.hostile-layer', `member ${JSON.stringify(path)}: ${why}`, 'the image was built to attack the extractor, or is broken; nothing was written outside the cache');
    };
    // Whiteouts and opaque directories first: they act on the layers below only. None of this
    // layer's own members is in the tree yet, so whatever they find is from a lower layer.
    for (const e of index.entries) {
      if (e.kind !== 'whiteout' && e.kind !== 'opaque') continue;
      if (e.path === '') {
        this.root.children!.clear(); // `.wh..wh..opq` at the top (a whiteout's path is never '')
        continue;
      }
      const shown = e.kind === 'opaque' ? `${e.path}/.wh..wh..opq` : e.path;
      const at = this.walkParent(e.path, (why) => fail(shown, why), false, layer);
      if (!at) continue; // nothing below to hide
      if (e.kind === 'whiteout') {
        at.parent.children!.delete(at.name);
        continue;
      }
      const dir = at.parent.children!.get(at.name);
      if (dir?.kind === 'symlink') fail(shown, `its directory /${e.path} is a symlink: an opaque marker there would hide what the link points to`);
      dir?.children?.clear(); // a directory's; a file or nothing there has nothing to hide
    }
    for (const e of index.entries) {
      if (e.kind === 'whiteout' || e.kind === 'opaque') continue;
      const at = this.walkParent(e.path, (why) => fail(e.path, why), true, layer)!;
      const existing = at.parent.children!.get(at.name);
      let node: Node;
      if (e.kind === 'dir') {
        if (existing?.kind === 'dir') {
          existing.mode = e.mode;
          existing.mtimeMs = e.mtimeMs;
          continue;
        }
        node = { kind: 'dir', mode: e.mode, size: 0, mtimeMs: e.mtimeMs, ino: this.nextIno++, layer, children: new Map() };
      } else if (e.kind === 'file') {
        node = { kind: 'file', mode: e.mode, size: e.size, mtimeMs: e.mtimeMs, ino: this.nextIno++, layer, data: { layer, offset: e.offset } };
      } else if (e.kind === 'symlink') {
        node = { kind: 'symlink', mode: 0o777, size: e.link.length, mtimeMs: e.mtimeMs, ino: this.nextIno++, layer, link: e.link };
      } else {
        // A hard link shares its target's inode: same bytes, mode and number.
        const t = this.walkParent(e.link, (why) => fail(e.path, `its hard-link target ${JSON.stringify(e.link)}: ${why}`), false, layer);
        const target = t?.parent.children!.get(t.name);
        if (!target) fail(e.path, `it is a hard link to ${JSON.stringify(e.link)}, which is in no layer up to this one`);
        if (target!.kind !== 'file') fail(e.path, `it is a hard link to ${JSON.stringify(e.link)}, which is a ${target!.kind === 'dir' ? 'directory' : 'symlink'}, not a file`);
        node = { ...target!, layer };
      }
      at.parent.children!.set(at.name, node);
    }
  }

  /**
   * The directory holding `path`'s last component, walking (and, with `create`, making)
   * directories without following symlinks: a parent that is a symlink is refused, so no
   * member is ever written through one. Undefined when a parent does not exist (no create).
   */
  private walkParent(path: string, fail: (why: string) => never, create: boolean, layer: number): { parent: Node; name: string } | undefined {
    const parts = path.split('/');
    const name = parts.pop()!;
    let cur = this.root;
    let walked = '';
    for (const c of parts) {
      walked = walked ? `${walked}/${c}` : c;
      let next = cur.children!.get(c);
      if (!next) {
        if (!create) return undefined;
        // Layers may leave parent directories out.
        next = { kind: 'dir', mode: 0o755, size: 0, mtimeMs: 0, ino: this.nextIno++, layer, children: new Map() };
        cur.children!.set(c, next);
      }
      if (next.kind === 'symlink') fail(`its parent /${walked} is a symlink (to ${JSON.stringify(next.link)}): writing through it is refused`);
      if (next.kind !== 'dir') fail(`its parent /${walked} is a file, not a directory`);
      cur = next;
    }
    return { parent: cur, name };
  }

  // ---- path resolution (chroot semantics) ----

  /** The node a path leads to, and its canonical path; follows the last symlink when `follow`. */
  private resolve(path: string, follow: boolean): { node: Node; real: string } {
    let todo = path.split('/').filter((c) => c !== '' && c !== '.');
    const stack: Array<{ node: Node; name: string }> = [];
    let links = 0;
    while (todo.length > 0) {
      const c = todo.shift()!;
      const dir = stack.length > 0 ? stack[stack.length - 1]!.node : this.root;
      if (c === '..') {
        stack.pop();
        continue;
      }
      if (dir.kind !== 'dir') throw new FsError('ENOTDIR', `not a directory: ${path}`);
      const next = dir.children!.get(c);
      if (!next) throw new FsError('ENOENT', `no such file or directory: ${path}`);
      if (next.kind === 'symlink' && (todo.length > 0 || follow)) {
        if (++links > MAX_LINKS) throw new FsError('ELOOP', `too many symlinks: ${path}`);
        const target = next.link!;
        if (target.startsWith('/')) stack.length = 0;
        todo = [...target.split('/').filter((x) => x !== '' && x !== '.'), ...todo];
        continue;
      }
      stack.push({ node: next, name: c });
    }
    const node = stack.length > 0 ? stack[stack.length - 1]!.node : this.root;
    return { node, real: '/' + stack.map((s) => s.name).join('/') };
  }

  private tryResolve(path: string, follow: boolean): { node: Node; real: string } | undefined {
    try {
      return this.resolve(path, follow);
    } catch (e) {
      if (e instanceof FsError) return undefined;
      throw e;
    }
  }

  private statOf(n: Node): HostStat {
    const kind: HostKind = n.kind;
    // A symlink's node has mode 0o777 (set where it is made).
    // A layer's member never changes in place (the image is named by its digest): ctime is mtime.
    return { kind, size: n.size, mtimeMs: n.mtimeMs, ctimeMs: n.mtimeMs, ino: n.ino, dev: 0, mode: n.mode };
  }

  lstat(path: string): HostStat | undefined {
    const r = this.tryResolve(path, false);
    return r ? this.statOf(r.node) : undefined;
  }

  stat(path: string): HostStat | undefined {
    const r = this.tryResolve(path, true);
    return r ? this.statOf(r.node) : undefined;
  }

  readlink(path: string): string {
    const { node } = this.resolve(path, false);
    if (node.kind !== 'symlink') throw new FsError('EINVAL', `not a symlink: ${path}`);
    return node.link!;
  }

  readdir(path: string): string[] {
    const { node } = this.resolve(path, true);
    if (node.kind !== 'dir') throw new FsError('ENOTDIR', `not a directory: ${path}`);
    return [...node.children!.keys()].sort(compareBytes);
  }

  /** Where the bytes of the file `path` leads to live. */
  locate(path: string): ImageFileOrigin | undefined {
    const r = this.tryResolve(path, true);
    if (!r || r.node.kind !== 'file') return undefined;
    const d = r.node.data!;
    return { layer: d.layer, path: r.real, file: this.files[d.layer]!, offset: d.offset, size: r.node.size, mtimeMs: r.node.mtimeMs };
  }

  open(path: string): HostFile {
    const o = this.locate(path);
    if (!o) {
      const st = this.stat(path);
      throw new FsError(st ? 'EISDIR' : 'ENOENT', `${st ? 'not a regular file' : 'no such file'}: ${path}`);
    }
    const fd = fs.openSync(o.file, 'r');
    let open = true;
    return {
      path,
      size: o.size,
      read(offset: number, length: number): Buffer {
        if (!open) throw new Error(`read after close: ${path}`);
        const n = Math.max(0, Math.min(length, o.size - offset));
        const buf = Buffer.allocUnsafe(n);
        let done = 0;
        while (done < n) {
          const r = fs.readSync(fd, buf, done, n - done, o.offset + offset + done);
          if (r === 0) break;
          done += r;
        }
        return buf.subarray(0, done); // short only when the cached layer was cut
      },
      close(): void {
        if (open) fs.closeSync(fd);
        open = false;
      },
    };
  }

  readRange(path: string, offset: number, length: number): Buffer {
    const f = this.open(path);
    try {
      return f.read(offset, length);
    } finally {
      f.close();
    }
  }

  readFile(path: string): Buffer {
    const f = this.open(path);
    try {
      return f.read(0, f.size);
    } finally {
      f.close();
    }
  }
}
