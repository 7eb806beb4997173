// Shared by the image tests: temp dirs, fixture trees, and a check that an image holds
// exactly a given entry list (every file's bytes, every symlink, every directory).

import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { expect } from 'vitest';
import type { ImageEntry } from '../../src/image/entries.js';
import type { RofsImage } from '../../src/image/rofs/reader.js';

export function tempDir(tag: string): string {
  return fs.mkdtempSync(join(tmpdir(), `osv-up-${tag}-`));
}

/** Write a host file and return its file entry. */
export function hostFile(root: string, guest: string, data: Buffer | string): ImageEntry {
  const host = join(root, 'host', guest);
  fs.mkdirSync(dirname(host), { recursive: true });
  fs.writeFileSync(host, data);
  return { kind: 'file', guest, host, size: fs.statSync(host).size };
}

/** Every path an entry list implies, with what it must be (parents become directories). */
export function expectedTree(entries: readonly ImageEntry[]): Map<string, ImageEntry> {
  const tree = new Map<string, ImageEntry>([['/', { kind: 'dir', guest: '/' }]]);
  for (const e of entries) {
    const parts = e.guest.split('/').filter(Boolean);
    for (let i = 1; i < parts.length; i++) {
      const p = '/' + parts.slice(0, i).join('/');
      if (!tree.has(p)) tree.set(p, { kind: 'dir', guest: p });
    }
    tree.set('/' + parts.join('/'), e);
  }
  return tree;
}

function bytesOf(e: ImageEntry & { kind: 'file' }): Buffer {
  return e.content !== undefined ? Buffer.from(e.content) : fs.readFileSync(e.host);
}

/** The image holds exactly `entries`: same paths, kinds, bytes and targets; nothing more. */
export function expectRofsHolds(img: RofsImage, entries: readonly ImageEntry[]): void {
  const want = expectedTree(entries);
  const nodes = img.walk();
  expect(nodes.map((n) => n.path).sort()).toEqual([...want.keys()].sort());
  for (const n of nodes) {
    const e = want.get(n.path)!;
    expect(n.kind, n.path).toBe(e.kind);
    if (e.kind === 'file') {
      expect(n.size, n.path).toBe(e.size);
      const r = img.readFile(n);
      if (!r.ok) throw r.error;
      expect(r.value.equals(bytesOf(e)), `bytes of ${n.path}`).toBe(true);
    } else if (e.kind === 'symlink') {
      expect(n.target, n.path).toBe(e.target);
    }
  }
  expect(img.check()).toEqual([]);
}

/** Parse the tiny subset of OSv manifest syntax the ROFS fixture uses (file, ->link, dir). */
export function manifestEntries(dir: string, manifest: string): ImageEntry[] {
  const out: ImageEntry[] = [];
  for (const line of fs.readFileSync(join(dir, manifest), 'utf8').split('\n')) {
    if (!line.trim() || line.trim().startsWith('#')) continue;
    const [guest, host] = line.split(': ').map((s) => s.trim()) as [string, string];
    if (host.startsWith('->')) out.push({ kind: 'symlink', guest, target: host.slice(2) });
    else if (fs.statSync(join(dir, host)).isDirectory()) out.push({ kind: 'dir', guest });
    else out.push({ kind: 'file', guest, host: join(dir, host), size: fs.statSync(join(dir, host)).size });
  }
  return out;
}

/** Deterministic pseudo-random bytes (no Math.random in fixtures). */
export function pattern(size: number, seed: number): Buffer {
  const b = Buffer.allocUnsafe(size);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
}
