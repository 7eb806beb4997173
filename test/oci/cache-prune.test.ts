// `osv cache ls|prune` on a cache laid out as osv-up writes it: the kernels and disks that
// `osv run REF` copied out of pushed images (osv/<digest>/, osv/seeds/<digest>/) are counted and
// freed like every other cached byte, and a temp directory of an unpacking still running is kept.

import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runOsv } from '../helpers/osv.js';

const work = mkdtempSync(join(tmpdir(), 'osv-cache-prune-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);

const osv = (args: string[], cache: string) => runOsv(args, { cwd: work, env: { PATH: process.env['PATH'], HOME: work, XDG_CACHE_HOME: cache } });

describe('osv cache and the images osv run REF unpacked', () => {
  it('ls counts their bytes; prune removes them, and the temp directories of dead unpackings, not those of live ones', async () => {
    const cache = join(work, 'cache');
    const oci = join(cache, 'osv-up', 'oci');
    mkdirSync(join(oci, 'osv', A), { recursive: true });
    writeFileSync(join(oci, 'osv', A, 'loader-stripped.elf'), Buffer.alloc(3000));
    writeFileSync(join(oci, 'osv', A, 'disk.qcow2'), Buffer.alloc(1000));
    mkdirSync(join(oci, 'osv', 'seeds', B), { recursive: true });
    writeFileSync(join(oci, 'osv', 'seeds', B, 'disk.qcow2'), Buffer.alloc(500));
    // A process that is still running (this test's child) and one that is not.
    const alive = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)'], { stdio: 'ignore' });
    try {
      const dead = spawnSync(process.execPath, ['-e', '0']).pid;
      mkdirSync(join(oci, 'tmp', `osv-${alive.pid}-0000aaaa`), { recursive: true });
      writeFileSync(join(oci, 'tmp', `osv-${alive.pid}-0000aaaa`, 'disk.qcow2'), 'x');
      mkdirSync(join(oci, 'tmp', `osv-${dead}-0000bbbb`), { recursive: true });
      writeFileSync(join(oci, 'tmp', `osv-${dead}-0000bbbb`, 'disk.qcow2'), 'x');

      const ls = osv(['cache', 'ls', '--json'], cache);
      expect(ls.code, ls.stderr).toBe(0);
      expect(JSON.parse(ls.stdout)).toMatchObject({ images: [], bytes: 4500 });

      const pruned = osv(['cache', 'prune', '--json'], cache);
      expect(pruned.code, pruned.stderr).toBe(0);
      expect(JSON.parse(pruned.stdout)).toEqual({ ok: true, removed: [`unpacked sha256:${A}`, `unpacked sha256:${B}`], kept: [], freedBytes: 4501 });
      expect(readdirSync(join(oci, 'osv'))).toEqual(['seeds']);
      expect(readdirSync(join(oci, 'osv', 'seeds'))).toEqual([]);
      expect(readdirSync(join(oci, 'tmp'))).toEqual([`osv-${alive.pid}-0000aaaa`]);
      expect(JSON.parse(osv(['cache', 'ls', '--json'], cache).stdout)).toMatchObject({ bytes: 0 });
    } finally {
      alive.kill();
    }
    expect(existsSync(join(oci, 'osv', A))).toBe(false);
  });

  it('ls shows the computed caches; prune empties them whole and says what each freed', () => {
    const cache = join(work, 'cache-derived');
    const root = join(cache, 'osv-up');
    const files: Record<string, number> = { 'objects/2049-1234.json': 700, 'objects/2049-99.json': 300, 'checks/0d033194.json': 2000, [`symbols/${A}.json`]: 4000, 'elf/9f0c1e2d3b4a5968.json': 600, 'schema/validate-07078616f39ee435285de7b2.cjs': 50 };
    for (const [f, n] of Object.entries(files)) {
      mkdirSync(join(root, f, '..'), { recursive: true });
      writeFileSync(join(root, f), Buffer.alloc(n));
    }
    const ls = osv(['cache', 'ls', '--json'], cache);
    expect(ls.code, ls.stderr).toBe(0);
    expect(JSON.parse(ls.stdout)).toEqual({
      dir: join(root, 'oci'),
      images: [],
      bytes: 0,
      derived: [
        { name: "the symbol check's per-object symbols", path: join(root, 'objects'), bytes: 1000 },
        { name: "the symbol check's findings", path: join(root, 'checks'), bytes: 2000 },
        { name: "kernels' symbol tables", path: join(root, 'symbols'), bytes: 4000 },
        { name: "the resolver's reads of ELF files", path: join(root, 'elf'), bytes: 600 },
        { name: 'validators compiled by older osv-up versions', path: join(root, 'schema'), bytes: 50 },
      ],
    });
    const text = osv(['cache', 'ls'], cache);
    expect(text.stdout).toBe(
      `no images in ${join(root, 'oci')}\n` +
        "computed, made again when needed (prune empties them): the symbol check's per-object symbols 1000 B, the symbol check's findings 2.0 KiB, kernels' symbol tables 3.9 KiB, the resolver's reads of ELF files 600 B, validators compiled by older osv-up versions 50 B\n",
    );
    const pruned = osv(['cache', 'prune', '--json'], cache);
    expect(pruned.code, pruned.stderr).toBe(0);
    expect(JSON.parse(pruned.stdout)).toEqual({
      ok: true,
      removed: ["the symbol check's per-object symbols (1000 B)", "the symbol check's findings (2.0 KiB)", "kernels' symbol tables (3.9 KiB)", "the resolver's reads of ELF files (600 B)", 'validators compiled by older osv-up versions (50 B)'],
      kept: [],
      freedBytes: 7650,
    });
    for (const d of ['objects', 'checks', 'symbols', 'elf', 'schema']) expect(readdirSync(join(root, d))).toEqual([]);
    // Nothing left to say, and nothing else touched.
    expect(osv(['cache', 'ls'], cache).stdout).toBe(`no images in ${join(root, 'oci')}\n`);
    expect(JSON.parse(osv(['cache', 'prune', '--json'], cache).stdout)).toEqual({ ok: true, removed: [], kept: [], freedBytes: 0 });
  });
});
