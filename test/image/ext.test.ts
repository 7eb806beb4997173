import * as fs from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeExt } from '../../src/image/ext.js';
import { composeDisk } from '../../src/image/disk.js';
import { inspectImage } from '../../src/image/inspect.js';
import { findTool } from '../../src/image/tools.js';
import type { ImageEntry } from '../../src/image/entries.js';
import { expectedTree, hostFile, pattern, tempDir } from './helpers.js';

const have = ['mke2fs', 'debugfs', 'e2fsck'].every((t) => findTool(t) !== undefined);
if (!have) console.warn('skipped: e2fsprogs (mke2fs, debugfs, e2fsck) is not installed; ext tests do not run');

const work = tempDir('ext');
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

/** Extract with debugfs rdump and compare every path, kind, byte and link target. */
function expectExtHolds(image: string, offset: number, entries: readonly ImageEntry[]): void {
  const dest = fs.mkdtempSync(join(work, 'rdump-'));
  const dev = offset ? `${image}?offset=${offset}` : image;
  execFileSync(findTool('debugfs')!, ['-R', `rdump / ${dest}`, dev], { stdio: 'pipe' });
  const want = expectedTree(entries);
  const seen: string[] = [];
  const walk = (host: string, guest: string): void => {
    for (const name of fs.readdirSync(host)) {
      const g = guest === '/' ? `/${name}` : `${guest}/${name}`;
      if (g === '/lost+found') continue;
      seen.push(g);
      const st = fs.lstatSync(join(host, name));
      const e = want.get(g);
      expect(e, g).toBeDefined();
      if (st.isDirectory()) {
        expect(e!.kind, g).toBe('dir');
        walk(join(host, name), g);
      } else if (st.isSymbolicLink()) {
        expect(e!.kind === 'symlink' && e!.target, g).toBe(fs.readlinkSync(join(host, name)));
      } else {
        expect(e!.kind, g).toBe('file');
        const bytes = fs.readFileSync(join(host, name));
        const f = e as ImageEntry & { kind: 'file' };
        expect(bytes.equals(f.content !== undefined ? Buffer.from(f.content) : fs.readFileSync(f.host)), g).toBe(true);
      }
    }
  };
  walk(dest, '/');
  expect(seen.sort()).toEqual([...want.keys()].filter((p) => p !== '/').sort());
}

function entriesFor(tag: string): ImageEntry[] {
  const root = join(work, tag);
  const entries: ImageEntry[] = [
    hostFile(root, '/hello', pattern(70_000, 1)),
    hostFile(root, '/etc/empty', ''),
    hostFile(root, '/naïve/日本語.txt', 'unicode\n'),
    { kind: 'symlink', guest: '/etc/mnttab', target: '/proc/mounts' },
    { kind: 'symlink', guest: '/long-link', target: '/' + 'x'.repeat(100) },
    { kind: 'dir', guest: '/tmp' },
    { kind: 'file', guest: '/etc/fstab', content: Buffer.from('/dev/vblk0.1 / ext rw 0 0\n'), size: 26 },
  ];
  for (let i = 0; i < 120; i++) entries.push(hostFile(root, `/lib/m${i % 7}/f${i}`, `${i}\n`));
  return entries;
}

