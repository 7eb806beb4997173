// The ELF reader against readelf on this machine's binaries, and on hand-built files of
// every class and byte order.

import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as C from '../../src/elf/constants.js';
import { classify, dynamicInfo, dynamicSymbols, ElfError, ElfFile, versionDefs, versionNeeds, versionSymbols } from '../../src/elf/index.js';
import { nodeHostFs } from '../../src/hostfs.js';
import { craftElf, memFs, MemFile, type CraftSpec } from './craft.js';
import { lacks } from '../helpers/skip.js';

const hasReadelf = spawnSync('readelf', ['--version']).status === 0;
if (!hasReadelf) console.warn('skipped: readelf (binutils) is not installed; the comparisons with it do not run');
const readelf = (...args: string[]): string => spawnSync('readelf', ['-W', ...args], { encoding: 'utf8', maxBuffer: 64 << 20 }).stdout;

const CURL = '/usr/bin/curl';
const LIBC = '/lib/x86_64-linux-gnu/libc.so.6';
const real = [CURL, LIBC, '/lib/x86_64-linux-gnu/libz.so.1'].filter((f) => existsSync(f));
if (real.length < 3) console.warn(`skipped: some of curl, libc.so.6, libz.so.1 are absent; reader compared on ${real.length} files`);

const open = (path: string): ElfFile => ElfFile.open(nodeHostFs, path);

/** The error a function throws (it must throw). */
function thrown(fn: () => unknown): ElfError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ElfError) return e;
    throw new Error(`threw a non-ElfError: ${String(e)}`);
  }
  throw new Error('did not throw');
}

describe.runIf(hasReadelf)('ElfFile on this machine’s binaries, compared with readelf', () => {
  it.each(real)('%s: header, program headers and dynamic section', (path) => {
    const f = open(path);
    const h = readelf('-h', path);
    expect(f.header.class).toBe(C.ELFCLASS64);
    expect(f.header.data).toBe(C.ELFDATA2LSB);
    expect(f.header.machine).toBe(C.EM_X86_64);
    expect(`0x${f.header.entry.toString(16)}`).toBe(/Entry point address:\s+(\S+)/.exec(h)![1]);
    expect(f.header.shnum).toBe(Number(/Number of section headers:\s+(\d+)/.exec(h)![1]));
    const types = readelf('-l', path)
      .split('\n')
      .filter((l) => /^\s+[A-Z_]+\s+0x/.test(l))
      .map((l) => l.trim().split(/\s+/)[0]);
    expect(f.progs).toHaveLength(types.length);
    expect(f.progs.filter((p) => p.type === C.PT_LOAD)).toHaveLength(types.filter((t) => t === 'LOAD').length);
    const d = readelf('-d', path);
    const needed = [...d.matchAll(/\(NEEDED\)\s+Shared library: \[(.*)\]/g)].map((m) => m[1]);
    const info = dynamicInfo(f);
    expect(info.needed).toEqual(needed);
    expect(info.soname).toBe(/\(SONAME\)\s+Library soname: \[(.*)\]/.exec(d)?.[1]);
    expect(info.runpath).toBe(/\(RUNPATH\)\s+Library runpath: \[(.*)\]/.exec(d)?.[1]);
    f.close();
  });

  it.each(real)('%s: sections, dynamic symbols and versions', (path) => {
    const f = open(path);
    const names = [...readelf('-S', path).matchAll(/^\s+\[\s*\d+\]\s+(\S*)\s+[A-Z_]+\s/gm)].map((m) => m[1]);
    expect(f.sections().map((s) => s.name)).toEqual(names.map((n) => (n === 'NULL' ? '' : n)));
    expect(f.section('.dynsym')?.type).toBe(C.SHT_DYNSYM);
    expect(f.sectionsByType(C.SHT_GNU_versym)).toHaveLength(1);
    const syms = dynamicSymbols(f);
    const theirs = readelf('--dyn-syms', path)
      .split('\n')
      .map((l) => /^\s+\d+: [0-9a-f]+\s+\d+\s+\S+\s+\S+\s+\S+\s+\S+\s+(\S+)/.exec(l)?.[1])
      .filter((x): x is string => x !== undefined);
    expect(syms.length).toBe(theirs.length);
    // readelf prints name@version (imports, hidden) or name@@version (default definitions),
    // and a version's own definition symbol (name = version) bare.
    const ours = syms.map((s) => (s.version && s.version !== s.name ? `${s.name}@${s.library || s.hidden ? '' : '@'}${s.version}` : s.name));
    expect(ours).toEqual(theirs.map((t) => t.replace(/ \(\d+\)$/, '')));
    expect(versionSymbols(f)!.length).toBe(syms.length + 1);
    const v = readelf('-V', path);
    const files = [...v.matchAll(/Version: \d+\s+File: (\S+)\s+Cnt: (\d+)/g)];
    expect(versionNeeds(f).map((n) => [n.file, n.aux.length])).toEqual(files.map((m) => [m[1], Number(m[2])]));
    const defs = [...v.matchAll(/Rev: \d+\s+Flags: \S+\s+Index: (\d+)\s+Cnt: \d+\s+Name: (\S+)/g)];
    expect(versionDefs(f).map((d) => [d.ndx, d.names[0]])).toEqual(defs.map((m) => [Number(m[1]), m[2]]));
    f.close();
  });
});

