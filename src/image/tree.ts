// An entry list as a tree: the validation every filesystem writer needs (absolute normalized
// guest paths, implicit parent directories, no file/dir conflicts), done once. Children keep
// first-appearance order; writers sort them when they want order-independent output.

import { badEntry } from './errors.js';
import type { ImageEntry } from './entries.js';

/** Name and target lengths are u16 in ROFS; ext4 allows 255. Checked per writer. */
export const MAX_U16 = 0xffff;

export type FileEntryInput = ImageEntry & { kind: 'file' };

export type TreeNode = TreeDir | TreeFile | TreeSymlink;
export interface TreeDir {
  kind: 'dir';
  name: Buffer;
  children: Map<string, TreeNode>;
  /** Listed in the entries (not only implied as a parent). */
  explicit: boolean;
  mode?: number;
}
export interface TreeFile {
  kind: 'file';
  name: Buffer;
  entry: FileEntryInput;
}
export interface TreeSymlink {
  kind: 'symlink';
  name: Buffer;
  target: Buffer;
}

/** 'sorted': by name bytes (output depends only on the entry set); 'given': first appearance. */
export type ChildOrder = 'sorted' | 'given';

export function childrenOf(dir: TreeDir, order: ChildOrder): TreeNode[] {
  const list = [...dir.children.values()];
  return order === 'sorted' ? list.sort((a, b) => Buffer.compare(a.name, b.name)) : list;
}

/** Split an absolute guest path into components; throws a bad-entry error for anything odd. */
export function guestComponents(guest: string): string[] {
  if (!guest.startsWith('/')) throw badEntry(guest, 'guest paths must be absolute (start with /)');
  if (guest.includes('\0')) throw badEntry(guest, 'guest path contains a NUL byte');
  const parts = guest.split('/').slice(1);
  if (parts.length > 0 && parts[parts.length - 1] === '') parts.pop(); // trailing slash
  for (const p of parts) {
    if (p === '' || p === '.' || p === '..')
      throw badEntry(guest, `guest path has an empty, "." or ".." component`, 'write the path normalized, e.g. /usr/lib/x');
    if (Buffer.byteLength(p) > MAX_U16) throw badEntry(guest, `a name is longer than ${MAX_U16} bytes`);
  }
  return parts;
}

const newDir = (name: string, explicit: boolean, mode?: number): TreeDir => ({
  kind: 'dir',
  name: Buffer.from(name),
  children: new Map(),
  explicit,
  ...(mode === undefined ? {} : { mode }),
});

function sameLeaf(a: TreeNode, e: ImageEntry): boolean {
  if (a.kind === 'symlink') return e.kind === 'symlink' && a.target.equals(Buffer.from(e.target));
  if (a.kind === 'file' && e.kind === 'file') {
    if (a.entry.host !== undefined) return e.host === a.entry.host && e.size === a.entry.size && e.offset === a.entry.offset;
    return e.content !== undefined && Buffer.from(e.content).equals(Buffer.from(a.entry.content));
  }
  return false;
}

function leaf(e: ImageEntry, name: string): TreeNode {
  if (e.kind === 'symlink') {
    const target = Buffer.from(e.target);
    if (target.length > MAX_U16) throw badEntry(e.guest, `symlink target is longer than ${MAX_U16} bytes`);
    if (target.includes(0)) throw badEntry(e.guest, 'symlink target contains a NUL byte');
    return { kind: 'symlink', name: Buffer.from(name), target };
  }
  if (e.kind === 'dir') return newDir(name, true, e.mode);
  if (!Number.isSafeInteger(e.size) || e.size < 0) throw badEntry(e.guest, `invalid file size ${e.size}`);
  if (e.content !== undefined && e.content.byteLength !== e.size)
    throw badEntry(e.guest, `inline content is ${e.content.byteLength} bytes but size says ${e.size}`);
  return { kind: 'file', name: Buffer.from(name), entry: e };
}

/** Build the tree; throws image.bad-entry OsvErrors naming the guest path. */
export function buildTree(entries: readonly ImageEntry[]): TreeDir {
  const root = newDir('', true);
  for (const e of entries) {
    const parts = guestComponents(e.guest);
    if (parts.length === 0) {
      if (e.kind !== 'dir') throw badEntry(e.guest, 'the root can only be a directory');
      if (e.mode !== undefined) root.mode = e.mode;
      continue;
    }
    let dir = root;
    for (let i = 0; i < parts.length - 1; i++) {
      const name = parts[i]!;
      const existing = dir.children.get(name);
      if (existing === undefined) {
        const d = newDir(name, false);
        dir.children.set(name, d);
        dir = d;
      } else if (existing.kind === 'dir') dir = existing;
      else throw badEntry(e.guest, `/${parts.slice(0, i + 1).join('/')} is a ${existing.kind}, not a directory`);
    }
    const name = parts[parts.length - 1]!;
    const existing = dir.children.get(name);
    if (existing === undefined) dir.children.set(name, leaf(e, name));
    else if (e.kind === 'dir') {
      if (existing.kind !== 'dir') throw badEntry(e.guest, `appears twice: as a ${existing.kind} and as a directory`);
      existing.explicit = true;
      if (e.mode !== undefined) existing.mode = e.mode;
    } else if (!sameLeaf(existing, e)) {
      throw badEntry(e.guest, `appears twice with different contents (${existing.kind} and ${e.kind})`);
    } // an exact repeat is harmless
  }
  return root;
}
