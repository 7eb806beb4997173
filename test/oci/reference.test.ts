// Image references, Docker's naming rules, the choice of plain HTTP, challenges and where
// credentials are found. No public registry is reachable here: docker.io references are
// checked for their parsing and normalisation only.

import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { inspect } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { findCredential, parseChallenge, Secret } from '../../src/oci/auth.js';
import { apiHost, fetchBlockedPort, formatReference, isPlainHttpHost, parseReference } from '../../src/oci/reference.js';
import { parseManifest, platformFor, selectPlatform } from '../../src/oci/manifest.js';
import { runOsv } from '../helpers/osv.js';

const D = `sha256:${'a'.repeat(64)}`;

describe('image references', () => {
  it.each([
    ['redis', 'docker.io/library/redis:latest'],
    ['redis:7', 'docker.io/library/redis:7'],
    ['library/redis:7', 'docker.io/library/redis:7'],
    ['docker.io/library/redis:7', 'docker.io/library/redis:7'],
    ['index.docker.io/redis:7', 'docker.io/library/redis:7'],
    ['docker://redis:7', 'docker.io/library/redis:7'],
    ['bitnami/redis:7.2-debian-12', 'docker.io/bitnami/redis:7.2-debian-12'],
    [`ghcr.io/o/r@${D}`, `ghcr.io/o/r@${D}`],
    [`ghcr.io/o/r:v1@${D}`, `ghcr.io/o/r:v1@${D}`],
    ['localhost/app', 'localhost/app:latest'],
    ['localhost:5000/a/b/c:t', 'localhost:5000/a/b/c:t'],
    ['127.0.0.1:5000/app:1', '127.0.0.1:5000/app:1'],
    ['[::1]:5000/app:1', '[::1]:5000/app:1'],
    ['registry.example.com:8443/team/app__x:1.0', 'registry.example.com:8443/team/app__x:1.0'],
  ])('%s is %s', (text, full) => {
    const r = parseReference(text);
    expect(r.ok).toBe(true);
    if (r.ok) expect(formatReference(r.value)).toBe(full);
  });

  it('the digest wins over the tag; Docker Hub answers on registry-1.docker.io', () => {
    const r = parseReference(`redis:7@${D}`);
    expect(r.ok && r.value.transport === 'registry' && r.value.digest).toBe(D);
    expect(apiHost('docker.io')).toBe('registry-1.docker.io');
    expect(apiHost('ghcr.io')).toBe('ghcr.io');
  });

  it.each([
    ['Redis:7', /not a valid repository name/],
    ['redis:', /not a valid tag/],
    ['redis:-x', /not a valid tag/],
    [`redis@sha256:${'A'.repeat(64)}`, /not a sha256 digest/],
    ['redis@sha512:abc', /not a sha256 digest/],
    ['a//b', /not a valid repository name/],
    [' redis', /surrounding blanks/],
    ['oci:', /needs a path/],
    [`oci:./layout@sha256:${'a'.repeat(64)}`, /oci: names an image by tag \(oci:PATH:TAG\), or by PATH alone when it holds one image; not by digest/],
    [`oci-archive:app.tar@sha256:${'a'.repeat(64)}`, /oci-archive: names an image by tag/],
    ['docker-archive:x.tar:@@', /repo:tag/],
    ['127.0.0.1:99999/x:1', /"127\.0\.0\.1:99999\/x:1" is not an image reference: the registry port must be 1-65535, not 99999/],
    ['localhost:0/x', /port must be 1-65535, not 0/],
    ['[::1]:65536/x', /port must be 1-65535, not 65536/],
  ])('%s is refused', (text, why) => {
    const r = parseReference(text);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(why);
  });

  it('layouts and archives: the path ends at the first colon', () => {
    expect(parseReference('oci:./layout:v1')).toEqual({ ok: true, value: { transport: 'oci', path: './layout', tag: 'v1' } });
    expect(parseReference('oci-archive:/tmp/a.tar')).toEqual({ ok: true, value: { transport: 'oci-archive', path: '/tmp/a.tar' } });
    expect(parseReference('docker-archive:app.tar:example.com/app:1')).toEqual({ ok: true, value: { transport: 'docker-archive', path: 'app.tar', ref: 'example.com/app:1' } });
  });

  it('ports 1 and 65535 are valid; ports fetch refuses are named as such', () => {
    for (const text of ['127.0.0.1:1/x', 'localhost:65535/x:1', '[::1]:22/x']) expect(parseReference(text).ok, text).toBe(true);
    expect(fetchBlockedPort('127.0.0.1:1')).toMatch(/port 1 is one of the ports Node's fetch refuses/);
    expect(fetchBlockedPort('[::1]:6000')).toMatch(/port 6000/);
    for (const r of ['127.0.0.1:5000', 'docker.io', '[::1]', 'localhost:10081']) expect(fetchBlockedPort(r), r).toBeUndefined();
  });

  it('plain HTTP only for localhost and loopback addresses', () => {
    for (const h of ['localhost', 'localhost:5000', '127.0.0.1:5000', '127.1.2.3', '[::1]:5000']) expect(isPlainHttpHost(h), h).toBe(true);
    for (const h of ['docker.io', '10.0.0.1:5000', '128.0.0.1', 'localhost.example.com', '[::2]:5000']) expect(isPlainHttpHost(h), h).toBe(false);
  });
});

describe('manifests and platforms', () => {
  const index = (platforms: Array<[string, string, string?]>): Buffer =>
    Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: platforms.map(([os, architecture, variant], i) => ({ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: `sha256:${String(i).repeat(64)}`, size: 1, platform: { os, architecture, ...(variant ? { variant } : {}) } })) }));

  it('picks the first matching platform, skips attestations, and says what an index offers', () => {
    const parsed = parseManifest(index([['unknown', 'unknown'], ['linux', 'arm64', 'v8'], ['linux', 'amd64']]), 'img');
    if (!parsed.ok || parsed.value.kind !== 'index') throw new Error('not an index');
    expect(selectPlatform(parsed.value, platformFor('x86_64'), 'img')).toMatchObject({ ok: true, value: { digest: `sha256:${'2'.repeat(64)}` } });
    expect(selectPlatform(parsed.value, platformFor('aarch64'), 'img')).toMatchObject({ ok: true, value: { digest: `sha256:${'1'.repeat(64)}` } });
    const only = parseManifest(index([['linux', 'arm', 'v7'], ['unknown', 'unknown']]), 'img');
    if (!only.ok || only.value.kind !== 'index') throw new Error('not an index');
    const miss = selectPlatform(only.value, platformFor('x86_64'), 'img');
    expect(miss.ok).toBe(false);
    if (!miss.ok) expect(miss.error.details).toEqual(['it offers: linux/arm/v7']);
  });

  it('refuses schema 1', () => {
    const r = parseManifest(Buffer.from('{"schemaVersion":1,"fsLayers":[]}'), 'old');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.code).toBe('oci.schema1');
  });
});

