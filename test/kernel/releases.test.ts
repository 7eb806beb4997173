// Release downloads against a real HTTP server on 127.0.0.1 that plays GitHub: the API answers
// with release JSON, the asset URLs serve gzip'd kernel files. The "no network" cases use a
// port nothing listens on.

import * as fs from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveKernel } from '../../src/kernel/resolve.js';
import { parseVersion, redirectAllowed, selectAssets, type ReleaseAsset } from '../../src/kernel/releases.js';
import { pullKernel } from '../../src/kernel/store.js';
import { haveGcc, tempDir } from './helpers.js';
import { ASSETS, sandboxes, serveFakeKernel, type Fake } from './fake-release.js';
import { runOsvAsync } from '../helpers/osv.js';

if (!haveGcc) console.warn('skipped: gcc is not installed, so no kernel fixtures can be compiled');

const work = tempDir('kernel-rel');
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

let fake: Fake;
let dead: string;
beforeAll(async () => {
  if (haveGcc) ({ fake, dead } = await serveFakeKernel(work));
});
afterAll(async () => {
  await fake?.close();
  fs.rmSync(work, { recursive: true, force: true });
});

/** A fresh cache and project directory per test. */
const sandbox = sandboxes(work);

describe('asset selection and versions', () => {
  const assets: ReleaseAsset[] = ASSETS.map((name) => ({ name, url: `u/${name}`, size: 1 }));

  it('picks the plain kernel, or the hidden-symbols one when asked, never builders or packages', () => {
    expect(selectAssets(assets, 'x86_64', false)).toEqual({
      elf: expect.objectContaining({ name: 'loader.elf.x86_64.gz' }),
      img: expect.objectContaining({ name: 'osv-loader.qemu.x86_64.gz' }),
    });
    expect(selectAssets(assets, 'x86_64', true)).toEqual({
      elf: expect.objectContaining({ name: 'loader-hidden.elf.x86_64.gz' }),
      img: expect.objectContaining({ name: 'osv-loader-hidden.qemu.x86_64.gz' }),
    });
    expect(selectAssets(assets, 'aarch64', false)).toEqual({});
  });

  it('follows redirects only to https, or to http from an http server: no downgrade, no other scheme (issue #20)', () => {
    const u = (s: string): URL => new URL(s);
    expect(redirectAllowed(u('https://api.github.com/x'), u('https://objects.githubusercontent.com/y'))).toBe(true);
    expect(redirectAllowed(u('https://api.github.com/x'), u('http://objects.githubusercontent.com/y'))).toBe(false);
    expect(redirectAllowed(u('http://127.0.0.1:8080/x'), u('http://127.0.0.1:8080/y'))).toBe(true);
    for (const to of ['file:///etc/passwd', 'ftp://example.com/k', 'data:,x']) expect(redirectAllowed(u('http://127.0.0.1/x'), u(to))).toBe(false);
  });

  it('parses latest, tags and owner/repo@tag', () => {
    expect(parseVersion('latest')).toEqual({ ok: true, value: { repo: 'cloudius-systems/osv', tag: 'latest' } });
    expect(parseVersion('osvunikernel/osv-nightly-releases@ci-master-latest')).toEqual({
      ok: true,
      value: { repo: 'osvunikernel/osv-nightly-releases', tag: 'ci-master-latest' },
    });
    const bad = parseVersion('v1 2');
    expect(!bad.ok && bad.error.code).toBe('kernel.bad-version');
  });
});

