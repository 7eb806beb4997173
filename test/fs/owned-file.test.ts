// Caches of computed facts are taken only from files this user owns (src/owned-file.ts): a file
// another user wrote (sudo keeping HOME, a shared XDG_CACHE_HOME) is a miss, even when it says
// something false on purpose. Each cache is checked with an entry it wrote itself, then the same
// file handed to another owner (chown needs root: skipped with the reason otherwise).

import { chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildNameIndex } from '../../src/check/name-index.js';
import { fileObjectCache } from '../../src/check/object-cache.js';
import { fileReportCache, type Findings } from '../../src/check/report-cache.js';
import { fileSymbolCache } from '../../src/check/symbol-cache.js';
import { nodeHostFs, type HostFs, type HostStat } from '../../src/hostfs.js';
import { cachedSha256, sha256File } from '../../src/kernel/hash.js';
import { readOwnedFile, readOwnedJson } from '../../src/owned-file.js';
import { checkKvm } from '../../src/run/accel.js';
import { resolveSession } from '../../src/resolve/index.js';
import { fileElfReadCache } from '../../src/resolve/read-cache.js';

const work = mkdtempSync(join(tmpdir(), 'osv-owned-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const me = process.getuid!();
const OTHER = 65534; // nobody
const isRoot = me === 0;
if (!isRoot) console.warn('skipped: the tests of cache files owned by another user need root (to chown them)');
const handTo = (uid: number, ...files: string[]): void => files.forEach((f) => chownSync(f, uid, uid));

describe('readOwnedFile', () => {
  it('reads a file of this user, and nothing for a missing file or a directory', () => {
    const f = join(work, 'mine.json');
    writeFileSync(f, '{"a":1}');
    expect(readOwnedFile(f)?.toString()).toBe('{"a":1}');
    expect(readOwnedJson(f)).toEqual({ a: 1 });
    expect(readOwnedFile(join(work, 'missing'))).toBeUndefined();
    expect(readOwnedFile(work)).toBeUndefined();
    writeFileSync(join(work, 'bad.json'), '{');
    expect(readOwnedJson(join(work, 'bad.json'))).toBeUndefined();
  });

  it.runIf(isRoot)('reads nothing of a file another user owns, and reads it again once it is ours', () => {
    const f = join(work, 'theirs.json');
    writeFileSync(f, '{"a":2}');
    handTo(OTHER, f);
    expect(readFileSync(f, 'utf8')).toBe('{"a":2}'); // readable: only the owner decides
    expect(readOwnedFile(f)).toBeUndefined();
    expect(readOwnedJson(f)).toBeUndefined();
    handTo(me, f);
    expect(readOwnedJson(f)).toEqual({ a: 2 });
  });
});

describe.runIf(isRoot)('each cache of computed facts ignores an entry another user owns', () => {
  it("the resolver's reads: the ELF files are read again", () => {
    const dir = join(work, 'elf');
    const program = ['/usr/bin/curl', '/usr/bin/python3', process.execPath].find((p) => existsSync(p))!;
    const opened: string[] = [];
    const counting: HostFs = { ...nodeHostFs, open: (p) => (opened.push(p), nodeHostFs.open(p)) };
    const closure = (): void => {
      const cache = fileElfReadCache(dir, () => Date.now() + 60_000);
      const r = resolveSession(cache)([{ path: program }], { arch: 'x86_64', sysroot: '/', libraryPath: [], hiddenSymbols: false }, counting);
      cache.flush();
      expect(r.ok).toBe(true);
    };
    closure();
    const files = readdirSync(dir).map((f) => join(dir, f));
    expect(files.length).toBeGreaterThan(0);
    opened.length = 0;
    closure();
    expect(opened).not.toContain(program); // ours: taken
    handTo(OTHER, ...files);
    closure();
    expect(opened).toContain(program);
  });

  it('the check\'s per-object facts', () => {
    const dir = join(work, 'objects');
    const st: HostStat = { kind: 'file', size: 4096, mtimeMs: 1700000000123, ctimeMs: 1700000000456, ino: 42, dev: 2049, mode: 0o755 };
    const c = fileObjectCache(dir, 'test');
    c.record(st, { soname: 'libdemo.so.1', kind: 'shared-library', needed: ['libc.so.6'], searchPath: undefined }, { needs: [], definitions: () => new Map(), defsOf: () => undefined });
    c.flush();
    expect(fileObjectCache(dir, 'test').read(st)?.facts.needed).toEqual(['libc.so.6']);
    handTo(OTHER, join(dir, `${st.dev}-${st.ino}.json`));
    expect(fileObjectCache(dir, 'test').read(st)).toBeUndefined();
  });

  it("the check's findings", () => {
    const dir = join(work, 'checks');
    const inputs = { text: 'the inputs', slot: 'slot.json' };
    const findings: Findings = { kernel: { checked: false, reason: 'test' }, perObject: [], unreadable: [] };
    fileReportCache(dir, 'test').write(inputs, findings);
    expect(fileReportCache(dir, 'test').read(inputs)).toEqual(findings);
    handTo(OTHER, join(dir, inputs.slot));
    expect(fileReportCache(dir, 'test').read(inputs)).toBeUndefined();
  });

  it("a kernel's symbols (either of its two files)", () => {
    const sha = 'a'.repeat(64);
    for (const ext of ['json', 'names']) {
      const dir = join(work, `symbols-${ext}`);
      fileSymbolCache(dir).write(sha, { format: 3, sha256: sha, machine: 62, count: 2, index: buildNameIndex(['malloc', 'puts']), versioned: {} });
      expect(fileSymbolCache(dir).read(sha)?.count).toBe(2); // a new cache object: from the files
      handTo(OTHER, join(dir, `${sha}.${ext}`));
      expect(fileSymbolCache(dir).read(sha)).toBeUndefined();
    }
  });

  it('whether KVM runs OSv here: a probe is made again', async () => {
    const cacheFile = join(work, 'accel.json');
    let probes = 0;
    const probe = async () => (probes++, { usable: true as const });
    const ctx = { qemu: process.execPath, arch: 'x86_64' as const, cacheFile, kvmDevice: '/dev/null', probe };
    expect(await checkKvm(ctx)).toMatchObject({ how: 'probe' });
    expect(await checkKvm(ctx)).toMatchObject({ how: 'cache' });
    handTo(OTHER, cacheFile);
    expect(await checkKvm(ctx)).toMatchObject({ how: 'probe' });
    expect(probes).toBe(2);
  });

  it("a kernel's sha256: a false one in another user's file is not believed", () => {
    const xdg = join(work, 'xdg');
    const kernel = join(work, 'loader.elf');
    writeFileSync(kernel, 'not really a kernel');
    const env = { XDG_CACHE_HOME: xdg, HOME: work };
    const real = cachedSha256(kernel, env);
    expect(real).toBe(sha256File(kernel));
    const file = join(xdg, 'osv-up', 'sha256-cache.json');
    const table = JSON.parse(readFileSync(file, 'utf8')) as Record<string, { sha256: string }>;
    table[kernel]!.sha256 = 'f'.repeat(64);
    writeFileSync(file, JSON.stringify(table));
    expect(cachedSha256(kernel, env)).toBe('f'.repeat(64)); // ours: believed (it is keyed by identity only)
    writeFileSync(file, JSON.stringify(table));
    handTo(OTHER, file);
    expect(cachedSha256(kernel, env)).toBe(real);
  });
});

