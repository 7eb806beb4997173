import { mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeHostFs } from '../../src/hostfs.js';
import { compileExclude, expandHostGlob, globToRegExp, hasGlob } from '../../src/plan/glob.js';
import { tempDir, writeFiles } from './helpers.js';

describe('exclude patterns', () => {
  const ex = compileExclude(['**/*.pyc', '**/__pycache__', 'test/**', '/top.txt', 'docs/*.md', 'data/[ab]?.bin', 'build']);
  it.each([
    ['x.pyc', true],
    ['a/b/c.pyc', true],
    ['a/__pycache__', true],
    ['__pycache__', true],
    ['build', true],
    ['sub/build', false],
    ['test', true],
    ['test/unit/x.py', true],
    ['a/test/x.py', false],
    ['top.txt', true],
    ['sub/top.txt', false],
    ['docs/readme.md', true],
    ['docs/sub/readme.md', false],
    ['data/a1.bin', true],
    ['data/c1.bin', false],
    ['.hidden.pyc', true],
    ['x.py', false],
  ])('%s excluded: %s', (rel, excluded) => {
    expect(ex(rel)).toBe(excluded);
  });

  it('no patterns exclude nothing', () => {
    expect(compileExclude([])('anything')).toBe(false);
  });

  it('`**` spans components, `*` does not; `\\` escapes', () => {
    expect(globToRegExp('/usr/**/lib*.so').test('/usr/lib/x86_64-linux-gnu/libz.so')).toBe(true);
    expect(globToRegExp('/usr/**/lib*.so').test('/usr/libz.so')).toBe(true);
    expect(globToRegExp('/usr/*/lib*.so').test('/usr/a/b/libz.so')).toBe(false);
    expect(globToRegExp('a\\*b').test('a*b')).toBe(true);
    expect(globToRegExp('a\\*b').test('axb')).toBe(false);
    expect(hasGlob('/usr/lib/libz.so')).toBe(false);
    expect(hasGlob('/usr/lib/lib[xz].so')).toBe(true);
  });
});

describe('host globs', () => {
  let t: ReturnType<typeof tempDir>;
  beforeAll(() => {
    t = tempDir();
    writeFiles(t.path, { 'lib/libb.so.1': '', 'lib/liba.so.1': '', 'lib/libc.txt': '', 'lib/sub/libd.so.1': '', 'other/x': '' });
    mkdirSync(join(t.path, 'lib', 'libdir.so.1'));
    symlinkSync('..', join(t.path, 'lib', 'sub', 'up'));
  });
  afterAll(() => t.cleanup());

  it('expands in byte order, directories included when they match', () => {
    expect(expandHostGlob(nodeHostFs, `${t.path}/lib/lib*.so.1`)).toEqual([`${t.path}/lib/liba.so.1`, `${t.path}/lib/libb.so.1`, `${t.path}/lib/libdir.so.1`]);
  });

  it('`**` descends without following symlinked directories', () => {
    expect(expandHostGlob(nodeHostFs, `${t.path}/**/lib?.so.1`)).toEqual([`${t.path}/lib/liba.so.1`, `${t.path}/lib/libb.so.1`, `${t.path}/lib/sub/libd.so.1`]);
  });

  it('matches nothing in a missing directory', () => {
    expect(expandHostGlob(nodeHostFs, `${t.path}/missing/*.so`)).toEqual([]);
  });
});