describe('authentication', () => {
  const home = mkdtempSync(join(tmpdir(), 'osv-auth-'));
  afterAll(() => rmSync(home, { recursive: true, force: true }));

  it('parses challenges, quoted values with commas included', () => {
    expect(parseChallenge('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/redis:pull,push"')).toEqual({
      scheme: 'bearer',
      params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/redis:pull,push' },
    });
    expect(parseChallenge('Basic realm="test"')).toEqual({ scheme: 'basic', params: { realm: 'test' } });
  });

  it("finds Docker Hub's entry under its v1 URL, and never shows a secret", async () => {
    const dir = join(home, 'docker');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ auths: { 'https://index.docker.io/v1/': { auth: Buffer.from('me:s3cret').toString('base64') }, 'https://ghcr.io': { identitytoken: 'tok' } } }));
    const env = { HOME: home, DOCKER_CONFIG: dir };
    const hub = await findCredential('docker.io', env);
    expect(hub?.username).toBe('me');
    expect(hub?.secret.reveal()).toBe('s3cret');
    expect(JSON.stringify(hub)).not.toContain('s3cret');
    expect(inspect(hub)).not.toContain('s3cret');
    expect(String(new Secret('x'))).toBe('[redacted]');
    expect((await findCredential('ghcr.io', env))?.identityToken).toBe(true);
    expect(await findCredential('quay.io', env)).toBeUndefined();
  });

  it('runs a credential helper only by name, from an absolute PATH directory', async () => {
    const dir = join(home, 'helpers');
    const bin = join(dir, 'bin');
    mkdirSync(bin, { recursive: true });
    const helper = (name: string): void =>
      writeFileSync(join(bin, `docker-credential-${name}`), '#!/bin/sh\necho \'{"Username":"u","Secret":"from-helper"}\'\n', { mode: 0o755 });
    helper('rel');
    const config = (store: string): NodeJS.ProcessEnv => {
      writeFileSync(join(dir, 'config.json'), JSON.stringify({ credsStore: store }));
      return { HOME: home, DOCKER_CONFIG: dir };
    };
    // found through an absolute PATH entry
    expect((await findCredential('quay.io', { ...config('rel'), PATH: bin }))?.secret.reveal()).toBe('from-helper');
    // a relative PATH entry (resolved against the current directory) is never searched
    await expect(findCredential('quay.io', { ...config('rel'), PATH: relative(process.cwd(), bin) })).rejects.toThrow(/docker-credential-rel .*is not installed/);
    // a name with a slash would be a path: refused
    await expect(findCredential('quay.io', { ...config('../helpers/bin/rel'), PATH: bin })).rejects.toThrow(/is not a program name/);
  });

  it('$REGISTRY_AUTH_FILE first, then docker, then $XDG_RUNTIME_DIR/containers/auth.json', async () => {
    const runtime = join(home, 'run');
    mkdirSync(join(runtime, 'containers'), { recursive: true });
    writeFileSync(join(runtime, 'containers', 'auth.json'), JSON.stringify({ auths: { 'quay.io': { auth: Buffer.from('podman:p').toString('base64') } } }));
    const explicit = join(home, 'explicit.json');
    writeFileSync(explicit, JSON.stringify({ auths: { 'quay.io': { auth: Buffer.from('explicit:e').toString('base64') } } }));
    expect((await findCredential('quay.io', { HOME: home, XDG_RUNTIME_DIR: runtime }))?.username).toBe('podman');
    expect((await findCredential('quay.io', { HOME: home, XDG_RUNTIME_DIR: runtime, REGISTRY_AUTH_FILE: explicit }))?.username).toBe('explicit');
  });
});