describe.skipIf(!haveGcc)('release kernels (fake GitHub on 127.0.0.1)', () => {
  it('downloads, gunzips, caches and pins the kernel in osv.lock; the next use is offline', async () => {
    const { env, project } = sandbox(fake.base);
    const before = fake.requests.length;
    const r = await resolveKernel({ kernel: { version: 'v9.9.9', hiddenSymbols: false }, arch: 'x86_64', dir: project }, env);
    if (!r.ok) throw r.error;
    expect(fake.requests.slice(before)).toEqual([
      '/repos/cloudius-systems/osv/releases/tags/v9.9.9',
      '/download/v9.9.9/loader.elf.x86_64.gz',
      '/download/v9.9.9/osv-loader.qemu.x86_64.gz',
    ]);
    const b = r.value;
    expect(b).toMatchObject({ origin: 'release', version: 'v9.9.9', tag: 'v9.9.9', sha256: sha(fake.elf), sha256s: { elf: sha(fake.elf), img: sha(fake.img) } });
    expect(b.elf).toBe(join(env['XDG_CACHE_HOME']!, 'osv-up', 'kernels', 'v9.9.9', 'x86_64', 'loader-stripped.elf'));
    expect(fs.readFileSync(b.elf!).equals(fake.elf)).toBe(true);
    expect(fs.readFileSync(b.img!).equals(fake.img)).toBe(true);
    const lock = JSON.parse(fs.readFileSync(join(project, 'osv.lock'), 'utf8'));
    expect(lock.kernel).toEqual({
      version: 'v9.9.9',
      repo: 'cloudius-systems/osv',
      tag: 'v9.9.9',
      arch: 'x86_64',
      files: { elf: { sha256: sha(fake.elf), asset: 'loader.elf.x86_64.gz' }, img: { sha256: sha(fake.img), asset: 'osv-loader.qemu.x86_64.gz' } },
    });
    const count = fake.requests.length;
    const again = await resolveKernel({ kernel: { version: 'v9.9.9', hiddenSymbols: false }, arch: 'x86_64', dir: project }, { ...env, OSV_GITHUB_API: dead });
    expect(again.ok && again.value.sha256).toBe(sha(fake.elf));
    expect(fake.requests.length).toBe(count);
  });

  it('refuses a cached kernel that no longer matches osv.lock', async () => {
    const { env, project } = sandbox(fake.base);
    const choice = { kernel: { version: 'v9.9.9', hiddenSymbols: false }, arch: 'x86_64' as const, dir: project };
    const r = await resolveKernel(choice, env);
    if (!r.ok) throw r.error;
    fs.appendFileSync(r.value.elf!, 'tampered');
    const again = await resolveKernel(choice, env);
    expect(!again.ok && again.error.code).toBe('kernel.lock-mismatch');
    expect(!again.ok && again.error.details.join('\n')).toContain(`osv.lock pins ${sha(fake.elf)}`);
  });

  it('refuses a cached kernel edited in place with its mtime put back (the lock is checked against the bytes, issue #20)', async () => {
    const { env, project } = sandbox(fake.base);
    const choice = { kernel: { version: 'v9.9.9', hiddenSymbols: false }, arch: 'x86_64' as const, dir: project };
    const r = await resolveKernel(choice, env);
    if (!r.ok) throw r.error;
    const f = r.value.elf!;
    fs.utimesSync(f, 1_700_000_000, 1_700_000_000);
    expect((await resolveKernel(choice, env)).ok).toBe(true); // the cache now holds the hash at that mtime
    const bytes = fs.readFileSync(f);
    bytes.writeUInt8(bytes.readUInt8(bytes.length - 1) ^ 0xff, bytes.length - 1); // same size, other bytes
    fs.writeFileSync(f, bytes);
    fs.utimesSync(f, 1_700_000_000, 1_700_000_000);
    const again = await resolveKernel(choice, env);
    expect(!again.ok && again.error.code).toBe('kernel.lock-mismatch');
  });

  it.each([
    ['v-bomb', /unpacks to more than 512 MiB: not an OSv kernel/],
    ['v-endless', /the answer is larger than 256 MiB; stopped reading/],
    ['v-redirect', /refused a redirect from http:\/\/127\.0\.0\.1:\d+ to file:\/\/ \(only https is followed\)/],
    ['v-loop', /more than 5 redirects/],
  ])('a hostile download (%s) stops within its limits, with memory to spare (issue #20)', { timeout: 60_000 }, async (tag, message) => {
    const { env } = sandbox(fake.base);
    const started = Date.now();
    let peak = process.memoryUsage().rss;
    const watch = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
    const before = process.memoryUsage().rss;
    const r = await pullKernel({ version: tag, arch: 'x86_64', hiddenSymbols: false, env });
    clearInterval(watch);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(`${r.error.message}\n${r.error.details.join('\n')}`).toMatch(message);
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(peak - before).toBeLessThan(1536 * 1024 * 1024);
  });

  it('pins what "latest" resolved to, and selects hidden-symbol assets for hidden kernels', async () => {
    const { env, project } = sandbox(fake.base);
    const r = await resolveKernel({ kernel: { version: 'latest', hiddenSymbols: true }, arch: 'x86_64', dir: project }, env);
    if (!r.ok) throw r.error;
    expect(r.value).toMatchObject({ version: 'latest', tag: 'v9.9.9', hiddenSymbols: true });
    const lock = JSON.parse(fs.readFileSync(join(project, 'osv.lock'), 'utf8'));
    expect(lock.kernel).toMatchObject({ version: 'latest', tag: 'v9.9.9', files: { elf: { asset: 'loader-hidden.elf.x86_64.gz' } } });
    // With the cache gone, the pinned tag is fetched, not whatever "latest" is now.
    fs.rmSync(join(env['XDG_CACHE_HOME']!, 'osv-up', 'kernels'), { recursive: true });
    const before = fake.requests.length;
    const again = await resolveKernel({ kernel: { version: 'latest', hiddenSymbols: true }, arch: 'x86_64', dir: project }, env);
    expect(again.ok).toBe(true);
    expect(fake.requests[before]).toBe('/repos/cloudius-systems/osv/releases/tags/v9.9.9');
  });

  it('without network, says which assets to fetch from where and where to put them; files put there are used', async () => {
    const { env, project } = sandbox(dead);
    const choice = { kernel: { version: 'v1.0.0', hiddenSymbols: false }, arch: 'x86_64' as const, dir: project };
    const r = await resolveKernel(choice, env);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    const dir = join(env['XDG_CACHE_HOME']!, 'osv-up', 'kernels', 'v1.0.0', 'x86_64');
    expect(r.error.code).toBe('kernel.download-failed');
    expect(r.error.exitCode).toBe(3);
    const text = [r.error.message, ...r.error.details, r.error.hint].join('\n');
    expect(text).toContain('https://github.com/cloudius-systems/osv/releases/tag/v1.0.0');
    expect(text).toContain('".elf.x86_64" or ".elf.x86_64.gz"');
    expect(text).toContain('".qemu.x86_64" or ".qemu.x86_64.gz"');
    expect(text).toContain(join(dir, 'loader-stripped.elf'));
    expect(text).toContain(join(dir, 'loader.img'));
    expect(text).toContain('ECONNREFUSED');

    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(join(dir, 'loader-stripped.elf'), fake.elf);
    const placed = await resolveKernel(choice, env);
    if (!placed.ok) throw placed.error;
    expect(placed.value.sha256).toBe(sha(fake.elf));
    expect(JSON.parse(fs.readFileSync(join(project, 'osv.lock'), 'utf8')).kernel.files).toEqual({ elf: { sha256: sha(fake.elf) } });
  });

  it('names the exact asset URLs when the release is known but downloads fail', async () => {
    const { env } = sandbox(fake.base);
    fake.failDownloads = true;
    try {
      const r = await pullKernel({ version: 'v9.9.9', arch: 'x86_64', hiddenSymbols: false, env });
      expect(!r.ok && r.error.details.join('\n')).toContain(`download ${fake.base}/download/v9.9.9/loader.elf.x86_64.gz`);
      expect(!r.ok && r.error.details.join('\n')).toContain('gunzip it and save it as');
      expect(fs.existsSync(join(env['XDG_CACHE_HOME']!, 'osv-up', 'kernels', 'v9.9.9'))).toBe(false);
    } finally {
      fake.failDownloads = false;
    }
  });

  it('reports a missing release and a release without a kernel for the architecture', async () => {
    const { env } = sandbox(fake.base);
    const none = await pullKernel({ version: 'nope', arch: 'x86_64', hiddenSymbols: false, env });
    expect(!none.ok && none.error.code).toBe('kernel.no-release');
    const noArch = await pullKernel({ version: 'v0.0.1', arch: 'x86_64', hiddenSymbols: false, env });
    expect(!noArch.ok && noArch.error.code).toBe('kernel.no-assets');
    expect(!noArch.ok && noArch.error.details[0]).toContain('loader.elf.aarch64.gz');
  });
});

