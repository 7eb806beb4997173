// The symbol-table and relocation readers the check is built on, against readelf on real
// files of this machine: every need with its version and binding, and every exported
// definition found through the GNU hash table with its versions (libc.so.6 has thousands,
// with default and non-default versions of one name).

import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { nameKey, objectSymbols } from '../../src/check/object-symbols.js';
import { ElfFile } from '../../src/elf/file.js';
import { relocationClass } from '../../src/elf/relocations.js';
import { DynSymTable, gnuHash } from '../../src/elf/symbol-table.js';
import { nodeHostFs } from '../../src/hostfs.js';

const hasReadelf = spawnSync('readelf', ['--version']).status === 0;
const FILES = ['/usr/bin/ls', '/lib/x86_64-linux-gnu/libselinux.so.1', '/lib/x86_64-linux-gnu/libc.so.6', '/usr/bin/python3', '/lib/x86_64-linux-gnu/libstdc++.so.6']
  .filter((p) => existsSync(p))
  .map((p) => realpathSync(p));
if (!hasReadelf) console.warn('skipped: test/check/elf-tables.test.ts compares with readelf, which is not installed');

interface RSym {
  num: number;
  type: string;
  bind: string;
  vis: string;
  ndx: string;
  name: string;
  version?: string;
  /** name@@V (default) vs name@V (hidden); for imports always false. */
  hidden: boolean;
}

function readelfSyms(file: string): RSym[] {
  const out = execFileSync('readelf', ['-W', '--dyn-syms', file], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const syms: RSym[] = [];
  for (const line of out.split('\n')) {
    const m = /^\s*(\d+): [0-9a-f]+\s+\S+\s+(\S+)\s+(\S+)\s+(\S+)\s+(?:\[[^\]]*\]\s+)?(\S+)\s*(.*)$/.exec(line);
    if (!m) continue;
    const full = m[6]!.replace(/ \(\d+\)$/, '');
    const v = /^(.*?)(@@?)(.+)$/.exec(full);
    syms.push({ num: Number(m[1]), type: m[2]!, bind: m[3]!, vis: m[4]!, ndx: m[5]!, name: v ? v[1]! : full, ...(v ? { version: v[3]! } : {}), hidden: v ? v[2] === '@' && m[5] !== 'UND' && !/\(\d+\)$/.test(m[6]!) : false });
  }
  return syms;
}

/** Strongest binding class per symbol index, from readelf -r's Info column. */
function readelfBinds(file: string): Map<number, string> {
  const out = execFileSync('readelf', ['-W', '-r', file], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const rank = ['none', 'plt', 'load', 'tls', 'copy'];
  const best = new Map<number, string>();
  for (const line of out.split('\n')) {
    const m = /^[0-9a-f]{16}\s+([0-9a-f]{16})\s+R_/.exec(line);
    if (!m) continue;
    const info = BigInt(`0x${m[1]}`);
    const sym = Number(info >> 32n);
    if (sym === 0) continue;
    const c = relocationClass(62, Number(info & 0xffffffffn));
    const b = c === 'data' ? 'load' : c;
    if (rank.indexOf(b) > rank.indexOf(best.get(sym) ?? 'none')) best.set(sym, b);
  }
  return best;
}

describe.skipIf(!hasReadelf)('dynamic symbol and relocation tables vs readelf', () => {
  it('gnuHash is dl_new_hash', () => {
    // Values from the GNU hash specification's examples.
    expect(gnuHash(Buffer.from(''))).toBe(0x00001505);
    expect(gnuHash(Buffer.from('printf'))).toBe(0x156b2bb8);
    expect(gnuHash(Buffer.from('exit'))).toBe(0x7c967e3f);
    expect(gnuHash(Buffer.from('syscall'))).toBe(0xbac212a0);
    expect(gnuHash('syscall')).toBe(0xbac212a0);
    expect(gnuHash('é')).toBe(gnuHash(Buffer.from('é', 'utf8')));
  });

  it.each(FILES)('%s: needs, versions and bindings', (file) => {
    const f = ElfFile.open(nodeHostFs, file);
    try {
      const syms = readelfSyms(file);
      const binds = readelfBinds(file);
      const expected = syms
        .filter((s) => s.num > 0 && s.name !== '' && ((s.ndx === 'UND' && s.bind !== 'WEAK' && s.bind !== 'LOCAL') || (s.ndx !== 'UND' && binds.get(s.num) === 'copy')))
        .map((s) => ({ name: s.name, version: s.version, bind: binds.get(s.num) ?? 'none' }));
      const got = objectSymbols(f).needs.map((n) => ({ name: n.name, version: n.version, bind: n.bind }));
      expect(got).toEqual(expected);
      expect(got.length).toBeGreaterThan(0);
    } finally {
      f.close();
    }
  });

  it.each(FILES)('%s: every exported definition through the GNU hash table', (file) => {
    const f = ElfFile.open(nodeHostFs, file);
    try {
      const t = DynSymTable.open(f)!;
      expect(t.hashed).toBe(true);
      const obj = objectSymbols(f);
      const exported = readelfSyms(file).filter((s) => s.ndx !== 'UND' && ['GLOBAL', 'WEAK', 'UNIQUE'].includes(s.bind) && ['DEFAULT', 'PROTECTED'].includes(s.vis) && s.name !== '');
      const byName = new Map<string, RSym[]>();
      for (const s of exported) byName.set(s.name, [...(byName.get(s.name) ?? []), s]);
      for (const [name, list] of byName) {
        const defs = obj.defsOf(name, nameKey(name));
        // readelf prints a version's own ABS symbol (GLIBC_2.10) without "@@GLIBC_2.10".
        const want = list.map((s) => `${s.version ?? (s.ndx === 'ABS' ? s.name : '-')}${s.hidden ? ' hidden' : ''}`).sort();
        expect({ name, defs: (defs ?? []).map((d) => `${d.version ?? '-'}${d.hidden ? ' hidden' : ''}`).sort() }).toEqual({ name, defs: want });
      }
      for (const absent of ['osv_check_no_such_symbol', 'lgetxattr_', 'mem']) expect(obj.defsOf(absent, nameKey(absent))).toBeUndefined();
      expect(byName.size).toBeGreaterThan(0);
      // The index the object cache keeps has the same definitions, name for name.
      const index = obj.definitions();
      expect([...index.keys()].sort()).toEqual([...byName.keys()].sort());
      for (const [name, defs] of index) expect(defs).toEqual(obj.defsOf(name, nameKey(name)));
    } finally {
      f.close();
    }
  });
});
