// Writing an image where the file system refuses it: full (a tiny tmpfs), read-only (a bind
// mount remounted ro). The error names the errno and says what to do, without talking of free
// space for a read-only mount; nothing is left behind. Both need mount(8) to be permitted
// (root in a sandbox that allows it); otherwise the tests skip with the reason.

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { composeDisk } from '../../src/image/disk.js';
import type { ImageEntry } from '../../src/image/entries.js';
import { lacks } from '../helpers/skip.js';
import { hostFile, pattern, tempDir } from './helpers.js';

const work = tempDir('write-failures');
const full = join(work, 'full');
const ro = join(work, 'ro');
const roSource = join(work, 'ro-source');
fs.mkdirSync(full);
fs.mkdirSync(ro);
fs.mkdirSync(roSource);
const mount = (args: string[]): boolean => spawnSync('mount', args, { stdio: 'ignore' }).status === 0;
const fullMounted = mount(['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', full]);
const roMounted = mount(['--bind', roSource, ro]) && mount(['-o', 'remount,bind,ro', ro]);
afterAll(() => {
  for (const m of [full, ro]) spawnSync('umount', [m], { stdio: 'ignore' });
  fs.rmSync(work, { recursive: true, force: true });
});

const entries = (): ImageEntry[] => [hostFile(join(work, 'src'), '/big', pattern(1_000_000, 7))];

describe('an image written where the file system refuses it', () => {
  it.skipIf(lacks('a full file system', [fullMounted, 'mounting a tmpfs is not permitted here']))('full: ENOSPC, the hint says the disk is full, no file left', async () => {
    const r = await composeDisk({ outPath: join(full, 'x.img'), layout: 'disk', fs: { kind: 'rofs', entries: entries() } });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.message).toMatch(/ENOSPC$/);
    expect(r.error.hint).toBe('the disk (or your quota) is full: free some space');
    expect(fs.readdirSync(full)).toEqual([]);
  });

  it.skipIf(lacks('a read-only file system', [roMounted, 'a read-only bind mount is not permitted here']))('read-only: EROFS, the hint says so and offers -o', async () => {
    const r = await composeDisk({ outPath: join(ro, 'x.img'), layout: 'disk', fs: { kind: 'rofs', entries: entries() } });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.message).toBe(`cannot create a temporary file beside ${ro}/x.img: EROFS`);
    expect(r.error.hint).toBe(`${ro} is on a read-only file system: write the image elsewhere with -o PATH`);
  });
});
