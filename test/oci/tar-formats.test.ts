// The tar parser on every archive layout it accepts: what GNU tar writes in each of its formats,
// pax and GNU long-name records, the odd numeric fields of old writers, both checksums, the end
// of an archive in its several forms, and chunks that end anywhere.

import { execFileSync } from 'node:child_process';
import { chmodSync, linkSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TarParser, type TarHeader } from '../../src/oci/tar.js';
import { END, F, member, meta, parse, paxRecord, resum } from '../helpers/tar-blocks.js';
import { tar } from '../helpers/tar-writer.js';

const work = mkdtempSync(join(tmpdir(), 'osv-tar-formats-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const CHUNKS = [1, 7, 512, 1000, 1 << 20];

const hasGit = (() => {
  try {
    execFileSync('git', ['--version']);
    return true;
  } catch {
    console.warn('skipped: git archive (no git on this machine)');
    return false;
  }
})();

/** `tar -c` of `names` under `root` with fixed owners and times. */
function gnuTar(format: string, root: string, names: string[], extra: string[] = []): Buffer {
  return execFileSync('tar', [`--format=${format}`, '--owner=1234', '--group=2345', '--mtime=@1700000000', ...extra, '-C', root, '-cf', '-', ...names]);
}

const pick = (h: TarHeader) => ({ name: h.name, type: h.type, mode: h.mode, uid: h.uid, gid: h.gid, size: h.size, mtime: h.mtime, linkname: h.linkname });

describe('archives GNU tar writes', () => {
  const root = join(work, 'tree');
  mkdirSync(join(root, 'd'), { recursive: true });
  chmodSync(join(root, 'd'), 0o755);
  writeFileSync(join(root, 'f'), 'hello\n');
  chmodSync(join(root, 'f'), 0o640);
  writeFileSync(join(root, 'e'), '');
  chmodSync(join(root, 'e'), 0o600);
  symlinkSync('f', join(root, 's'));
  linkSync(join(root, 'f'), join(root, 'h'));
  execFileSync('mkfifo', ['-m', '644', join(root, 'p')]);
  const common = { uid: 1234, gid: 2345, mtime: 1700000000 };
  const expected = [
    { name: 'd/', type: 'dir', mode: 0o755, size: 0, linkname: '', ...common },
    { name: 'e', type: 'file', mode: 0o600, size: 0, linkname: '', ...common },
    { name: 'f', type: 'file', mode: 0o640, size: 6, linkname: '', ...common },
    { name: 'h', type: 'hardlink', mode: 0o640, size: 0, linkname: 'f', ...common },
    { name: 'p', type: 'fifo', mode: 0o644, size: 0, linkname: '', ...common },
    { name: 's', type: 'symlink', mode: 0o777, size: 0, linkname: 'f', ...common },
  ];

  for (const format of ['v7', 'oldgnu', 'gnu', 'ustar', 'posix']) {
    it(`reads every member type of --format=${format}, in chunks of any size`, () => {
      // v7 has no fifos (GNU tar leaves them out with an error)
      const want = format === 'v7' ? expected.filter((e) => e.type !== 'fifo') : expected;
      const b = gnuTar(format, root, want.map((e) => e.name.replace(/\/$/, '')));
      if (format === 'v7') expect(b[1024 + F.type]).toBe(0); // regular files have the type flag NUL
      for (const chunk of CHUNKS) {
        const hs = parse(b, chunk);
        expect(hs.map(pick)).toEqual(want);
        for (const h of hs) {
          // posix: each member has its own pax header (one block of records) before it
          if (format === 'posix') {
            expect(b.toString('latin1', h.headerOffset + F.type, h.headerOffset + F.type + 1)).toBe('x');
            expect(h.dataOffset).toBe(h.headerOffset + 1536);
          } else expect(h.dataOffset).toBe(h.headerOffset + 512);
        }
        const f = hs.find((h) => h.name === 'f')!;
        expect(b.toString('utf8', f.dataOffset, f.dataOffset + f.size)).toBe('hello\n');
      }
    });
  }

  it('reads owners above the octal limit: GNU base-256 numbers and pax uid/gid records', () => {
    for (const format of ['gnu', 'posix']) {
      const b = gnuTar(format, root, ['f'], ['--owner=x:3000000', '--group=y:4000000']);
      if (format === 'gnu') expect(b[F.uid]).toBe(0x80);
      expect(parse(b, 3).map(pick)).toEqual([{ ...expected[2], uid: 3000000, gid: 4000000 }]);
    }
  });

  it('reads a negative mtime from a pax record', () => {
    const b = gnuTar('posix', root, ['f'], ['--mtime=@-1000']);
    expect(parse(b)[0]!.mtime).toBe(-1000);
  });

  it('joins the ustar prefix and name fields, and reads a name that fills its 100-byte field', () => {
    const r = join(work, 'long');
    const dir = `${'p'.repeat(60)}/${'q'.repeat(60)}`;
    mkdirSync(join(r, dir), { recursive: true });
    writeFileSync(join(r, dir, 'n'.repeat(70)), 'x');
    writeFileSync(join(r, 'm'.repeat(100)), 'y');
    const b = gnuTar('ustar', r, [dir, 'm'.repeat(100)]);
    expect(b.toString('latin1', F.prefix, F.prefix + 5)).toBe('ppppp');
    expect(parse(b, 100).map((h) => h.name)).toEqual([`${dir}/`, `${dir}/${'n'.repeat(70)}`, 'm'.repeat(100)]);
    // v7: no prefix field, and a 100-byte name with no NUL after it
    const v7 = gnuTar('v7', r, ['m'.repeat(100)]);
    expect(parse(v7)).toMatchObject([{ name: 'm'.repeat(100), type: 'file', size: 1, mode: 0o644 }]);
  });

  it('reads long names and link targets: GNU L/K records and pax path/linkpath', () => {
    const r = join(work, 'longlink');
    mkdirSync(r);
    const name = 'a'.repeat(150);
    const target = `/${'t'.repeat(300)}`;
    writeFileSync(join(r, name), 'data');
    symlinkSync(target, join(r, 'l'.repeat(120)));
    for (const format of ['gnu', 'posix']) {
      const b = gnuTar(format, r, [name, 'l'.repeat(120)]);
      for (const chunk of [1, 100, 513]) {
        const hs = parse(b, chunk);
        expect(hs.map((h) => [h.name, h.type, h.linkname, h.size])).toEqual([
          [name, 'file', '', 4],
          ['l'.repeat(120), 'symlink', target, 0],
        ]);
        // the member starts at its first extended header
        expect(hs[0]!.headerOffset).toBe(0);
        expect(b.toString('utf8', hs[0]!.dataOffset, hs[0]!.dataOffset + 4)).toBe('data');
      }
    }
  });

  it('applies a pax global header to every member after it; the global header starts no member', () => {
    const b = gnuTar('posix', root, ['f', 'e'], ['--pax-option=uid=77,gid=88']);
    expect(b.toString('latin1', F.type, F.type + 1)).toBe('g');
    const hs = parse(b, 11);
    expect(hs.map((h) => [h.name, h.uid, h.gid])).toEqual([
      ['f', 77, 88],
      ['e', 77, 88],
    ]);
    expect(hs[0]!.headerOffset).toBe(1024);
  });

  it.skipIf(!hasGit)('reads what git archive writes: a pax global header with the commit id, then the members', () => {
    const repo = join(work, 'repo');
    mkdirSync(repo);
    writeFileSync(join(repo, 'README'), 'readme\n');
    const git = (...args: string[]) => execFileSync('git', ['-C', repo, '-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { env: { ...process.env, GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1' } });
    git('init', '-q');
    git('add', 'README');
    git('commit', '-q', '-m', 'one');
    const b = git('archive', '--format=tar', '--prefix=app/', 'HEAD');
    expect(b.toString('latin1', F.type, F.type + 1)).toBe('g');
    const hs = parse(b, 100);
    expect(hs.map((h) => [h.name, h.type, h.size, h.headerOffset])).toEqual([
      ['app/', 'dir', 0, 1024],
      ['app/README', 'file', 7, 1536],
    ]);
  });
});

describe('hand-made archives', () => {
  it("reads type '7' (contiguous) and type NUL (old) members as regular files", () => {
    const b = Buffer.concat([member({ name: 'c', data: 'abc' }, [[F.type, '7']]), member({ name: 'o', data: 'de' }, [[F.type, '\0']]), END]);
    expect(parse(b).map((h) => [h.name, h.type, h.size, h.dataOffset])).toEqual([
      ['c', 'file', 3, 512],
      ['o', 'file', 2, 1536],
    ]);
  });

  it('keeps permission and set-id bits of the mode, not the file-type bits old tars stored there', () => {
    const b = Buffer.concat([member({ name: 'a' }, [[F.mode, '0100755\0']]), member({ name: 'b' }, [[F.mode, '0004755\0']]), END]);
    expect(parse(b).map((h) => h.mode)).toEqual([0o755, 0o4755]);
  });

  it('reads numeric fields padded with spaces and NULs on either side, empty ones as 0, and unterminated ones', () => {
    const b = Buffer.concat([
      member({ name: 'a', data: 'hello' }, [
        [F.mode, '  644 \0\0'],
        [F.uid, Buffer.alloc(8)],
        [F.gid, '        '],
        [F.size, '000000000005'],
        [F.mtime, ' 1234567 \0  '],
      ]),
      END,
    ]);
    expect(parse(b).map(pick)).toEqual([{ name: 'a', type: 'file', mode: 0o644, uid: 0, gid: 0, size: 5, mtime: 0o1234567, linkname: '' }]);
  });

  it('accepts the unsigned checksum of a header with bytes above 127, and the signed one old Sun tars wrote', () => {
    const name = 'caf\u00e9\u007f';
    const unsigned = member({ name, data: 'u' });
    const signed = resum(member({ name, data: 's' }), 0, true);
    expect(signed.toString('latin1', F.sum, F.sum + 8)).not.toBe(unsigned.toString('latin1', F.sum, F.sum + 8));
    for (const b of [unsigned, signed]) expect(parse(Buffer.concat([b, END]))[0]!.name).toBe(name);
  });

  it('reads GNU base-256 numbers up to the largest safe integer', () => {
    const size = Buffer.from([0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02, 0x01]);
    const mtime = Buffer.alloc(12);
    mtime.writeBigUInt64BE(BigInt(Number.MAX_SAFE_INTEGER), 4);
    mtime[0] = 0x80;
    const b = Buffer.concat([member({ name: 'big', data: 'z'.repeat(513) }, [[F.size, size], [F.mtime, mtime]]), END]);
    expect(parse(b, 100).map((h) => [h.size, h.mtime])).toEqual([[513, Number.MAX_SAFE_INTEGER]]);
    const uid = Buffer.from([0x80, 0, 0, 0, 0, 0, 1, 0]);
    expect(parse(Buffer.concat([member({ name: 'u' }, [[F.uid, uid]]), END]))[0]!.uid).toBe(256);
  });

  it('ignores the size field of a hard link: no data follows it', () => {
    const b = Buffer.concat([member({ name: 'h', type: 'hardlink', linkname: 'f' }, [[F.size, '00000001000\0']]), member({ name: 'n', data: 'x' }), END]);
    expect(parse(b).map((h) => [h.name, h.type, h.size, h.headerOffset, h.dataOffset])).toEqual([
      ['h', 'hardlink', 0, 0, 512],
      ['n', 'file', 1, 512, 1024],
    ]);
  });

  it('reports where each member and its data start, extended headers included', () => {
    const b = Buffer.concat([
      member({ name: 'a', data: 'x'.repeat(600) }),
      meta('x', paxRecord('path', 'from-pax')),
      member({ name: 'b', data: 'y' }),
      meta('L', 'long-name\0'),
      member({ name: 'c', type: 'dir' }),
      meta('g', paxRecord('comment', 'hi')),
      member({ name: 'd' }),
      END,
    ]);
    for (const chunk of CHUNKS)
      expect(parse(b, chunk).map((h) => [h.name, h.headerOffset, h.dataOffset])).toEqual([
        ['a', 0, 512],
        ['from-pax', 1536, 3072],
        ['long-name', 3584, 5120],
        ['d', 6144, 6656],
      ]);
  });

  it('reads devices, and every other type the test writer makes', () => {
    const types = ['file', 'dir', 'symlink', 'hardlink', 'char', 'block', 'fifo'] as const;
    const b = tar(types.map((type) => ({ name: type, type, ...(type.endsWith('link') ? { linkname: 'file' } : {}) })));
    expect(parse(b).map((h) => [h.name, h.type])).toEqual(types.map((t) => [t, t]));
  });
});

describe('pax records', () => {
  const x = (...records: Array<[string, string]>) => meta('x', records.map(([k, v]) => paxRecord(k, v)).join(''));

  it('take path, linkpath, size, mtime, uid and gid over the header, for the next member only', () => {
    const b = Buffer.concat([
      x(['path', 'p/long'], ['linkpath', 'ignored-for-a-file'], ['size', '3'], ['mtime', '1700000000.25'], ['uid', '5'], ['gid', '6'], ['atime', '1'], ['comment', 'a=b c']),
      member({ name: 'short', data: 'abc', uid: 7, gid: 8, mtime: 99 }, [[F.size, '00000000000\0']]),
      member({ name: 'next', data: 'q', uid: 7, gid: 8, mtime: 99 }),
      END,
    ]);
    for (const chunk of [1, 513])
      expect(parse(b, chunk).map((h) => ({ ...pick(h), dataOffset: h.dataOffset }))).toEqual([
        { name: 'p/long', type: 'file', mode: 0o644, uid: 5, gid: 6, size: 3, mtime: 1700000000.25, linkname: 'ignored-for-a-file', dataOffset: 1536 },
        { name: 'next', type: 'file', mode: 0o644, uid: 7, gid: 8, size: 1, mtime: 99, linkname: '', dataOffset: 2560 },
      ]);
  });

  it('read integer, negative and fractional mtimes', () => {
    for (const [v, want] of [
      ['1700000001', 1700000001],
      ['-5', -5],
      ['-5.75', -5.75],
      ['0.5', 0.5],
    ] as const)
      expect(parse(Buffer.concat([x(['mtime', v]), member({ name: 'm' }), END]))[0]!.mtime).toBe(want);
  });

  it('take the pax path whole, without the ustar prefix', () => {
    const b = Buffer.concat([x(['path', 'whole/name']), member({ name: 'n' }, [[F.prefix, 'prefix\0']]), member({ name: 'n' }, [[F.prefix, 'prefix\0']]), END]);
    expect(parse(b).map((h) => h.name)).toEqual(['whole/name', 'prefix/n']);
  });

  it('ignore the bytes at 345 of an old GNU header (times, not a prefix)', () => {
    const b = Buffer.concat([member({ name: 'n' }, [[F.magic, 'ustar  \0'], [F.prefix, '14712345670\0']]), END]);
    expect(parse(b)[0]!.name).toBe('n');
  });

  it('in a global header apply to every later member, under the per-member ones', () => {
    const b = Buffer.concat([
      meta('g', paxRecord('uid', '40') + paxRecord('mtime', '12')),
      member({ name: 'a', uid: 1 }),
      x(['uid', '41']),
      member({ name: 'b', uid: 1 }),
      member({ name: 'c', uid: 1 }),
      END,
    ]);
    expect(parse(b, 7).map((h) => [h.name, h.uid, h.mtime, h.headerOffset])).toEqual([
      ['a', 40, 12, 1024],
      ['b', 41, 12, 1536],
      ['c', 40, 12, 3072],
    ]);
  });

  it('may be followed by NUL padding inside the record data, and may be empty', () => {
    const b = Buffer.concat([meta('x', `${paxRecord('path', 'padded')}\0\0\0\0`), member({ name: 'a' }), meta('x', ''), member({ name: 'b' }), END]);
    expect(b.readUInt8(1536 + F.size + 10)).toBe(0x30); // the empty header's size field is 0: no data block
    for (const chunk of [1, 512, 1024, 1536]) expect(parse(b, chunk).map((h) => [h.name, h.headerOffset])).toEqual([['padded', 0], ['b', 1536]]);
  });

  it('accept a record of exactly 1 MiB, and names and link targets of exactly 4096 bytes', () => {
    const filler = 'c'.repeat((1 << 20) - '1048576 comment=\n'.length);
    const record = `1048576 comment=${filler}\n`;
    expect(record.length).toBe(1 << 20);
    const name = `${'\u00e9'.repeat(2047)}nn`; // 4096 bytes, 2049 characters
    const link = 'l'.repeat(4096);
    const ok = Buffer.concat([meta('x', record), member({ name: 'a' }), x(['path', name], ['linkpath', link]), member({ name: 's', type: 'symlink' }), END]);
    expect(parse(ok, 65536).map((h) => [h.name, h.linkname])).toEqual([
      ['a', ''],
      [name, link],
    ]);
  });
});

describe('GNU long-name records', () => {
  it('end at their size or at a NUL, whatever the padding after them holds', () => {
    const garbage = (text: string) => meta('L', text + 'X'.repeat(512 - text.length), text.length);
    const b = Buffer.concat([garbage('no-nul'), member({ name: 'a' }), meta('L', 'cut\0here'), member({ name: 'b' }), meta('K', 'target-no-nul'), member({ name: 'c', type: 'symlink', linkname: 'short' }), END]);
    for (const chunk of [1, 3, 512]) expect(parse(b, chunk).map((h) => [h.name, h.linkname])).toEqual([['no-nul', ''], ['cut', ''], ['c', 'target-no-nul']]);
  });
});

describe('the end of an archive', () => {
  const one = member({ name: 'a', data: 'x' });

  it('may be two zero blocks, one, many, or none; an empty stream holds no members', () => {
    for (const tail of [END, Buffer.alloc(512), Buffer.alloc(512 * 20), Buffer.alloc(0)]) expect(parse(Buffer.concat([one, tail]), 512).map((h) => h.name)).toEqual(['a']);
    expect(parse(Buffer.alloc(0))).toEqual([]);
    expect(parse(END)).toEqual([]);
  });

  it('may come right after a member without data, or after a global header, with no zero blocks', () => {
    for (const last of [member({ name: 'empty' }), member({ name: 'd', type: 'dir' }), Buffer.concat([meta('x', paxRecord('path', 'pax-dir')), member({ name: 'd', type: 'dir' })])]) {
      for (const chunk of [1, 512]) expect(parse(Buffer.concat([one, last]), chunk)).toHaveLength(2);
    }
    expect(parse(Buffer.concat([one, meta('g', paxRecord('comment', 'x'))])).map((h) => h.name)).toEqual(['a']);
  });
});

describe('a reader with random access', () => {
  it('skips member data it does not read: dataDue and skipData', () => {
    const b = Buffer.concat([member({ name: 'a', data: 'x'.repeat(700) }), member({ name: 'b' }), END]);
    const seen: TarHeader[] = [];
    const p = new TarParser((h) => seen.push(h));
    expect(p.dataDue).toBe(0);
    p.push(b.subarray(0, 512));
    expect(seen.map((h) => h.name)).toEqual(['a']);
    expect(p.dataDue).toBe(1024);
    p.push(b.subarray(512, 612));
    expect(p.dataDue).toBe(924);
    p.skipData();
    expect(p.dataDue).toBe(0);
    p.skipData(); // nothing due: nothing skipped
    p.push(b.subarray(1536));
    p.end();
    expect(seen.map((h) => [h.name, h.headerOffset, h.dataOffset])).toEqual([
      ['a', 0, 512],
      ['b', 1536, 2048],
    ]);
  });
});

it('the tar writer of the tests and the parser agree on a plain archive', () => {
  expect(parse(tar([{ name: 'w', data: 'v' }])).map(pick)).toEqual([{ name: 'w', type: 'file', mode: 0o644, uid: 0, gid: 0, size: 1, mtime: 1_700_000_000, linkname: '' }]);
});
