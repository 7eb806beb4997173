import * as fs from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { composeDisk, partitionOffset } from '../../src/image/disk.js';
import { lbaToChs, parseMbr, writePartition } from '../../src/image/mbr.js';
import { encodeCmdline, decodeCmdline } from '../../src/image/cmdline.js';
import { inspectImage } from '../../src/image/inspect.js';
import { openImageFile } from '../../src/image/source.js';
import { openRofs } from '../../src/image/rofs/reader.js';
import { findTool } from '../../src/image/tools.js';
import type { ImageEntry } from '../../src/image/entries.js';
import { expectRofsHolds, hostFile, pattern, tempDir } from './helpers.js';

const work = tempDir('disk');
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

const haveQemuImg = findTool('qemu-img') !== undefined;
if (!haveQemuImg) console.warn('skipped: qemu-img is not installed (Debian package qemu-utils); qcow2 tests do not run');

function sampleEntries(tag: string): ImageEntry[] {
  const root = join(work, tag);
  return [
    hostFile(root, '/hello', pattern(10_000, 3)),
    hostFile(root, '/usr/lib/libx.so', pattern(1234, 4)),
    hostFile(root, '/etc/empty', ''),
    { kind: 'symlink', guest: '/etc/mnttab', target: '/proc/mounts' },
    { kind: 'dir', guest: '/tmp' },
    { kind: 'file', guest: '/etc/fstab', content: Buffer.from('/dev/vblk0.1 / rofs ro 0 0\n'), size: 27 },
  ];
}

/** A stand-in loader.img: boot code, 55 AA, zeros, and "kernel" bytes from 64 KiB. */
function fakeLoader(size = 300_000): string {
  const b = Buffer.alloc(size);
  pattern(0x1b8, 5).copy(b, 0);
  b[510] = 0x55;
  b[511] = 0xaa;
  pattern(size - 65536, 6).copy(b, 65536);
  const p = join(work, `loader-${size}.img`);
  fs.writeFileSync(p, b);
  return p;
}

function openRofsAt(path: string, offset: number) {
  const f = openImageFile(path);
  const r = openRofs(f.source, offset);
  if (!r.ok) throw r.error;
  return r.value;
}

describe('MBR partition entry (OSv packing)', () => {
  it('computes CHS the way imgedit does, saturating past cylinder 1023', () => {
    expect(lbaToChs(1)).toEqual({ cylinder: 0, head: 0, sector: 2 });
    expect(lbaToChs(4096)).toEqual({ cylinder: 0, head: 65, sector: 2 });
    expect(lbaToChs(63 * 255 * 3 + 63 * 4 + 5)).toEqual({ cylinder: 3, head: 4, sector: 6 });
    expect(lbaToChs(63 * 255 * 1024)).toEqual({ cylinder: 1023, head: 254, sector: 63 });
  });

  it('writes slot 2 at 0x1CE with type 0x83, packed CHS, LBA and count, and 55 AA', () => {
    const s = Buffer.alloc(512);
    writePartition(s, { slot: 2, start: 2 * 1024 * 1024, size: 74240 });
    const e = s.subarray(0x1ce, 0x1de);
    // start LBA 4096 -> (c0,h65,s2); end = LBA 4096+145 = 4241 -> 4241%63=20 -> s21, 67%255 -> h67, c0
    expect([...e]).toEqual([0, 65, 2, 0, 0x83, 67, 21, 0, 0x00, 0x10, 0, 0, 145, 0, 0, 0]);
    expect(s.readUInt16LE(510)).toBe(0xaa55);
    expect(s.subarray(0x1be, 0x1ce).every((b) => b === 0)).toBe(true);
    const mbr = parseMbr(s);
    expect(mbr.partitions).toEqual([
      expect.objectContaining({ slot: 2, device: '/dev/vblk0.1', type: 0x83, start: 2097152, size: 74240, seenByOsv: true }),
    ]);
    expect(mbr.hasBootCode).toBe(false);
  });

  it('packs large cylinders into the u16 as (cyl << 6) | sector', () => {
    const s = Buffer.alloc(512);
    const lba = 63 * 255 * 700 + 10;
    writePartition(s, { slot: 2, start: lba * 512, size: 512 });
    expect(s.readUInt16LE(0x1ce + 2)).toBe((700 << 6) | 11);
    expect(parseMbr(s).partitions[0]!.chsStart).toEqual({ cylinder: 700, head: 0, sector: 11 });
  });
});

describe('command line at byte 512', () => {
  it('accepts up to 1023 bytes plus NUL and rejects longer, naming the limit', () => {
    const okLine = encodeCmdline('x'.repeat(1023));
    expect(okLine.ok).toBe(true);
    const long = encodeCmdline('--rootfs=rofs ' + 'y'.repeat(1010));
    expect(!long.ok && long.error.code).toBe('image.cmdline-too-long');
    expect(!long.ok && long.error.message).toMatch(/1024 bytes; OSv keeps at most 1023/);
    const head = Buffer.alloc(1536);
    if (okLine.ok) okLine.value.copy(head, 512);
    expect(decodeCmdline(head)).toBe('x'.repeat(1023));
  });
});

