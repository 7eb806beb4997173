// The V8 code cache of osv's bundles (src/cli/code-cache.ts): used only for the very source it
// was made from, ignored (the bundle compiled as usual) when V8 refuses it, when the bundle was
// rebuilt or edited since, or when it is missing; and the installed osv loads its commands with it.

import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cacheBytes, cacheFileOf, cachedDataFor, compileBundle, STAMP, stampOf } from '../../src/cli/code-cache.js';
import { probed } from '../helpers/loaded-files.js';

const dir = mkdtempSync(join(tmpdir(), 'osv-code-cache-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const HEX = 'ab'.repeat(32);
const stamped = (body: string, hex = HEX): string => `${body}${STAMP}${hex}\n`;

/**
 * A stamped CommonJS file with a cache made from it by running it once, as the build does: in
 * another process, since V8 takes a source it compiled before from its own memory, never
 * looking at the cache. Each test compiles its own source here, once.
 */
function withCache(name: string, body: string): string {
  const file = join(dir, name);
  writeFileSync(file, stamped(body));
  const make = `
    const { Script } = require('node:vm'); const Module = require('node:module'); const fs = require('node:fs');
    const s = new Script(Module.wrap(fs.readFileSync(process.argv[1], 'utf8')), { filename: process.argv[1] });
    const m = { exports: {} }; s.runInThisContext()(m.exports, require, m, '', ''); m.exports.f();
    fs.writeFileSync(process.argv[2], s.createCachedData());`;
  execFileSync(process.execPath, ['-e', make, file, `${file}.data`]);
  writeFileSync(cacheFileOf(file), cacheBytes(HEX, readFileSync(`${file}.data`)));
  return file;
}

function run(script: ReturnType<typeof compileBundle>['script']): unknown {
  const m = { exports: {} as Record<string, unknown> };
  (script.runInThisContext() as (...args: unknown[]) => void)(m.exports, require, m, '', '');
  return (m.exports['f'] as () => unknown)();
}

const body = (n: number): string => `exports.f = () => 'first'; // ${n}\n`;

describe('the stamp', () => {
  it('is the last line of a stamped source, and nothing else is one', () => {
    expect(stampOf(stamped(body(0)))).toBe(HEX);
    expect(stampOf(body(0))).toBeUndefined();
    expect(stampOf(`${stamped(body(0))}// more\n`)).toBeUndefined();
    expect(stampOf(stamped(body(0), 'AB'.repeat(32)))).toBeUndefined();
    expect(stampOf(stamped(body(0), 'ab'.repeat(31)))).toBeUndefined();
  });
});

describe('a bundle and its code cache', () => {
  it('is compiled from the cache when the cache was made from this source', () => {
    const file = withCache('same.cjs', body(1));
    const c = compileBundle(file, readFileSync(file, 'utf8'));
    expect(c.use).toBe('accepted');
    expect(run(c.script)).toBe('first');
  });

  it('a cache V8 refuses (damaged) is ignored: the bundle is compiled and runs', () => {
    const file = withCache('damaged.cjs', body(2));
    const bytes = readFileSync(cacheFileOf(file));
    bytes.fill(0x55, 65 + 8, 65 + 64);
    writeFileSync(cacheFileOf(file), bytes);
    const c = compileBundle(file, readFileSync(file, 'utf8'));
    expect(c.use).toBe('rejected');
    expect(run(c.script)).toBe('first');
  });

  it('a bundle rebuilt since (another stamp, or none) does not use the old cache', () => {
    const file = withCache('rebuilt.cjs', body(3));
    const other = "exports.f = () => 'other'; // 3\n"; // the same length: V8's own check would pass
    expect(cachedDataFor(file, stamped(other, 'cd'.repeat(32)))).toBeUndefined();
    expect(cachedDataFor(file, other)).toBeUndefined();
    const c = compileBundle(file, other);
    expect(c.use).toBe('none');
    expect(run(c.script)).toBe('other');
  });

  it('a bundle edited in place, its stamp kept, does not use the older cache', () => {
    const file = withCache('edited.cjs', body(4));
    const edited = stamped("exports.f = () => 'First'; // 4\n");
    writeFileSync(file, edited);
    const later = Date.now() / 1000 + 10;
    utimesSync(file, later, later);
    const c = compileBundle(file, edited);
    expect(c.use).toBe('none');
    expect(run(c.script)).toBe('First');
  });

  it('a cache file too short to hold a stamp, or without one, is not used', () => {
    const file = withCache('short.cjs', body(5));
    writeFileSync(cacheFileOf(file), HEX);
    expect(cachedDataFor(file, readFileSync(file, 'utf8'))).toBeUndefined();
    writeFileSync(cacheFileOf(file), Buffer.concat([Buffer.from(`${'cd'.repeat(32)}\n`), Buffer.alloc(100)]));
    expect(cachedDataFor(file, readFileSync(file, 'utf8'))).toBeUndefined();
  });
});

describe('osv with the caches the build made', () => {
  const project = join(dir, 'project');
  cpSync(join(import.meta.dirname, '..', '..', 'examples', 'hello-c', 'osv.yaml'), join(project, 'osv.yaml'), { recursive: true });

  it('loads a command and the validators it uses from their caches', () => {
    const r = probed(['validate'], { cwd: project });
    expect(r.status, r.errors).toBe(0);
    expect(r.codeCache).toEqual({ 'commands/validate.cjs': 'accepted', 'validate-schemas.cjs': 'accepted' });
  });

  it('loads the fast path of `osv push` from its cache (here it finds no build and hands over to the full path, cached too)', () => {
    // No kernel: the full path stops before any build (and any download).
    const r = probed(['push', '127.0.0.1:1/osv-up/test:1', '-q'], { cwd: project, env: { ...process.env, OSV_KERNEL: join(dir, 'no-kernel') } });
    expect(r.status).not.toBe(0);
    expect(r.own.slice(0, 3)).toEqual(['start.cjs', 'fast-push.cjs', 'commands/push.cjs']);
    expect(r.codeCache['fast-push.cjs']).toBe('accepted');
    expect(r.codeCache['commands/push.cjs']).toBe('accepted');
  });

  it('with a damaged cache (a copy of the package), the command runs as without one', () => {
    const root = join(import.meta.dirname, '..', '..');
    const pkg = join(dir, 'package');
    for (const d of ['bin', 'dist', 'schemas', 'templates', 'package.json']) cpSync(join(root, d), join(pkg, d), { recursive: true, preserveTimestamps: true });
    symlinkSync(join(root, 'node_modules'), join(pkg, 'node_modules'));
    const cache = cacheFileOf(join(pkg, 'dist', 'commands', 'validate.cjs'));
    const bytes = readFileSync(cache);
    bytes.fill(0x55, 65 + 8, 65 + 64);
    writeFileSync(cache, bytes);
    const r = probed(['validate'], { cwd: project, osv: join(pkg, 'bin', 'osv.js') });
    expect(r.status, r.errors).toBe(0);
    expect(r.stdout).toContain('valid');
    expect(r.codeCache).toEqual({ 'commands/validate.cjs': 'rejected', 'validate-schemas.cjs': 'accepted' });
  });
});
