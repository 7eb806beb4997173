// A project that names no kernel boots osv-up's default release: downloaded once (by its exact
// asset names) from the fake GitHub on 127.0.0.1 that OSV_GITHUB_API points at, pinned in
// osv.lock, used from the cache afterwards, refused when the bytes stop matching the pin.

import * as fs from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveKernel } from '../../src/kernel/resolve.js';
import { DEFAULT_RELEASE } from '../../src/kernel/default-release.js';
import { haveGcc, tempDir } from './helpers.js';
import { sandboxes, serveFakeKernel, type Fake } from './fake-release.js';
import { runOsvAsync } from '../helpers/osv.js';

if (!haveGcc) console.warn('skipped: default kernel tests: gcc is not installed, so no kernel fixtures can be compiled');

const work = tempDir('kernel-default');
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
const D = DEFAULT_RELEASE;

let fake: Fake;
let dead: string;
let served: { elf: Buffer; img: Buffer };
beforeAll(async () => {
  if (!haveGcc) return;
  ({ fake, dead } = await serveFakeKernel(work));
  served = { elf: fake.elf, img: fake.img };
});
afterAll(async () => {
  await fake?.close();
  fs.rmSync(work, { recursive: true, force: true });
});

const sandbox = sandboxes(work);
const cacheDir = (cache: string): string => join(cache, 'osv-up', 'kernels', 'osvunikernel_osv-nightly-releases@ci-master-latest', 'x86_64');
const none = (project: string) => ({ kernel: { hiddenSymbols: false }, arch: 'x86_64' as const, dir: project, filesystem: 'rofs' as const });