describe('disk layout', () => {
  it('is a bare MBR with slot 2 at byte 512 and the ROFS behind it', async () => {
    const entries = sampleEntries('disk-rofs');
    const out = join(work, 'disk.raw');
    const r = await composeDisk({ outPath: out, layout: 'disk', fs: { kind: 'rofs', entries } });
    if (!r.ok) throw r.error;
    expect(r.value.partition).toEqual({ slot: 2, device: '/dev/vblk0.1', offset: 512, size: r.value.rawBytes - 512 });
    const raw = fs.readFileSync(out);
    expect(raw.length).toBe(r.value.rawBytes);
    expect(raw.subarray(0, 0x1be).every((b) => b === 0)).toBe(true);
    expect(raw[0x1ce + 4]).toBe(0x83);
    expect(raw.readUInt32LE(0x1ce + 8)).toBe(1);
    expect(raw.readUInt16LE(510)).toBe(0xaa55);
    expectRofsHolds(openRofsAt(out, 512), entries);

    const rep = await inspectImage(out);
    if (!rep.ok) throw rep.error;
    expect(rep.value).toMatchObject({ format: 'raw', layout: 'disk', root: { slot: 2, offset: 512 }, filesystem: { type: 'rofs' }, problems: [] });
    expect(rep.value.cmdline).toBeUndefined();
    expect(rep.value.tree.find((t) => t.path === '/etc/mnttab')).toEqual({ path: '/etc/mnttab', kind: 'symlink', size: 12, target: '/proc/mounts' });
    expect(rep.value.totals).toEqual({ files: 4, dirs: 5, symlinks: 1, bytes: 10_000 + 1234 + 27 });
  });

  it('puts ext at 1 MiB and the ROFS at 512', () => {
    expect(partitionOffset('disk', 'rofs')).toBe(512);
    expect(partitionOffset('disk', 'ext')).toBe(1024 * 1024);
    expect(partitionOffset('bootable', 'rofs', 300_000)).toBe(2 * 1024 * 1024);
    expect(partitionOffset('bootable', 'rofs', 2 * 1024 * 1024 + 1)).toBe(4 * 1024 * 1024);
  });
});

describe('bootable layout', () => {
  it('keeps the loader, pads to 2 MiB, adds slot 2 and the command line at 512', async () => {
    const loader = fakeLoader();
    const entries = sampleEntries('boot');
    const out = join(work, 'boot.raw');
    const cmdline = '--rootfs=rofs /hello --greeting=héllo';
    const r = await composeDisk({ outPath: out, layout: 'bootable', fs: { kind: 'rofs', entries }, cmdline, loaderImg: loader });
    if (!r.ok) throw r.error;
    const raw = fs.readFileSync(out);
    const lb = fs.readFileSync(loader);
    expect(raw.subarray(0, 0x1be).equals(lb.subarray(0, 0x1be))).toBe(true); // boot code untouched
    expect(raw.subarray(65536, lb.length).equals(lb.subarray(65536))).toBe(true); // kernel untouched
    expect(raw.subarray(lb.length, 2 * 1024 * 1024).every((b) => b === 0)).toBe(true);
    const text = Buffer.from(cmdline);
    expect(raw.subarray(512, 512 + text.length).equals(text)).toBe(true);
    expect(raw[512 + text.length]).toBe(0);
    expect(raw.readUInt32LE(0x1ce + 8)).toBe(4096);
    expectRofsHolds(openRofsAt(out, 2 * 1024 * 1024), entries);

    const rep = await inspectImage(out);
    if (!rep.ok) throw rep.error;
    expect(rep.value).toMatchObject({ layout: 'bootable', cmdline, root: { offset: 2 * 1024 * 1024 }, problems: [] });
  });

  it('refuses an over-long command line, an ELF as loader, and a missing loader; nothing is written', async () => {
    const entries = sampleEntries('boot-bad');
    const out = join(work, 'boot-bad.raw');
    const loader = fakeLoader();
    const long = await composeDisk({ outPath: out, layout: 'bootable', fs: { kind: 'rofs', entries }, cmdline: 'a'.repeat(2000), loaderImg: loader });
    expect(!long.ok && long.error.code).toBe('image.cmdline-too-long');
    const elf = await composeDisk({ outPath: out, layout: 'bootable', fs: { kind: 'rofs', entries }, cmdline: '', loaderImg: '/bin/true' });
    expect(!elf.ok && elf.error.code).toBe('kernel.loader-is-elf');
    expect(!elf.ok && elf.error.hint).toMatch(/--output disk/);
    const none = await composeDisk({ outPath: out, layout: 'bootable', fs: { kind: 'rofs', entries }, cmdline: '' });
    expect(!none.ok && none.error.code).toBe('image.no-loader');
    expect(fs.existsSync(out)).toBe(false);
  });
});