describe.skipIf(!have)('ext4 through mke2fs -d', () => {
  it('writes a bare ext4 with OSv-readable features that reads back exactly', async () => {
    const entries = entriesFor('bare');
    const out = join(work, 'bare.ext');
    const r = await writeExt(entries, out);
    if (!r.ok) throw r.error;
    expect(fs.statSync(out).size).toBe(r.value.bytes);
    expectExtHolds(out, 0, entries);
    const rep = await inspectImage(out);
    if (!rep.ok) throw rep.error;
    const fsInfo = rep.value.filesystem;
    expect(rep.value.layout).toBe('filesystem');
    expect(fsInfo.type).toBe('ext');
    if (fsInfo.type === 'ext') {
      expect(fsInfo.superblock.blockSize).toBe(4096);
      expect(fsInfo.superblock.features).toEqual(expect.arrayContaining(['has_journal', 'extent']));
      expect(fsInfo.superblock.features).not.toContain('64bit');
      expect(fsInfo.superblock.features).not.toContain('metadata_csum');
    }
    expect(rep.value.problems).toEqual([]);
    expect(rep.value.tree.find((t) => t.path === '/etc/mnttab')?.target).toBe('/proc/mounts');
    expect(rep.value.totals.files).toBe(124);
  });

  it('keeps the declared mode of generated files and copies whatever the umask', async () => {
    const root = join(work, 'modes');
    const copied = hostFile(root, '/copied', 'x\n');
    const entries: ImageEntry[] = [
      { kind: 'file', guest: '/written', content: Buffer.from('y\n'), size: 2, mode: 0o666 },
      { ...copied, mode: 0o666 } as ImageEntry,
    ];
    const out = join(work, 'modes.ext');
    const old = process.umask(0o022);
    try {
      const r = await writeExt(entries, out);
      if (!r.ok) throw r.error;
    } finally {
      process.umask(old);
    }
    const stat = (p: string): string => execFileSync(findTool('debugfs')!, ['-R', `stat ${p}`, out], { encoding: 'utf8', stdio: 'pipe' });
    expect(stat('/written')).toMatch(/Mode: +0666/);
    expect(stat('/copied')).toMatch(/Mode: +0666/);
  });

  it('the same entries give the same bytes, built a second apart (ctimes pinned)', async () => {
    const entries = [...entriesFor('repro'), hostFile(join(work, 'repro'), '/odd names/q"uote a\\b é', 'odd\n')];
    const a = join(work, 'repro-a.ext');
    const b = join(work, 'repro-b.ext');
    const first = await writeExt(entries, a);
    if (!first.ok) throw first.error;
    // Staging a second later gives every staged file a later ctime, which mke2fs copies.
    await new Promise((r) => setTimeout(r, 1100));
    const second = await writeExt(entries, b);
    if (!second.ok) throw second.error;
    expect(fs.readFileSync(a).equals(fs.readFileSync(b))).toBe(true);
    expect(execFileSync(findTool('debugfs')!, ['-R', 'stat /hello', b], { encoding: 'utf8', stdio: 'pipe' })).toMatch(/ctime: 0x00000001:/);
  });

  it('composes a disk with the ext at 1 MiB in slot 2', async () => {
    const entries = entriesFor('disk');
    const out = join(work, 'ext-disk.raw');
    const r = await composeDisk({ outPath: out, layout: 'disk', fs: { kind: 'ext', entries, freeBytes: 8 * 1024 * 1024 } });
    if (!r.ok) throw r.error;
    expect(r.value.partition.offset).toBe(1024 * 1024);
    expect(r.value.fs.kind).toBe('ext');
    expectExtHolds(out, 1024 * 1024, entries);
    const rep = await inspectImage(out);
    if (!rep.ok) throw rep.error;
    expect(rep.value).toMatchObject({ layout: 'disk', root: { offset: 1048576, size: r.value.partition.size }, filesystem: { type: 'ext' }, problems: [] });
  });

  it('honours freeBytes and refuses a fixed size that is too small', async () => {
    const entries = entriesFor('sizes');
    const roomy = await writeExt(entries, join(work, 'roomy.ext'), { freeBytes: 64 * 1024 * 1024 });
    if (!roomy.ok) throw roomy.error;
    const rep = await inspectImage(join(work, 'roomy.ext'), { tree: false });
    if (!rep.ok) throw rep.error;
    const sb = rep.value.filesystem.type === 'ext' ? rep.value.filesystem.superblock : undefined;
    expect(sb!.freeBlocks * sb!.blockSize).toBeGreaterThanOrEqual(64 * 1024 * 1024);
    const tooSmall = await writeExt(entries, join(work, 'tiny.ext'), { sizeBytes: 64 * 1024 });
    expect(!tooSmall.ok && tooSmall.error.code).toMatch(/image\.(ext-too-small|mke2fs-failed)/);
    expect(fs.existsSync(join(work, 'tiny.ext'))).toBe(false);
    expect(fs.readdirSync(work).filter((n) => n.includes('.tmp'))).toEqual([]);
  });

  it('a disk whose ext root an MBR cannot describe (2 TiB and more) is refused before mke2fs, leaving nothing behind', async () => {
    const entries = entriesFor('sizes');
    const out = join(work, 'huge.raw');
    const r = await composeDisk({ outPath: out, layout: 'disk', fs: { kind: 'ext', entries, freeBytes: 2 ** 41 } });
    expect(!r.ok && r.error.code).toBe('image.ext-too-large');
    expect(!r.ok && r.error.message).toMatch(/^the ext root would be 2\.\d TiB \(its files plus image\.size\), more than an MBR partition can hold \(2199023255040 bytes, just under 2 TiB\)$/);
    expect(fs.existsSync(out)).toBe(false);
    expect(fs.readdirSync(work).filter((n) => n.includes('.tmp') || n.includes('stage'))).toEqual([]);
  });

  it('rejects names longer than ext4 allows', async () => {
    const r = await writeExt([{ kind: 'dir', guest: '/' + 'n'.repeat(256) }], join(work, 'longname.ext'));
    expect(!r.ok && r.error.code).toBe('image.bad-entry');
  });
});
