// The object cache keeps what the check read from an ELF object by its file identity: it answers
// only for a file of the same size, mtime and ctime, treats anything damaged or foreign as a
// miss (data only: nothing in it is ever run), and never fails a check by failing to write.
// That its answers equal the files' own is tested on every check of test/check/check.test.ts.

import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fileObjectCache, type ObjectFacts } from '../../src/check/object-cache.js';
import type { DefVersion, Need, ObjectSymbols } from '../../src/check/object-symbols.js';
import type { HostStat } from '../../src/hostfs.js';

const root = mkdtempSync(join(tmpdir(), 'osv-object-cache-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const freshDir = (): string => join(root, `c${n++}`);

const st: HostStat = { kind: 'file', size: 4096, mtimeMs: 1700000000123.25, ctimeMs: 1700000000456.5, ino: 42, dev: 2049, mode: 0o755 };
const facts: ObjectFacts = { soname: 'libdemo.so.1', kind: 'shared-library', needed: ['libc.so.6', 'libm.so.6'], searchPath: '$ORIGIN/../lib' };
const needs: Need[] = [
  { name: 'puts', kind: 'function', bind: 'plt', version: 'GLIBC_2.2.5', from: 'libc.so.6' },
  { name: 'environ', kind: 'data', bind: 'copy' },
  { name: 'errno_tls', kind: 'tls', bind: 'tls', version: 'GLIBC_PRIVATE', from: 'libc.so.6' },
  { name: 'ext_var', kind: 'unknown', bind: 'load', version: 'GLIBC_PRIVATE' },
  { name: 'atexit', kind: 'function', bind: 'none', from: 'libc.so.6' },
];
const defs = new Map<string, DefVersion[]>([
  ['demo_fn', [{ version: 'DEMO_1', hidden: true }, { version: 'DEMO_2', hidden: false }]],
  ['demo_data', [{ version: undefined, hidden: false }]],
]);
const symbols = (ds: Map<string, DefVersion[]> = defs, ns: Need[] = needs): ObjectSymbols => ({ needs: ns, definitions: () => ds, defsOf: (name) => ds.get(name) });

function kept(dir: string, s: ObjectSymbols = symbols()): string {
  const c = fileObjectCache(dir);
  c.record(st, facts, s);
  c.flush();
  return join(dir, `${st.dev}-${st.ino}.json`);
}

describe('fileObjectCache', () => {
  it('gives back the facts, the needs and the definitions it kept, for the same file', () => {
    const dir = freshDir();
    kept(dir);
    const r = fileObjectCache(dir).read(st);
    expect(r?.facts).toEqual(facts);
    // Strictly: a need without a version or a file has no such key, as one read from the file.
    expect(r?.symbols.needs).toStrictEqual(needs);
    expect([...(r?.symbols.definitions() ?? [])]).toEqual([...defs]);
    expect(r?.symbols.defsOf('demo_fn', { bytes: 'demo_fn', hash: 0 })).toEqual(defs.get('demo_fn'));
    expect(r?.symbols.defsOf('nothing', { bytes: 'nothing', hash: 0 })).toBeUndefined();
  });

  it.each(['pie', 'pde', 'shared-library', 'static', 'static-pie'] as const)('gives back a %s without a soname or search path, needing and defining nothing', (kind) => {
    const dir = freshDir();
    const bare: ObjectFacts = { soname: undefined, kind, needed: [], searchPath: undefined };
    const c = fileObjectCache(dir);
    c.record(st, bare, symbols(new Map(), []));
    c.flush();
    const r = fileObjectCache(dir).read(st);
    expect(r?.facts).toStrictEqual(bare);
    expect(r?.symbols.needs).toEqual([]);
    expect([...(r?.symbols.definitions() ?? [])]).toEqual([]);
  });

  it('keeps what it can when one object of several cannot be kept', () => {
    const dir = freshDir();
    const c = fileObjectCache(dir);
    const other: HostStat = { ...st, ino: 7 };
    c.record(other, facts, symbols(new Map([['two\nlines', [{ version: undefined, hidden: false }]]])));
    c.record(other, facts, { needs, defsOf: () => undefined, definitions: () => { throw new Error('a symbol table that cannot be indexed'); } });
    c.record(st, facts, symbols());
    expect(() => c.flush()).not.toThrow();
    expect(readdirSync(dir)).toEqual([`${st.dev}-${st.ino}.json`]);
    expect(fileObjectCache(dir).read(st)?.symbols.needs).toEqual(needs);
  });

  it.each([
    ['size', { size: 4097 }],
    ['mtime', { mtimeMs: st.mtimeMs + 1 }],
    ['ctime (an edit whose mtime was put back)', { ctimeMs: st.ctimeMs + 0.25 }],
    ['inode', { ino: 43 }],
  ])('answers nothing for a file of another %s', (_what, change) => {
    const dir = freshDir();
    kept(dir);
    expect(fileObjectCache(dir).read({ ...st, ...change })).toBeUndefined();
  });

  it('takes a damaged or foreign entry for a miss', () => {
    const dir = freshDir();
    const file = kept(dir);
    const good = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    const bad: Array<Record<string, unknown> | string> = [
      'not json',
      '',
      { ...good, format: 0 },
      { ...good, source: 'another build of osv' },
      { ...good, source: undefined },
      { ...good, kind: 'script' },
      { ...good, needed: ['ok', 3] },
      { ...good, strings: 'GLIBC' },
      { ...good, needInfo: (good['needInfo'] as number[]).slice(1) }, // four numbers per need
      { ...good, needInfo: (good['needInfo'] as number[]).map((x, i) => (i === 1 ? 9 : x)) }, // no such bind
      { ...good, needInfo: (good['needInfo'] as number[]).map((x, i) => (i === 2 ? 99 : x)) }, // no such string
      { ...good, defInfo: (good['defInfo'] as number[]).map((x, i) => (i === 1 ? 2 : x)) }, // hidden is 0 or 1
      { ...good, defNames: `${good['defNames'] as string}\nextra` }, // a name without its numbers
      { ...good, needs: undefined, needNames: 1 },
      'null',
      '42',
      { ...good, soname: 5 },
      { ...good, searchPath: ['/lib'] },
      { ...good, strings: [...(good['strings'] as string[]), 7] },
      { ...good, needNames: `${good['needNames'] as string}\nextra` }, // a need without its numbers
      { ...good, needInfo: (good['needInfo'] as number[]).map((x, i) => (i === 2 ? -1 : x)) }, // no such string
      { ...good, needInfo: (good['needInfo'] as number[]).map((x, i) => (i === 0 ? 0.5 : x)) }, // no such kind
      { ...good, needInfo: { ...(good['needInfo'] as number[]), length: (good['needInfo'] as number[]).length } }, // not a list
      { ...good, size: String(st.size) },
    ];
    for (const b of bad) {
      writeFileSync(file, typeof b === 'string' ? b : JSON.stringify(b));
      expect(fileObjectCache(dir).read(st), typeof b === 'string' ? b : JSON.stringify(b).slice(0, 80)).toBeUndefined();
    }
    writeFileSync(file, JSON.stringify(good));
    expect(fileObjectCache(dir).read(st)).toBeDefined();
  });

  it('keeps nothing for an object with a newline in a symbol name (names are kept one per line)', () => {
    const dir = freshDir();
    kept(dir, symbols(new Map([['two\nlines', [{ version: undefined, hidden: false }]]])));
    expect(existsSync(dir)).toBe(false); // not even the directory

  });

  it('keeps the other objects when one entry cannot be written', () => {
    const dir = freshDir();
    const blocked: HostStat = { ...st, ino: 1 };
    mkdirSync(join(dir, `${blocked.dev}-${blocked.ino}.json`), { recursive: true }); // a directory in the way
    const c = fileObjectCache(dir);
    c.record(blocked, facts, symbols());
    c.record(st, facts, symbols());
    expect(() => c.flush()).not.toThrow();
    expect(fileObjectCache(dir).read(blocked)).toBeUndefined();
    expect(fileObjectCache(dir).read(st)?.facts).toEqual(facts);
  });

  it('keeps nothing, and fails nothing, where it cannot write', () => {
    const dir = freshDir();
    writeFileSync(dir, 'a file where the directory should be');
    expect(() => kept(dir)).not.toThrow();
    expect(fileObjectCache(dir).read(st)).toBeUndefined();
  });
});
