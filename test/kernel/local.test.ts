import * as fs from 'node:fs';
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveKernel } from '../../src/kernel/resolve.js';
import { resolveKernelPath } from '../../src/kernel/local.js';
import { cachedSha256 } from '../../src/kernel/hash.js';
import { cacheRoot } from '../../src/kernel/cache.js';
import { printBuildOutcome } from '../../src/tasks/report.js';
import type { BuildOutcome } from '../../src/tasks/build.js';
import { fakeBuildDir, haveGcc, tempDir } from './helpers.js';

if (!haveGcc) console.warn('skipped: gcc is not installed, so no kernel fixtures can be compiled');

const work = tempDir('kernel-local');
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));
const env = { XDG_CACHE_HOME: join(work, 'cache'), HOME: work } as NodeJS.ProcessEnv;
const sha = (p: string): string => createHash('sha256').update(fs.readFileSync(p)).digest('hex');

describe.skipIf(!haveGcc)('kernel.path and OSV_KERNEL', () => {
  const build = haveGcc ? fakeBuildDir(work) : '';

  it('takes loader-stripped.elf, loader.img and libenviron.so from a build directory', async () => {
    const r = await resolveKernel({ kernel: { path: build, hiddenSymbols: false }, arch: 'x86_64' }, env);
    if (!r.ok) throw r.error;
    expect(r.value).toMatchObject({
      elf: join(build, 'loader-stripped.elf'),
      img: join(build, 'loader.img'),
      libenviron: join(build, 'libenviron.so'),
      origin: 'path',
      sha256: sha(join(build, 'loader-stripped.elf')),
      sha256s: { img: sha(join(build, 'loader.img')) },
    });
  });

  it('follows build/last style symlinks and accepts an OSv checkout', () => {
    const checkout = join(work, 'osv');
    fs.mkdirSync(join(checkout, 'build'), { recursive: true });
    fs.symlinkSync(build, join(checkout, 'build', 'last'));
    for (const p of [join(checkout, 'build', 'last'), checkout]) {
      const r = resolveKernelPath(p, 'x86_64');
      expect(r.ok && r.value.elf).toBe(join(build, 'loader-stripped.elf'));
    }
  });

  it('picks up the siblings of a named file', () => {
    const fromElf = resolveKernelPath(join(build, 'loader-stripped.elf'), 'x86_64');
    expect(fromElf.ok && fromElf.value).toMatchObject({ img: join(build, 'loader.img'), libenviron: join(build, 'libenviron.so') });
    const fromImg = resolveKernelPath(join(build, 'loader.img'), 'x86_64');
    expect(fromImg.ok && fromImg.value.elf).toBe(join(build, 'loader-stripped.elf'));
  });

  it('explains paths that hold no usable kernel', () => {
    const empty = join(work, 'empty');
    fs.mkdirSync(empty);
    const gz = join(work, 'loader-stripped.elf.gz');
    fs.writeFileSync(gz, gzipSync(fs.readFileSync(join(build, 'loader-stripped.elf'))));
    const arm = join(work, 'arm', 'loader-stripped.elf');
    fs.mkdirSync(join(work, 'arm'));
    const bytes = Buffer.from(fs.readFileSync(join(build, 'loader-stripped.elf')));
    bytes.writeUInt16LE(183, 18); // EM_AARCH64
    fs.writeFileSync(arm, bytes);
    const cases: Array<[string, string, RegExp]> = [
      [join(work, 'nope'), 'kernel.not-found', /does not exist/],
      [empty, 'kernel.not-found', /has no OSv kernel/],
      [gz, 'kernel.not-kernel', /gunzip/],
      [join(build, 'libenviron.so'), 'kernel.not-kernel', /shared library/],
      [arm, 'kernel.wrong-arch', /for aarch64, but the image is for x86_64/],
    ];
    for (const [p, code, text] of cases) {
      const r = resolveKernelPath(p, 'x86_64');
      expect(r.ok, p).toBe(false);
      if (!r.ok) {
        expect(r.error.code, p).toBe(code);
        expect(`${r.error.message} ${r.error.hint}`, p).toMatch(text);
      }
    }
  });

  it('finds OSv\'s ext module beside the kernel, or where an OSv build keeps it; both files or none', async () => {
    // Copied out of a build: both files beside the kernel.
    const copied = fakeBuildDir(work, 'copied.x64');
    const touch = (p: string): string => (fs.mkdirSync(join(p, '..'), { recursive: true }), fs.writeFileSync(p, 'so'), p);
    const extOf = (p: string): unknown => {
      const r = resolveKernelPath(p, 'x86_64');
      return r.ok ? r.value.ext : r.error;
    };
    touch(join(copied, 'libext.so'));
    expect(extOf(copied)).toBeUndefined(); // one of two is none
    touch(join(copied, 'liblwext4.so'));
    const beside = await resolveKernel({ kernel: { path: join(copied, 'loader-stripped.elf'), hiddenSymbols: false }, arch: 'x86_64' }, env);
    expect(beside.ok && beside.value.ext).toEqual({ libext: join(copied, 'libext.so'), liblwext4: join(copied, 'liblwext4.so') });
    // An OSv tree: build/release.x64/modules/libext/libext.so and lwext4's build_lib_only in the source tree.
    const tree = join(work, 'osv-tree');
    const rel = fakeBuildDir(join(tree, 'build'), 'release.x64');
    fs.symlinkSync('release.x64', join(tree, 'build', 'last'));
    const libext = touch(join(rel, 'modules', 'libext', 'libext.so'));
    expect(extOf(rel)).toBeUndefined();
    const lwext4 = touch(join(tree, 'modules', 'lwext4', 'upstream', 'lwext4', 'build_lib_only', 'src', 'liblwext4.so'));
    for (const p of [join(tree, 'build', 'last'), tree, join(rel, 'loader-stripped.elf')]) expect(extOf(p), p).toEqual({ libext, liblwext4: lwext4 });
    // A kernel alone (as a release is): no module.
    const r = await resolveKernel({ kernel: { path: build, hiddenSymbols: false }, arch: 'x86_64' }, env);
    expect(r.ok && r.value.ext).toBeUndefined();
  });

  it('lets OSV_KERNEL override the configured kernel for one run', async () => {
    const other = fakeBuildDir(work, 'other.x64', { img: false });
    const r = await resolveKernel({ kernel: { path: build, hiddenSymbols: false }, arch: 'x86_64' }, { ...env, OSV_KERNEL: join(other, 'loader-stripped.elf') });
    if (!r.ok) throw r.error;
    expect(r.value).toMatchObject({ origin: 'env', elf: join(other, 'loader-stripped.elf') });
    expect(r.value.img).toBeUndefined();
    const bad = await resolveKernel({ kernel: { path: build, hiddenSymbols: false }, arch: 'x86_64' }, { ...env, OSV_KERNEL: join(work, 'missing') });
    expect(!bad.ok && bad.error.message).toMatch(/^OSV_KERNEL .*missing does not exist/);
  });

  it('refuses a kernel whose sha256 differs from kernel.sha256', async () => {
    const good = sha(join(build, 'loader-stripped.elf'));
    const ok = await resolveKernel({ kernel: { path: build, sha256: good.toUpperCase(), hiddenSymbols: false }, arch: 'x86_64' }, env);
    expect(ok.ok).toBe(true);
    const bad = await resolveKernel({ kernel: { path: build, sha256: '0'.repeat(64), hiddenSymbols: false }, arch: 'x86_64' }, env);
    expect(!bad.ok && bad.error.code).toBe('kernel.sha256-mismatch');
  });

  it('does not rehash an unchanged kernel: the sha256 comes from a stat-keyed cache', () => {
    const f = join(build, 'loader-stripped.elf');
    const real = cachedSha256(f, env);
    expect(real).toBe(sha(f));
    const cacheFile = join(cacheRoot(env), 'sha256-cache.json');
    const cache = JSON.parse(fs.readFileSync(cacheFile, 'utf8')) as Record<string, { sha256: string }>;
    cache[f]!.sha256 = 'f'.repeat(64); // a planted value is returned only if nothing is re-read
    fs.writeFileSync(cacheFile, JSON.stringify(cache));
    expect(cachedSha256(f, env)).toBe('f'.repeat(64));
    const later = new Date(Date.now() + 5000);
    fs.utimesSync(f, later, later); // a changed mtime means a re-read
    expect(cachedSha256(f, env)).toBe(real);
  });

  it('an in-place edit with the mtime put back is seen: the cache keys on the ctime, a pin is hashed afresh (issue #20)', async () => {
    const dir = fakeBuildDir(work, 'edited.x64', { img: false, env: false });
    const f = join(dir, 'loader-stripped.elf');
    const good = sha(f);
    const choice = { kernel: { path: dir, sha256: good, hiddenSymbols: false }, arch: 'x86_64' as const };
    fs.utimesSync(f, 1_700_000_000, 1_700_000_000);
    expect((await resolveKernel(choice, env)).ok).toBe(true);
    const before = fs.statSync(f);
    const bytes = fs.readFileSync(f);
    bytes.writeUInt8(bytes.readUInt8(bytes.length - 1) ^ 0xff, bytes.length - 1); // same size, other bytes
    fs.writeFileSync(f, bytes);
    fs.utimesSync(f, 1_700_000_000, 1_700_000_000);
    expect(fs.statSync(f).mtimeMs).toBe(before.mtimeMs);
    const r = await resolveKernel(choice, env);
    expect(!r.ok && r.error.code).toBe('kernel.sha256-mismatch');
    expect(cachedSha256(f, env)).toBe(sha(f));
    // Even a planted cache entry with every stat field right does not pass a pin.
    const cacheFile = join(cacheRoot(env), 'sha256-cache.json');
    const cache = JSON.parse(fs.readFileSync(cacheFile, 'utf8')) as Record<string, { sha256: string }>;
    cache[f]!.sha256 = good;
    fs.writeFileSync(cacheFile, JSON.stringify(cache));
    const again = await resolveKernel(choice, env);
    expect(!again.ok && again.error.code).toBe('kernel.sha256-mismatch');
  });

  it('kernel.sha256 pins one file: the unpinned loader.img and libenviron.so beside it are not used, and it says so (issue #20)', async () => {
    const elf = await resolveKernel({ kernel: { path: build, sha256: sha(join(build, 'loader-stripped.elf')), hiddenSymbols: false }, arch: 'x86_64' }, env);
    if (!elf.ok) throw elf.error;
    expect(elf.value.elf).toBe(join(build, 'loader-stripped.elf'));
    expect(elf.value.img).toBeUndefined();
    expect(elf.value.libenviron).toBeUndefined();
    expect(elf.value.sha256s).toEqual({ elf: sha(join(build, 'loader-stripped.elf')) });
    expect(elf.value.note).toBe('kernel.sha256 pins loader-stripped.elf; the unpinned loader.img and libenviron.so beside it are not used');
    const img = await resolveKernel({ kernel: { path: build, sha256: sha(join(build, 'loader.img')), hiddenSymbols: false }, arch: 'x86_64' }, env);
    if (!img.ok) throw img.error;
    expect(img.value).toMatchObject({ img: join(build, 'loader.img'), sha256: sha(join(build, 'loader.img')) });
    expect(img.value.elf).toBeUndefined();
    expect(img.value.libenviron).toBeUndefined();
  });

  it('OSV_KERNEL says which pins it skips (issue #20)', async () => {
    const pinned = { kernel: { path: build, sha256: '0'.repeat(64), hiddenSymbols: false }, arch: 'x86_64' as const };
    const r = await resolveKernel(pinned, { ...env, OSV_KERNEL: build });
    if (!r.ok) throw r.error;
    expect(r.value.note).toBe("OSV_KERNEL overrides osv.yaml's kernel: not checked against kernel.sha256");
    const locked = await resolveKernel({ kernel: { version: 'v0.57.0', hiddenSymbols: false }, arch: 'x86_64', dir: work }, { ...env, OSV_KERNEL: build });
    expect(locked.ok && locked.value.note).toBe("OSV_KERNEL overrides osv.yaml's kernel: not checked against osv.lock");
    const unpinned = await resolveKernel({ kernel: { hiddenSymbols: false }, arch: 'x86_64' }, { ...env, OSV_KERNEL: build });
    expect(unpinned.ok && unpinned.value.note).toBeUndefined();
  });

  it('every build line, the no-op one too, repeats the kernel note (issue #20)', () => {
    let text = '';
    const outcome: BuildOutcome = {
      image: '/p/.osv/a.img',
      output: 'disk',
      format: 'raw',
      filesystem: 'rofs',
      project: { dir: '/p', config: '/p/osv.yaml' },
      cmdline: '--rootfs=rofs /a',
      kernel: { sha256: 'x', origin: 'env', hiddenSymbols: false, note: "OSV_KERNEL overrides osv.yaml's kernel: not checked against osv.lock" },
      upToDate: true,
      totals: { files: 1, bytes: 1, libraries: 0 },
      key: 'k',
      ms: 1,
      secrets: [],
    };
    printBuildOutcome(outcome, {}, 'plain', (s) => (text += s));
    expect(text).toContain("\nkernel: OSV_KERNEL overrides osv.yaml's kernel: not checked against osv.lock\n");
  });

  it('says what to configure when there is no kernel at all (no default for aarch64; test/kernel/default-kernel.test.ts has x86_64)', async () => {
    const r = await resolveKernel({ kernel: { hiddenSymbols: false }, arch: 'aarch64' }, env);
    expect(!r.ok && r.error.code).toBe('kernel.none');
    expect(!r.ok && r.error.hint).toMatch(/kernel\.version.*kernel\.path.*OSV_KERNEL/);
  });
});
