// The tar parser on damaged and hostile archives: each is refused with the message a user reads
// (in full) and the offset it points at, whatever the chunk sizes the stream came in.

import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, truncateSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TarError } from '../../src/oci/tar.js';
import { END, F, failure, member, meta, parse, paxRecord } from '../helpers/tar-blocks.js';

const work = mkdtempSync(join(tmpdir(), 'osv-tar-damage-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const TRUNCATED = (at: number, start?: number) => `the archive ends inside a member (at byte ${at}${start === undefined ? '' : `, member starting at ${start}`}): it is truncated`;
const ORPHAN = 'the archive ends after an extended header, without the member it describes';
const UNSUPPORTED = (t: string) => `member type '${t}' is not supported (sparse files, volume labels and other GNU extensions are refused)`;

describe('damaged headers', () => {
  it('refuses a bad checksum with both sums, at the damaged header', () => {
    const first = member({ name: 'ok', data: 'y' });
    const b = Buffer.concat([first, member({ name: 'a' }), END]);
    const stored = parseInt(b.toString('latin1', 1024 + F.sum, 1024 + F.sum + 6), 8);
    b[1024] = 'b'.charCodeAt(0); // one more than the checksum covers
    expect(failure(b)).toEqual({ message: `bad header checksum (stored ${stored}, computed ${stored + 1}): not a tar archive, or a damaged one`, offset: 1024 });
    let e: unknown;
    try {
      parse(b);
    } catch (err) {
      e = err;
    }
    expect(e).toBeInstanceOf(TarError);
    expect((e as TarError).name).toBe('TarError');
  });

  it('refuses what is not a tar archive at all', () => {
    expect(failure(Buffer.alloc(1024, 'A'))).toEqual({ message: 'the header checksum is not an octal number ("AAAAAAAA")', offset: 0 });
    const text = Buffer.from(`${'#!/bin/sh\necho this is a script\n'.repeat(20)}`);
    expect(failure(text).message).toMatch(/^the header checksum is not an octal number \(".{8}"\)$/);
  });

  it('names the numeric field that is not an octal number, as it reads it', () => {
    const cases: Array<[number, string, string]> = [
      [F.mode, '0006448\0', 'the mode is not an octal number ("0006448")'],
      [F.mode, '  9 \0\0\0\0', 'the mode is not an octal number ("9")'],
      [F.uid, 'x000644\0', 'the uid is not an octal number ("x000644")'],
      [F.gid, ' 12 34 \0', 'the gid is not an octal number ("12 34")'],
      [F.gid, '12\x0034\0\0\0', 'the gid is not an octal number ("12\\u000034")'],
      [F.size, '0000000001a\0', 'the size is not an octal number ("0000000001a")'],
      [F.mtime, '-1\0\0\0\0\0\0\0\0\0\0', 'the mtime is not an octal number ("-1")'],
    ];
    for (const [field, text, message] of cases) expect(failure(Buffer.concat([member({ name: 'n' }), member({ name: 'm' }, [[field, text]]), END]))).toEqual({ message, offset: 512 });
  });

  it('refuses negative and oversized GNU base-256 numbers', () => {
    const size = Buffer.alloc(12);
    size.writeBigUInt64BE(2n ** 53n, 4);
    size[0] = 0x80;
    expect(failure(Buffer.concat([member({ name: 'big' }, [[F.size, size]]), END]))).toEqual({ message: 'the size is too large', offset: 0 });
    expect(failure(Buffer.concat([member({ name: 'neg' }, [[F.uid, Buffer.alloc(8, 0xff)]]), END]))).toEqual({ message: 'the uid is negative', offset: 0 });
    // what GNU tar writes for a time before the epoch
    const root = join(work, 'neg');
    mkdirSync(root, { recursive: true });
    writeFileSync(join(root, 'f'), 'x');
    const b = execFileSync('tar', ['--format=gnu', '--mtime=@-1', '-C', root, '-cf', '-', 'f']);
    expect(b[F.mtime]).toBe(0xff);
    expect(failure(b)).toEqual({ message: 'the mtime is negative', offset: 0 });
  });

  it('refuses a member with an empty name, from the header or from a GNU long name', () => {
    expect(failure(Buffer.concat([member({ name: 'a' }), member({ name: 'x' }, [[F.name, '\0']]), END]))).toEqual({ message: 'a member with an empty name', offset: 512 });
    expect(failure(Buffer.concat([meta('L', '\0'), member({ name: 'x' }), END]))).toEqual({ message: 'a member with an empty name', offset: 1024 });
  });

  it('refuses names and link targets over 4096 bytes (counted in bytes, not characters)', () => {
    const message = 'a name longer than 4096 bytes';
    for (const [name, linkname] of [
      ['n'.repeat(4097), 't'],
      ['\u00e9'.repeat(2049), 't'], // 2049 characters, 4098 bytes
      ['n', 't'.repeat(4097)],
    ]) {
      const b = Buffer.concat([member({ name: 'first' }), meta('x', paxRecord('path', name!) + paxRecord('linkpath', linkname!)), member({ name: 's', type: 'symlink' }), END]);
      expect(failure(b)).toEqual({ message, offset: b.length - 1536 }); // the member's header, after the pax header's blocks
    }
  });
});

describe('member types', () => {
  const root = join(work, 'sparse');
  mkdirSync(root, { recursive: true });
  writeFileSync(join(root, 'f'), 'x');
  const sp = join(root, 'sp');
  writeFileSync(sp, '');
  truncateSync(sp, 1 << 20);
  appendFileSync(sp, 'end');
  const gnu = execFileSync('tar', ['--format=gnu', '-S', '-C', root, '-cf', '-', 'sp']);
  const holes = gnu[F.type] === 'S'.charCodeAt(0);
  if (!holes) console.warn('skipped: this file system reports no holes, so GNU tar writes no sparse member');

  it('refuses a volume label GNU tar writes', () => {
    const label = execFileSync('tar', ['--format=gnu', '--label=VOL', '-C', root, '-cf', '-', 'f']);
    expect(failure(label)).toEqual({ message: UNSUPPORTED('V'), offset: 0 });
  });

  it.skipIf(!holes)('refuses the sparse members GNU tar writes, GNU and pax', () => {
    expect(failure(gnu)).toEqual({ message: UNSUPPORTED('S'), offset: 0 });
    const posix = execFileSync('tar', ['--format=posix', '-S', '-C', root, '-cf', '-', 'sp']);
    expect(failure(posix)).toEqual({ message: 'sparse members (GNU.sparse pax records) are not supported', offset: 0 });
  });

  it('names the refused type flag, escaped when it is not printable', () => {
    for (const [flag, shown] of [
      ['S', 'S'],
      ['D', 'D'],
      ['M', 'M'],
      [' ', ' '],
      ['~', '~'],
      ['\x7f', '\\x7f'],
      ['\x1f', '\\x1f'],
      ['\x01', '\\x01'],
      ['\xe9', '\\xe9'],
    ])
      expect(failure(Buffer.concat([member({ name: 'ok' }), member({ name: 'odd' }, [[F.type, flag!]]), END]))).toEqual({ message: UNSUPPORTED(shown!), offset: 512 });
  });

  it('refuses sparse members announced in a pax header, per member or global', () => {
    for (const type of ['x', 'g'] as const)
      expect(failure(Buffer.concat([member({ name: 'a' }), meta(type, paxRecord('GNU.sparse.major', '1') + paxRecord('GNU.sparse.minor', '0')), member({ name: 'b' }), END]))).toEqual({
        message: 'sparse members (GNU.sparse pax records) are not supported',
        offset: 512,
      });
  });
});

describe('truncated archives', () => {
  // a pax header (0), a file of 600 bytes (header 1024, data 1536..2136, padding to 2560),
  // a GNU long name (2560), a directory (3584), the end blocks (4096)
  const b = Buffer.concat([meta('x', paxRecord('path', 'pax-name')), member({ name: 'f', data: 'd'.repeat(600) }), meta('L', 'long-name\0'), member({ name: 'dir', type: 'dir' }), END]);

  it('still reads the whole archive', () => {
    expect(parse(b).map((h) => [h.name, h.headerOffset])).toEqual([
      ['pax-name', 0],
      ['long-name', 2560],
    ]);
  });

  it('says where it ends and where the member it cuts began, at every boundary', () => {
    const cuts: Array<[number, string]> = [
      [100, TRUNCATED(100)], // inside the first header
      [512, TRUNCATED(512, 0)], // after the pax header, before its records
      [700, TRUNCATED(700, 0)], // inside the records
      [1024, ORPHAN], // after the pax header's block, before the header it describes
      [1100, TRUNCATED(1100, 0)], // inside the header
      [1536, TRUNCATED(1536, 0)], // after the header, before its data
      [1800, TRUNCATED(1800, 0)], // inside the data
      [2300, TRUNCATED(2300, 0)], // inside the padding after the data
      [2600, TRUNCATED(2600)], // inside the long-name header
      [3072, TRUNCATED(3072, 2560)], // after the long-name header, before the name
      [3080, TRUNCATED(3080, 2560)], // inside the long name
      [3584, ORPHAN], // after the long name, before the header it names
      [3700, TRUNCATED(3700, 2560)], // inside that header
      [4200, TRUNCATED(4200)], // inside the first end block
    ];
    for (const [cut, message] of cuts) expect(failure(b.subarray(0, cut), [cut, 1, 7, 512])).toEqual({ message, offset: cut });
  });

  it('refuses an archive that ends after any extended header without its member', () => {
    for (const ext of [meta('x', paxRecord('path', 'p')), meta('x', paxRecord('mtime', '1')), meta('x', ''), meta('L', 'name\0'), meta('K', 'target\0')]) {
      expect(failure(Buffer.concat([member({ name: 'a' }), ext]))).toEqual({ message: ORPHAN, offset: 512 + ext.length });
      expect(failure(Buffer.concat([member({ name: 'a' }), ext, END]))).toEqual({ message: ORPHAN, offset: 1536 + ext.length });
    }
  });
});

describe('the end of the archive', () => {
  it('refuses a header after the two end blocks, and a lone zero block between members', () => {
    const a = member({ name: 'a', data: 'x' });
    expect(failure(Buffer.concat([a, END, member({ name: 'b' })]))).toEqual({ message: 'data after the end-of-archive blocks', offset: 2048 });
    expect(failure(Buffer.concat([a, END, Buffer.alloc(512), member({ name: 'b' }), END]))).toEqual({ message: 'data after the end-of-archive blocks', offset: 2560 });
    expect(failure(Buffer.concat([a, Buffer.alloc(512), member({ name: 'b' }), END]))).toEqual({ message: 'a lone zero block in the middle of the archive', offset: 1024 });
    expect(failure(Buffer.concat([Buffer.alloc(512), member({ name: 'b' })]))).toEqual({ message: 'a lone zero block in the middle of the archive', offset: 0 });
  });
});

describe('extended headers', () => {
  it('refuses a pax or long-name header over 1 MiB before reading it', () => {
    for (const type of ['x', 'g', 'L', 'K'] as const)
      expect(failure(Buffer.concat([member({ name: 'a' }), meta(type, 'r', (1 << 20) + 1)]))).toEqual({ message: 'an extended header of 1048577 bytes (limit 1048576)', offset: 512 });
  });

  const pax = (body: string) => failure(Buffer.concat([member({ name: 'a' }), meta('x', body), member({ name: 'b' }), END]));
  const at512 = (message: string) => ({ message, offset: 512 });

  it('refuses malformed pax records, quoting them', () => {
    expect(pax('path=x\n')).toEqual(at512('a pax record without a length'));
    expect(pax('1a path=x\n')).toEqual(at512('a pax record length is not a number ("1a")'));
    expect(pax('a1 path=x\n')).toEqual(at512('a pax record length is not a number ("a1")'));
    expect(pax(' path=x\n')).toEqual(at512('a pax record length is not a number ("")'));
    expect(pax('99 path=x\n')).toEqual(at512('a pax record runs past its header'));
    expect(pax('5 path=x\n')).toEqual(at512('a pax record runs past its header'));
    expect(pax('9 path=xy\n')).toEqual(at512('a pax record runs past its header'));
    // a length of 0 after a record would point at that record's newline
    expect(pax(`${paxRecord('path', 'abc')}0 path=y\n`)).toEqual(at512('a pax record runs past its header'));
    expect(pax('9 pathxy\n')).toEqual(at512('a pax record without a key ("pathxy")'));
    expect(pax('7 =abc\n')).toEqual(at512('a pax record without a key ("=abc")'));
    expect(pax(`104 ${'k'.repeat(99)}\n`)).toEqual(at512(`a pax record without a key ("${'k'.repeat(40)}")`));
  });

  it('refuses pax numbers that are not plain decimals, or too large', () => {
    const cases: Array<[string, string]> = [
      ['size', '12x'],
      ['size', ' 12'],
      ['size', '-1'],
      ['size', '1.5'],
      ['size', '9007199254740993'],
      ['uid', '0x10'],
      ['uid', '-1'],
      ['uid', '12 '],
      ['gid', '2.5'],
      ['gid', ''],
      ['mtime', '1e3'],
      ['mtime', '+1'],
      ['mtime', '1.5 '],
      ['mtime', '1.'],
      ['mtime', '.5'],
      ['mtime', '--1'],
      ['mtime', `1${'0'.repeat(400)}`],
    ];
    for (const [key, value] of cases) expect(pax(paxRecord(key, value))).toEqual(at512(`pax ${key} is not a number (${JSON.stringify(value.slice(0, 40))})`));
  });
});