describe.skipIf(!haveGcc)('osv kernel (the CLI)', () => {
  const osv = (args: string[], env: NodeJS.ProcessEnv, cwd = work, kernel = '') => runOsvAsync(args, { cwd, env: { ...process.env, ...env, OSV_KERNEL: kernel } });

  it('pull without network fails with exit 3 and the by-hand instructions', async () => {
    const { env } = sandbox(dead);
    const r = await osv(['kernel', 'pull', 'v0.57.0'], env);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('cannot download the OSv kernel v0.57.0 (x86_64)');
    expect(r.stderr).toContain('https://github.com/cloudius-systems/osv/releases/tag/v0.57.0');
    expect(r.stderr).toContain(join(env['XDG_CACHE_HOME']!, 'osv-up', 'kernels', 'v0.57.0', 'x86_64', 'loader-stripped.elf'));
    expect(r.stderr).toContain('kernel.path (or OSV_KERNEL)');
  });

  it('rm refuses a version that is not one (.., ., a path) and leaves the cache root alone (issue #20)', async () => {
    const { env } = sandbox(fake.base);
    const pulled = await osv(['kernel', 'pull', 'v9.9.9'], env);
    expect(pulled.code, pulled.stderr).toBe(0);
    for (const bad of ['..', '.', '../x', '/']) {
      const rm = await osv(['kernel', 'rm', bad], env);
      expect(rm.code, bad).toBe(2);
      expect(rm.stderr).toContain(`${JSON.stringify(bad)} is not a kernel version`);
    }
    expect(fs.existsSync(join(env['XDG_CACHE_HOME']!, 'osv-up', 'kernels', 'v9.9.9', 'x86_64', 'loader-stripped.elf'))).toBe(true);
  });

  it('pull in a project shows the sha256 each pin had and has now (issue #20)', async () => {
    const { env, project } = sandbox(fake.base);
    fs.writeFileSync(join(project, 'osv.yaml'), 'kernel: {version: v9.9.9}\ncmd: [/bin/true]\n');
    const old = 'a'.repeat(64);
    fs.writeFileSync(join(project, 'osv.lock'), JSON.stringify({ kernel: { version: 'v9.9.9', repo: 'cloudius-systems/osv', tag: 'v9.9.9', arch: 'x86_64', files: { elf: { sha256: old } } } }));
    const r = await osv(['kernel', 'pull', 'v9.9.9'], env, project);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`  elf  sha256 ${old} -> ${sha(fake.elf)}`);
    expect(r.stdout).toContain(`  img  sha256 (not pinned) -> ${sha(fake.img)}`);
    const again = await osv(['kernel', 'pull', 'v9.9.9', '--json'], env, project);
    expect(JSON.parse(again.stdout)).toMatchObject({ repinned: [] });
    expect((await osv(['kernel', 'pull', 'v9.9.9'], env, project)).stdout).toContain('(unchanged)');
  });

  it('pull, list --json, rm, and path with OSV_KERNEL work', async () => {
    const { env } = sandbox(fake.base);
    const pulled = await osv(['kernel', 'pull', 'v9.9.9', '--json'], env);
    expect(pulled.code).toBe(0);
    expect(JSON.parse(pulled.stdout)).toMatchObject({ ok: true, kernel: { version: 'v9.9.9', files: { elf: { sha256: sha(fake.elf) } } } });
    const list = await osv(['kernel', 'list', '--json'], env);
    expect(JSON.parse(list.stdout).kernels.map((k: { version: string }) => k.version)).toEqual(['v9.9.9']);
    const rm = await osv(['kernel', 'rm', 'v9.9.9'], env);
    expect(rm.code).toBe(0);
    expect(rm.stdout).toMatch(/removed .*kernels\/v9\.9\.9/);
    const path = await osv(['kernel', 'path', '--json'], env, work, join(work, 'served'));
    expect(path.code).toBe(0);
    expect(JSON.parse(path.stdout).kernel).toMatchObject({ origin: 'env', elf: join(work, 'served', 'loader-stripped.elf'), img: join(work, 'served', 'loader.img') });
  });
});
