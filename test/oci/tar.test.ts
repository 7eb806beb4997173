import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync, linkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TarParser, type TarHeader } from '../../src/oci/tar.js';
import { tar } from '../helpers/tar-writer.js';

function parse(b: Buffer, chunk = 7919): TarHeader[] {
  const out: TarHeader[] = [];
  const p = new TarParser((h) => out.push(h));
  for (let i = 0; i < b.length; i += chunk) p.push(b.subarray(i, i + chunk));
  p.end();
  return out;
}

const work = mkdtempSync(join(tmpdir(), 'osv-tar-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('TarParser', () => {
  it('reads what GNU tar writes: long names, symlinks, hard links, modes, data offsets', () => {
    const root = join(work, 'gnu');
    const long = 'd'.repeat(120);
    mkdirSync(join(root, long), { recursive: true });
    writeFileSync(join(root, long, 'file.txt'), 'hello tar');
    symlinkSync('/etc/alternatives/x', join(root, 'abs-link'));
    linkSync(join(root, long, 'file.txt'), join(root, 'hard'));
    for (const format of ['gnu', 'posix']) {
      const b = execFileSync('tar', [`--format=${format}`, '-C', root, '--sort=name', '-cf', '-', '.']);
      // one byte at a time, and in odd chunks: the parser must not care where chunks end
      for (const chunk of [1, 511, 4096]) {
        const hs = parse(b, chunk);
        const byName = new Map(hs.map((h) => [h.name.replace(/^\.\//, '').replace(/\/$/, ''), h]));
        const f = byName.get(`${long}/file.txt`)!;
        expect(f.type).toBe('file');
        expect(b.toString('utf8', f.dataOffset, f.dataOffset + f.size)).toBe('hello tar');
        expect(byName.get('abs-link')).toMatchObject({ type: 'symlink', linkname: '/etc/alternatives/x' });
        expect(byName.get('hard')!.type).toBe('hardlink');
        expect(byName.get(long)!.type).toBe('dir');
      }
    }
  });

  it('accepts an archive without the end-of-archive blocks', () => {
    const b = tar([{ name: 'a', data: 'x' }], { end: false });
    expect(parse(b).map((h) => h.name)).toEqual(['a']);
  });

  it('refuses a truncated member, a bad checksum, data after the end and unknown types', () => {
    const b = tar([{ name: 'a', data: 'x'.repeat(2000) }]);
    expect(() => parse(b.subarray(0, 1200))).toThrow(/truncated/);
    const bad = Buffer.from(b);
    bad[0] = 'b'.charCodeAt(0);
    expect(() => parse(bad)).toThrow(/checksum/);
    expect(() => parse(Buffer.concat([tar([{ name: 'a' }]), tar([{ name: 'b' }])]))).toThrow(/after the end/);
    const sparse = Buffer.from(tar([{ name: 's' }]));
    sparse[156] = 'S'.charCodeAt(0);
    let sum = 0;
    sparse.fill(0x20, 148, 156);
    for (let i = 0; i < 512; i++) sum += sparse[i]!;
    sparse.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'latin1');
    expect(() => parse(sparse)).toThrow(/not supported/);
  });

  it('takes long names and link targets from pax records', () => {
    const name = `x/${'n'.repeat(200)}`;
    const hs = parse(tar([{ name, type: 'symlink', linkname: `/${'t'.repeat(150)}` }]));
    expect(hs[0]).toMatchObject({ name, linkname: `/${'t'.repeat(150)}` });
  });
});