describe('ElfFile on hand-built files', () => {
  const spec = (cls: 32 | 64, le: boolean): CraftSpec => ({
    cls,
    le,
    interp: '/lib/ld.so.1',
    needed: ['libfoo.so.1', 'libbar.so.2'],
    soname: 'libme.so.3',
    rpath: '$ORIGIN/lib',
    runpath: '/opt/lib:/usr/local/lib',
    flags1: C.DF_1_NODEFLIB,
  });

  it.each([
    [32, true],
    [32, false],
    [64, true],
    [64, false],
  ] as const)('ELF%i %s-endian', (cls, le) => {
    const buf = craftElf(spec(cls, le));
    const f = ElfFile.fromHandle(new MemFile('/x', buf));
    expect(f.header.class).toBe(cls === 64 ? C.ELFCLASS64 : C.ELFCLASS32);
    expect(f.header.data).toBe(le ? C.ELFDATA2LSB : C.ELFDATA2MSB);
    expect(f.header.machine).toBe(cls === 64 ? C.EM_X86_64 : C.EM_386);
    expect(f.progs.map((p) => p.type)).toEqual([C.PT_INTERP, C.PT_LOAD, C.PT_DYNAMIC]);
    expect(f.interpreter()).toBe('/lib/ld.so.1');
    const d = dynamicInfo(f);
    expect(d).toMatchObject({ needed: ['libfoo.so.1', 'libbar.so.2'], soname: 'libme.so.3', rpath: '$ORIGIN/lib', runpath: '/opt/lib:/usr/local/lib', flags1: C.DF_1_NODEFLIB });
    expect(f.sections().map((s) => s.name)).toEqual(['', '.dynstr', '.dynamic', '.shstrtab']);
    expect(f.linkedSection(f.section('.dynamic')!).name).toBe('.dynstr');
    expect(classify(f, d)).toBe('shared-library');
    expect(dynamicSymbols(f)).toEqual([]);
  });

  it('classifies by e_type, PT_INTERP and DF_1_PIE', () => {
    const kind = (s: Partial<CraftSpec>): string => {
      const f = ElfFile.fromHandle(new MemFile('/x', craftElf({ cls: 64, le: true, ...s })));
      return classify(f, dynamicInfo(f));
    };
    expect(kind({ type: C.ET_EXEC, interp: '/ld' })).toBe('pde');
    expect(kind({ type: C.ET_EXEC })).toBe('static');
    expect(kind({ interp: '/ld', flags1: C.DF_1_PIE })).toBe('pie');
    expect(kind({ interp: '/ld' })).toBe('pie'); // an old PIE without DF_1_PIE
    expect(kind({ interp: '/ld', soname: 'libc.so.6' })).toBe('shared-library'); // like glibc's libc.so.6
    expect(kind({ flags1: C.DF_1_PIE })).toBe('static-pie');
    expect(kind({})).toBe('shared-library');
    const rel = ElfFile.fromHandle(new MemFile('/x.o', craftElf({ cls: 64, le: true, type: C.ET_REL })));
    expect(thrown(() => classify(rel, dynamicInfo(rel))).code).toBe('elf.not-loadable');
  });

  it.skipIf(lacks('labelling libc.so.6', [existsSync(LIBC), `${LIBC} is not on this machine`]))('labels glibc’s libc.so.6 (PT_INTERP and a soname) a shared library', () => {
    const f = open(LIBC);
    expect(f.interpreter()).toBe('/lib64/ld-linux-x86-64.so.2');
    expect(classify(f, dynamicInfo(f))).toBe('shared-library');
  });

  it('resolves extended numbering (PN_XNUM, SHN_XINDEX) through section 0', () => {
    const buf = craftElf({ cls: 64, le: true, needed: ['liba.so'] });
    const shoff = Number(buf.readBigUInt64LE(40));
    buf.writeUInt16LE(C.PN_XNUM, 56); // e_phnum
    buf.writeUInt16LE(0, 60); // e_shnum
    buf.writeUInt16LE(C.SHN_XINDEX, 62); // e_shstrndx
    buf.writeBigUInt64LE(4n, shoff + 32); // section 0 sh_size = real shnum
    buf.writeUInt32LE(3, shoff + 40); // sh_link = real shstrndx
    buf.writeUInt32LE(2, shoff + 44); // sh_info = real phnum
    const f = ElfFile.fromHandle(new MemFile('/x', buf));
    expect(f.header).toMatchObject({ phnum: 2, shnum: 4, shstrndx: 3 });
    expect(dynamicInfo(f).needed).toEqual(['liba.so']);
    expect(f.sections()[3]!.name).toBe('.shstrtab');
  });

  it('fails with typed errors naming the file and the offset', () => {
    const good = craftElf(spec(64, true));
    const err = (b: Buffer, fn: (f: ElfFile) => unknown = (f) => dynamicInfo(f)): ElfError => thrown(() => fn(ElfFile.fromHandle(new MemFile('/bad', b))));
    const magic = err(Buffer.from('#!/bin/sh\necho hi\n'));
    expect(magic.code).toBe('elf.bad-magic');
    expect(magic.message).toContain('/bad');
    expect(magic.offset).toBe(0);
    expect(err(Buffer.alloc(0)).code).toBe('elf.bad-magic');
    expect(err(good.subarray(0, 10)).code).toBe('elf.truncated');
    expect(err(good.subarray(0, 40)).code).toBe('elf.truncated');
    const cls = Buffer.from(good);
    cls[4] = 9;
    expect(err(cls)).toMatchObject({ code: 'elf.bad-ident', offset: 4 });
    const phnum = Buffer.from(good);
    phnum.writeUInt16LE(5000, 56);
    expect(err(phnum, (f) => f.progs).code).toBe('elf.truncated');
    const phent = Buffer.from(good);
    phent.writeUInt16LE(8, 54);
    expect(err(phent, (f) => f.progs)).toMatchObject({ code: 'elf.bad-header', offset: 54 });
    // DT_STRTAB pointing nowhere.
    const strtab = craftElf({ cls: 64, le: true, needed: ['x'], extraDyn: [[C.DT_STRTAB, 0x10n]] });
    expect(err(strtab).code).toBe('elf.bad-address');
    // A string index past DT_STRSZ.
    const idx = craftElf({ cls: 64, le: true, extraDyn: [[C.DT_NEEDED, 999999n]] });
    expect(err(idx).code).toBe('elf.bad-string');
    // An unterminated string: the last byte of .dynstr overwritten.
    const f = ElfFile.fromHandle(new MemFile('/x', good));
    const ds = f.section('.dynstr')!;
    const unterminated = Buffer.from(good);
    unterminated[ds.offset + ds.size - 1] = 0x41;
    expect(err(unterminated, (g) => g.dynString(BigInt(ds.size - 2))).code).toBe('elf.bad-string');
    // I/O failure.
    expect(thrown(() => ElfFile.open(memFs({}), '/nope')).code).toBe('elf.io');
  });

  it.skipIf(lacks('reading a large library', [existsSync('/lib/x86_64-linux-gnu/libcrypto.so.3'), '/lib/x86_64-linux-gnu/libcrypto.so.3 (libssl3) is not installed']))('reads only what it needs of a large library', () => {
    const path = '/lib/x86_64-linux-gnu/libcrypto.so.3';
    const mf = new MemFile(path, readFileSync(path));
    const f = ElfFile.fromHandle(mf);
    const d = dynamicInfo(f);
    classify(f, d);
    f.interpreter();
    expect(d.needed.length).toBeGreaterThan(0);
    expect(mf.bytesRead).toBeLessThan(32 * 1024);
    expect(mf.size).toBeGreaterThan(1024 * 1024);
  });
});
