// What the resolver read of each ELF file, kept between processes (src/resolve/read-cache.ts):
// a second closure of the same files reads none of them and comes out the same; a file changed
// in any way (even with its size and mtime put back) is read again; a damaged, foreign or
// unwritable cache costs only time. On real files: this machine's programs and gcc fixtures.

import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeHostFs, type HostFs } from '../../src/hostfs.js';
import { resolveClosure, resolveSession } from '../../src/resolve/index.js';
import { fileElfReadCache, type ElfReadCache } from '../../src/resolve/read-cache.js';
import type { Closure, ResolveOptions, ResolveRoot } from '../../src/resolve/types.js';
import { runOsv } from '../helpers/osv.js';
import { lacks } from '../helpers/skip.js';
import { buildFixtures, hasGcc, type Fixtures } from './fixtures.js';

const base: ResolveOptions = { arch: 'x86_64', sysroot: '/', libraryPath: [], hiddenSymbols: false };
const work = mkdtempSync(join(tmpdir(), 'osv-read-cache-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** A host file system that notes each file opened (ELF parsing opens the file it reads). */
function counting(): { fs: HostFs; opened: string[] } {
  const opened: string[] = [];
  return { opened, fs: { ...nodeHostFs, open: (p) => (opened.push(p), nodeHostFs.open(p)) } };
}

/** The closure of `roots`, then what `kept` recorded written (as a command does when done). */
function closure(roots: ResolveRoot[], kept: ElfReadCache | undefined, fs: HostFs = nodeHostFs, over: Partial<ResolveOptions> = {}): Closure {
  const r = resolveSession(kept)(roots, { ...base, ...over }, fs);
  kept?.flush();
  if (!r.ok) throw new Error(`${r.error.code}: ${r.error.message}`);
  return r.value;
}

/** A clock a minute ahead: files written by the test count as settled. */
const later = (): number => Date.now() + 60_000;

const PROGRAM = ['/usr/bin/curl', '/usr/bin/python3', process.execPath].find((p) => existsSync(p))!;

describe(`the resolver's reads kept between processes (${PROGRAM})`, () => {
  it('a second closure reads no ELF file and is the same as one made without the cache', () => {
    const dir = join(work, 'same');
    const first = counting();
    const a = closure([{ path: PROGRAM }], fileElfReadCache(dir), first.fs);
    const objects = a.objects.filter((o) => o.hostPath !== '').map((o) => o.hostPath);
    expect(objects.length).toBeGreaterThan(1);
    expect(first.opened).toEqual(expect.arrayContaining(objects));
    expect(readdirSync(dir).length).toBeGreaterThan(0);

    // A new cache object over the same directory: what another process would find.
    const second = counting();
    const b = closure([{ path: PROGRAM }], fileElfReadCache(dir), second.fs);
    expect(second.opened.filter((p) => objects.includes(p))).toEqual([]);
    expect(b).toEqual(a);
    expect(b).toEqual(closure([{ path: PROGRAM }], undefined));
    // Also for the non-session entry point, with the OSv filter off (other objects listed).
    const plain = resolveClosure([{ path: PROGRAM }], { ...base, osvFilter: false }, nodeHostFs);
    expect(closure([{ path: PROGRAM }], fileElfReadCache(dir), nodeHostFs, { osvFilter: false })).toEqual(plain.ok && plain.value);
  });

  it('a file of device 0 (an image\'s view) is neither kept nor looked up', () => {
    const dir = join(work, 'dev0');
    const imageLike: HostFs = {
      ...nodeHostFs,
      lstat: (p) => {
        const st = nodeHostFs.lstat(p);
        return st && { ...st, dev: 0 };
      },
      stat: (p) => {
        const st = nodeHostFs.stat(p);
        return st && { ...st, dev: 0 };
      },
    };
    closure([{ path: PROGRAM }], fileElfReadCache(dir), imageLike);
    expect(existsSync(dir)).toBe(false);
  });

  it('a file written by another build of osv is not read', () => {
    const dir = join(work, 'other-source');
    closure([{ path: PROGRAM }], fileElfReadCache(dir, Date.now, 'a'));
    const c = counting();
    closure([{ path: PROGRAM }], fileElfReadCache(dir, Date.now, 'b'), c.fs);
    expect(c.opened).toContain(PROGRAM);
    const d = counting();
    closure([{ path: PROGRAM }], fileElfReadCache(dir, Date.now, 'b'), d.fs);
    expect(d.opened).not.toContain(PROGRAM);
  });

  it('a cache that cannot be written (its directory is a file) only costs time', () => {
    const blocked = join(work, 'blocked');
    writeFileSync(blocked, 'not a directory');
    const kept = fileElfReadCache(blocked);
    expect(closure([{ path: PROGRAM }], kept)).toEqual(closure([{ path: PROGRAM }], undefined));
    expect(readFileSync(blocked, 'utf8')).toBe('not a directory');
  });

  it('a damaged or foreign cache file is a miss: the files are read again and the closure is right', () => {
    const dir = join(work, 'damaged');
    const right = closure([{ path: PROGRAM }], fileElfReadCache(dir));
    const [file] = readdirSync(dir).filter((f) => readFileSync(join(dir, f), 'utf8').includes(`"${PROGRAM.slice(0, PROGRAM.lastIndexOf('/'))}"`));
    expect(file).toBeDefined();
    const kept = JSON.parse(readFileSync(join(dir, file!), 'utf8')) as { format: number; dir: string; entries: Record<string, Record<string, unknown>> };
    const name = PROGRAM.slice(PROGRAM.lastIndexOf('/') + 1);
    expect(Object.keys(kept.entries)).toContain(name);
    const damage: Array<[string, string]> = [
      ['not JSON', '{"format":'],
      ['another format', JSON.stringify({ ...kept, format: 999 })],
      ['another directory', JSON.stringify({ ...kept, dir: '/elsewhere' })],
      ['entries not an object', JSON.stringify({ ...kept, entries: [] })],
      ['an entry with a needed list of numbers', JSON.stringify({ ...kept, entries: { ...kept.entries, [name]: { ...kept.entries[name], needed: [1, 2] } } })],
      ['an entry of an unknown kind', JSON.stringify({ ...kept, entries: { ...kept.entries, [name]: { ...kept.entries[name], kind: 'script' } } })],
      ['an entry of another inode', JSON.stringify({ ...kept, entries: { ...kept.entries, [name]: { ...kept.entries[name], ino: 1 } } })],
      ['an entry with a negative machine', JSON.stringify({ ...kept, entries: { ...kept.entries, [name]: { ...kept.entries[name], machine: -62 } } })],
    ];
    for (const [what, text] of damage) {
      writeFileSync(join(dir, file!), text);
      const c = counting();
      expect(closure([{ path: PROGRAM }], fileElfReadCache(dir), c.fs), what).toEqual(right);
      expect(c.opened, what).toContain(PROGRAM);
    }
  });
});

describe('the commands keep their reads under $XDG_CACHE_HOME/osv-up/elf', () => {
  const env: NodeJS.ProcessEnv = { ...process.env, XDG_CACHE_HOME: join(work, 'xdg') };
  const elf = join(work, 'xdg', 'osv-up', 'elf');

  it('osv resolve: the same output with the cache empty and with it filled', () => {
    const first = runOsv(['resolve', PROGRAM, '--json'], { cwd: work, env });
    expect(first.code, first.stderr).toBe(0);
    expect(readdirSync(elf).length).toBeGreaterThan(0);
    const second = runOsv(['resolve', PROGRAM, '--json'], { cwd: work, env });
    expect(second.stdout).toBe(first.stdout);
  });

  it.skipIf(lacks('osv plan of the python example', [existsSync('/usr/lib/python3.11/os.py'), 'python 3.11 is not installed; template:python defaults to it']))('osv plan of the python example: the same plan with the cache empty and with it filled', () => {
    rmSync(elf, { recursive: true, force: true });
    const project = join(import.meta.dirname, '..', '..', 'examples', 'python-hello');
    const { OSV_KERNEL: _, ...noKernel } = env;
    const first = runOsv(['plan', '--json'], { cwd: project, env: noKernel });
    expect(first.code, first.stderr).toBe(0);
    expect(readdirSync(elf).length).toBeGreaterThan(0);
    const second = runOsv(['plan', '--json'], { cwd: project, env: noKernel });
    expect(second.stdout).toBe(first.stdout);
  });
});

describe.skipIf(lacks('the read cache on a library changed in place', [hasGcc, 'gcc is not installed, the resolver fixtures cannot be compiled']))('the read cache on a library changed in place', () => {
  let fx: Fixtures;
  beforeAll(async () => {
    fx = await buildFixtures();
  });
  afterAll(() => fx?.cleanup());

  it('a file changed less than two seconds before it is read is not kept', () => {
    const dir = join(work, 'fresh');
    const lib = join(work, 'libfresh.so');
    copyFileSync(fx.f.liba!, lib);
    closure([{ path: lib }], fileElfReadCache(dir));
    const c = counting();
    closure([{ path: lib }], fileElfReadCache(dir), c.fs);
    expect(c.opened).toContain(lib);
    // Settled (here: by a clock a minute ahead), it is kept.
    closure([{ path: lib }], fileElfReadCache(dir, later));
    const d = counting();
    closure([{ path: lib }], fileElfReadCache(dir), d.fs);
    expect(d.opened).not.toContain(lib);
  });

  it('is read again after any change, even with its size and mtime put back', () => {
    const dir = join(work, 'changed');
    const lib = join(work, 'libx.so');
    copyFileSync(fx.f.libchain1!, lib);
    const T = 1_700_000_000; // whole seconds: a time set back exactly
    utimesSync(lib, T, T);
    const before = statSync(lib);
    const first = closure([{ path: lib }], fileElfReadCache(dir, later));
    expect(first.objects[0]).toMatchObject({ soname: 'libchain1.so.1', needed: expect.arrayContaining(['libchain2.so.1']) });

    // The same bytes but one in its soname, written in place; then the mtime set back.
    const bytes = readFileSync(lib);
    const at = bytes.indexOf('libchain1.so.1');
    bytes.write('9', at + 'libchain'.length, 'latin1');
    writeFileSync(lib, bytes);
    utimesSync(lib, T, T);
    const after = statSync(lib);
    expect([after.ino, after.size, after.mtimeMs]).toEqual([before.ino, before.size, before.mtimeMs]);

    const c = counting();
    const second = closure([{ path: lib }], fileElfReadCache(dir, later), c.fs);
    expect(c.opened).toContain(lib);
    expect(second.objects[0]!.soname).toBe('libchain9.so.1');
    // And what was read then is what is kept now.
    const d = counting();
    expect(closure([{ path: lib }], fileElfReadCache(dir), d.fs)).toEqual(second);
    expect(d.opened).not.toContain(lib);
  });
});