describe.skipIf(!haveGcc)('the default kernel (no kernel key, no OSV_KERNEL)', () => {
  it('is named in one module: a nightly release whose assets carry the direct-boot ELF, pinned on first use', () => {
    expect(D).toMatchObject({ version: 'osvunikernel/osv-nightly-releases@ci-master-latest', assets: { elf: 'loader-hidden.elf.x86_64.gz' }, hiddenSymbols: true });
    // No sha256 is invented: it cannot be known offline (README, docs/security.md).
    expect(D.sha256).toEqual({});
  });

  it('first use downloads the exact assets with progress and pins them in osv.lock; the second uses the cache', async () => {
    const { env, project, cache } = sandbox(fake.base);
    const before = fake.requests.length;
    const seen: string[] = [];
    const r = await resolveKernel(none(project), env, { onProgress: (_b, _t, asset) => void seen.push(asset) });
    if (!r.ok) throw r.error;
    expect(fake.requests.slice(before)).toEqual([
      '/repos/osvunikernel/osv-nightly-releases/releases/tags/ci-master-latest',
      '/download/ci-master-latest/loader-hidden.elf.x86_64.gz',
      '/download/ci-master-latest/osv-loader-hidden.qemu.x86_64.gz',
    ]);
    expect(new Set(seen)).toEqual(new Set([D.assets.elf, D.assets.img]));
    expect(r.value).toMatchObject({ origin: 'release', version: D.version, hiddenSymbols: true, sha256: sha(served.elf), elf: join(cacheDir(cache), 'loader-stripped.elf') });
    const lock = JSON.parse(fs.readFileSync(join(project, 'osv.lock'), 'utf8'));
    expect(lock.kernel).toEqual({
      version: D.version,
      repo: 'osvunikernel/osv-nightly-releases',
      tag: 'ci-master-latest',
      arch: 'x86_64',
      files: { elf: { sha256: sha(served.elf), asset: D.assets.elf }, img: { sha256: sha(served.img), asset: D.assets.img } },
    });

    const count = fake.requests.length;
    const again = await resolveKernel(none(project), { ...env, OSV_GITHUB_API: dead });
    expect(again.ok && again.value.sha256).toBe(sha(served.elf));
    expect(fake.requests.length).toBe(count);
  });

  it('a kernel whose sha256 changed is refused: against osv.lock, and against a pin in the module', async () => {
    const { env, project, cache } = sandbox(fake.base);
    expect((await resolveKernel(none(project), env)).ok).toBe(true);
    // A fresh machine (empty cache) with the committed osv.lock, and a release that moved.
    fs.rmSync(cache, { recursive: true });
    const original = fake.elf;
    fake.elf = Buffer.concat([original, Buffer.from('rebuilt')]);
    try {
      const moved = await resolveKernel(none(project), env);
      expect(!moved.ok && moved.error.code).toBe('kernel.lock-mismatch');
      expect(!moved.ok && moved.error.details.join('\n')).toContain(`osv.lock pins ${sha(original)}`);
      expect(!moved.ok && moved.error.hint).toContain(`osv kernel pull ${D.version}`);

      // With the sha256 known to osv-up, a download that differs is refused before it is cached.
      fs.rmSync(cache, { recursive: true, force: true });
      D.sha256.elf = sha(original);
      const pinned = await resolveKernel({ ...none(join(project, '..')) }, env);
      expect(!pinned.ok && pinned.error.code).toBe('kernel.default-mismatch');
      expect(!pinned.ok && pinned.error.message).toContain(`expected ${sha(original)}`);
      expect(fs.existsSync(cacheDir(cache))).toBe(false);
    } finally {
      fake.elf = original;
      delete D.sha256.elf;
    }
  });

  it('offline, the error names the exact asset, the cache path to put it in, and OSV_KERNEL or kernel.path', async () => {
    const { env, project, cache } = sandbox(dead);
    const r = await resolveKernel(none(project), env);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.code).toBe('kernel.download-failed');
    expect(r.error.exitCode).toBe(3);
    expect(r.error.message).toContain("osv-up's default: the project names no kernel");
    const text = [r.error.message, ...r.error.details, r.error.hint].join('\n');
    expect(text).toContain('download https://github.com/osvunikernel/osv-nightly-releases/releases/download/ci-master-latest/loader-hidden.elf.x86_64.gz');
    expect(text).toContain(`gunzip it and save it as ${join(cacheDir(cache), 'loader-stripped.elf')}`);
    expect(text).toContain('kernel.path (or OSV_KERNEL)');
    // Put there by hand, it is used and pinned.
    fs.mkdirSync(cacheDir(cache), { recursive: true });
    fs.writeFileSync(join(cacheDir(cache), 'loader-stripped.elf'), served.elf);
    const placed = await resolveKernel(none(project), env);
    expect(placed.ok && placed.value.sha256).toBe(sha(served.elf));
    expect(JSON.parse(fs.readFileSync(join(project, 'osv.lock'), 'utf8')).kernel.files).toEqual({ elf: { sha256: sha(served.elf) } });
  });

  it('is refused where it cannot boot: another architecture, an ext root', async () => {
    const { env, project } = sandbox(dead);
    const arm = await resolveKernel({ ...none(project), arch: 'aarch64' }, env);
    expect(!arm.ok && arm.error.code).toBe('kernel.none');
    expect(!arm.ok && arm.error.hint).toMatch(/kernel\.version.*kernel\.path.*OSV_KERNEL/);
    const ext = await resolveKernel({ ...none(project), filesystem: 'ext' }, env);
    expect(!ext.ok && ext.error.code).toBe('kernel.default-filesystem');
  });

  it('osv build downloads it with a progress line and pins it; the next build does not download; osv plan names it', async () => {
    const { env, project } = sandbox(fake.base);
    fs.writeFileSync(join(project, 'osv.yaml'), 'cmd: [/bin/true]\n');
    // Asynchronous: the fake server answers from this process.
    const osv = (...args: string[]) => runOsvAsync(args, { cwd: project, env: { ...process.env, ...env, OSV_KERNEL: '', NO_COLOR: '1' } });
    const plan = await osv('plan');
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stdout).toContain(`Kernel: none configured: osv-up's default, release ${D.version}, hidden symbols (libstdc++ shipped) (not downloaded yet: \`osv build\` fetches it)`);
    const first = await osv('build', '--no-check');
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toContain(`downloading ${D.assets.elf}`);
    expect(JSON.parse(fs.readFileSync(join(project, 'osv.lock'), 'utf8')).kernel.version).toBe(D.version);
    const second = await osv('build', '--no-check', '--force');
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).not.toContain('downloading');
    expect((await osv('plan')).stdout).toContain(`Kernel: none configured: osv-up's default, release ${D.version}, hidden symbols (libstdc++ shipped) -> `);
  });
});