describe('registry ports on the command line and in osv.yaml', () => {
  const dir = mkdtempSync(join(tmpdir(), 'osv-ref-port-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const env = { ...process.env, XDG_CACHE_HOME: join(dir, 'cache'), OSV_KERNEL: join(dir, 'no-kernel') };

  it('a port out of range is a usage error naming the reference, never "Invalid URL"', () => {
    for (const args of [['push', '127.0.0.1:99999/x'], ['pull', '127.0.0.1:99999/x:1'], ['export', 'kubevirt', '127.0.0.1:99999/x:1']]) {
      const r = runOsv(args, { cwd: dir, env, timeout: 30_000 });
      expect(r.code, r.out).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(/"127\.0\.0\.1:99999\/x(:1)?" is not an image reference: the registry port must be 1-65535, not 99999/);
      expect(r.out).not.toMatch(/internal error|Invalid URL/);
    }
  });

  it('from: with a port out of range is an error at its position', () => {
    const project = join(dir, 'project');
    mkdirSync(project, { recursive: true });
    writeFileSync(join(project, 'osv.yaml'), 'name: a\nfrom: 127.0.0.1:99999/x:1\n');
    const r = runOsv(['plan'], { cwd: project, env, timeout: 30_000 });
    expect(r.code, r.out).toBe(1);
    expect(r.stderr).toContain(`${join(project, 'osv.yaml')}:2:7: error: from: "127.0.0.1:99999/x:1" is not an image reference: the registry port must be 1-65535, not 99999`);
  });

  it('a port fetch refuses (1, 22) says so instead of a bare "bad port"', () => {
    for (const ref of ['127.0.0.1:1/x', '[::1]:22/x:1']) {
      const r = runOsv(['pull', ref], { cwd: dir, env, timeout: 30_000 });
      expect(r.code, r.out).toBe(1);
      expect(r.stderr).toMatch(/cannot pull from (127\.0\.0\.1:1|\[::1\]:22): port (1|22) is one of the ports Node's fetch refuses to connect to/);
      expect(r.stderr).toContain('hint: serve the registry on another port');
    }
  });
});

describe('from: in osv.yaml', () => {
  const dir = mkdtempSync(join(tmpdir(), 'osv-from-config-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const load = async (yaml: string) => {
    writeFileSync(join(dir, 'osv.yaml'), yaml);
    const { loadConfig } = await import('../../src/config/index.js');
    return loadConfig({ cwd: dir, env: {} });
  };

  it('needs no cmd (the image may have one), resolves layout paths against the file, and refuses sysroot beside it', async () => {
    const ok = await load('name: a\nfrom: oci:./layout:v1\n');
    expect(ok.ok).toBe(true);
    if (ok.ok) {
      expect(ok.value.from).toMatchObject({ text: 'oci:./layout:v1', reference: { transport: 'oci', path: join(dir, 'layout'), tag: 'v1' } });
      expect(ok.value.sysroot).toBe('/@image');
    }
    const both = await load('name: a\nfrom: redis:7\nsysroot: /srv/root\n');
    expect(both.ok).toBe(false);
    if (!both.ok) expect(both.error.message).toContain('sysroot and from cannot be used together');
    const bad = await load('name: a\nfrom: Redis:7\n');
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect((bad.error as { errors: Array<{ message: string; source?: { line: number } }> }).errors[0]).toMatchObject({ message: expect.stringContaining('is not a valid repository name'), source: { line: 2 } });
  });

  it("the image's Entrypoint + Cmd, Env and WorkingDir fill in what osv.yaml leaves out; osv.yaml wins per variable", async () => {
    const { applyImageDefaults } = await import('../../src/config/image-defaults.js');
    const image = { entrypoint: ['/bin/app'], cmd: ['--serve'], env: ['A=image', 'B=image', 'PATH=/usr/bin'], workingDir: '/srv' };
    const bare = await load('name: a\nfrom: redis:7\nenv: {A: mine}\n');
    if (!bare.ok) throw bare.error;
    const d = applyImageDefaults(bare.value, image).defaultRun;
    expect(d.cmd).toEqual(['/bin/app', '--serve']);
    expect(d.env).toEqual({ A: 'mine', B: 'image', PATH: '/usr/bin' });
    expect(d.cwd).toBe('/srv');
    expect(d.fromImage).toEqual({ cmd: true, cwd: true, env: ['B', 'PATH'] });
    // osv.yaml's own cmd and cwd are kept; a named run gets the image's defaults under its own
    const own = await load('name: a\nfrom: redis:7\ncmd: [/mine, x]\ncwd: /here\nruns:\n  other: {env: {B: run}}\n');
    if (!own.ok) throw own.error;
    const o = applyImageDefaults(own.value, image);
    expect(o.defaultRun.cmd).toEqual(['/mine', 'x']);
    expect(o.defaultRun.cwd).toBe('/here');
    expect(o.runs['other']!.env).toEqual({ A: 'image', B: 'run', PATH: '/usr/bin' });
    // an image without Entrypoint: Cmd[0] is the program
    expect(applyImageDefaults(bare.value, { cmd: ['python3', '-V'], env: [] }).defaultRun.cmd).toEqual(['python3', '-V']);
  });
});