describe('atomic output', () => {
  it('keeps the previous image when a build fails and leaves no temp files', async () => {
    const entries = sampleEntries('atomic');
    const out = join(work, 'atomic.raw');
    const first = await composeDisk({ outPath: out, layout: 'disk', fs: { kind: 'rofs', entries } });
    expect(first.ok).toBe(true);
    const before = fs.readFileSync(out);
    const broken: ImageEntry[] = [...entries, { kind: 'file', guest: '/missing', host: join(work, 'no-such-file'), size: 10 }];
    const second = await composeDisk({ outPath: out, layout: 'disk', fs: { kind: 'rofs', entries: broken } });
    expect(!second.ok && second.error.code).toBe('image.input-unreadable');
    expect(fs.readFileSync(out).equals(before)).toBe(true);
    expect(fs.readdirSync(work).filter((n) => n.includes('.tmp'))).toEqual([]);
  });

  it('stops when the signal is aborted and reports an interruption', async () => {
    const root = join(work, 'abort');
    const entries = Array.from({ length: 8 }, (_, i) => hostFile(root, `/f${i}`, pattern(1 << 20, i)));
    const ac = new AbortController();
    const out = join(work, 'abort.raw');
    const r = await composeDisk({ outPath: out, layout: 'disk', fs: { kind: 'rofs', entries }, signal: ac.signal, onProgress: () => ac.abort() });
    expect(!r.ok && r.error.code).toBe('image.interrupted');
    expect(!r.ok && r.error.exitCode).toBe(130);
    expect(fs.existsSync(out)).toBe(false);
  });
});

describe.skipIf(!haveQemuImg)('qcow2 through qemu-img', () => {
  it('converts, and reads back to the same raw bytes and tree', async () => {
    const entries = sampleEntries('qcow2');
    const rawOut = join(work, 'q.raw');
    const qOut = join(work, 'q.qcow2');
    const a = await composeDisk({ outPath: rawOut, layout: 'disk', fs: { kind: 'rofs', entries } });
    const b = await composeDisk({ outPath: qOut, layout: 'disk', format: 'qcow2', fs: { kind: 'rofs', entries } });
    if (!a.ok) throw a.error;
    if (!b.ok) throw b.error;
    expect(fs.readFileSync(qOut).subarray(0, 4).toString('latin1')).toBe('QFI\xfb');
    expect(b.value.rawBytes).toBe(a.value.rawBytes);
    const back = join(work, 'q.back.raw');
    execFileSync('qemu-img', ['convert', '-f', 'qcow2', '-O', 'raw', qOut, back]);
    expect(fs.readFileSync(back).equals(fs.readFileSync(rawOut))).toBe(true);
    const rep = await inspectImage(qOut);
    if (!rep.ok) throw rep.error;
    expect(rep.value).toMatchObject({ format: 'qcow2', layout: 'disk', filesystem: { type: 'rofs' }, problems: [] });
    expect(rep.value.totals.files).toBe(4);
    expect(fs.readdirSync(work).filter((n) => n.includes('.tmp'))).toEqual([]);
  });

  it('names the Debian package when qemu-img is missing', async () => {
    const saved = process.env['PATH'];
    process.env['PATH'] = '/nonexistent';
    try {
      const r = await composeDisk({ outPath: join(work, 'noq.qcow2'), layout: 'disk', format: 'qcow2', fs: { kind: 'rofs', entries: sampleEntries('noq') } });
      expect(!r.ok && r.error.code).toBe('tool.missing');
      expect(!r.ok && r.error.hint).toContain('qemu-utils');
    } finally {
      process.env['PATH'] = saved;
    }
    expect(fs.existsSync(join(work, 'noq.qcow2'))).toBe(false);
  });
});

describe('inspect on damaged disks', () => {
  it('reports a partition past the end and a missing slot 2 as problems', async () => {
    const entries = sampleEntries('damaged');
    const out = join(work, 'damaged.raw');
    const r = await composeDisk({ outPath: out, layout: 'disk', fs: { kind: 'rofs', entries } });
    if (!r.ok) throw r.error;
    const raw = fs.readFileSync(out);
    raw.writeUInt32LE(1_000_000, 0x1ce + 12); // sector count far past the end
    fs.writeFileSync(join(work, 'past-end.raw'), raw);
    const rep = await inspectImage(join(work, 'past-end.raw'));
    if (!rep.ok) throw rep.error;
    expect(rep.value.problems.map((p) => p.code)).toContain('image.partition-range');
    expect(rep.value.totals.files).toBe(4); // the filesystem itself is still readable

    raw.fill(0, 0x1ce, 0x1de);
    fs.writeFileSync(join(work, 'no-slot.raw'), raw);
    const rep2 = await inspectImage(join(work, 'no-slot.raw'));
    expect(rep2.ok && rep2.value.problems.map((p) => p.code)).toEqual(['image.no-root-partition']);

    const truncated = join(work, 'truncated.raw');
    fs.writeFileSync(truncated, fs.readFileSync(out).subarray(0, 2048));
    const rep3 = await inspectImage(truncated);
    expect(rep3.ok && rep3.value.problems.map((p) => p.code)).toEqual(expect.arrayContaining(['image.partition-range', 'image.corrupt']));

    const missing = await inspectImage(join(work, 'does-not-exist.raw'));
    expect(!missing.ok && missing.error.code).toBe('image.not-found');
  });
});
