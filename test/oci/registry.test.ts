// The registry client against a hostile registry, through a stand-in fetch: bodies it reads
// whole (manifests, token answers) have limits, checked while streaming.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Digest } from '../../src/oci/digest.js';
import { RegistryClient } from '../../src/oci/registry.js';
import { osvFailure as failure } from '../helpers/failure.js';

/** A body of `total` bytes served in 64 KiB chunks; counts what was pulled from it. */
function endless(total: number): { body: ReadableStream<Uint8Array>; pulled: () => number } {
  let sent = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(c) {
      if (sent >= total) return c.close();
      const n = Math.min(65536, total - sent);
      sent += n;
      c.enqueue(new Uint8Array(n).fill(0x7b));
    },
  });
  return { body, pulled: () => sent };
}

describe('limits on what a registry sends', () => {
  it('a manifest over 4 MiB is refused while it streams, with or without Content-Length', async () => {
    for (const announce of [false, true]) {
      const big = endless(64 * 2 ** 20);
      const fake = (async () =>
        new Response(big.body, { status: 200, headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json', ...(announce ? { 'content-length': String(64 * 2 ** 20) } : {}) } })) as typeof fetch;
      const client = new RegistryClient('127.0.0.1:1', { fetch: fake, env: {} });
      const e = await failure(client.getManifest('r', 'latest'));
      expect(e.code).toBe('oci.bad-manifest');
      expect(e.message).toContain('127.0.0.1:1/r:latest: the manifest is larger than 4 MiB');
      expect(big.pulled()).toBeLessThan(8 * 2 ** 20);
    }
  });

  it("an error answer's body is read up to 64 KiB for its codes", async () => {
    const big = endless(64 * 2 ** 20);
    const fake = (async () => new Response(big.body, { status: 500, headers: { 'content-type': 'application/json' } })) as typeof fetch;
    const e = await failure(new RegistryClient('127.0.0.1:1', { fetch: fake, env: {} }).getManifest('r', 'latest'));
    expect(e.code).toBe('oci.registry-error');
    expect(e.message).toBe('127.0.0.1:1/r:latest: the registry answered 500');
    expect(big.pulled()).toBeLessThan(2 ** 20);
  });

  it('a token answer over 1 MiB is refused', async () => {
    const big = endless(64 * 2 ** 20);
    const fake = (async (url: string | URL | Request) => {
      if (String(url).startsWith('http://127.0.0.1:1/token')) return new Response(big.body, { status: 200 });
      return new Response(null, { status: 401, headers: { 'www-authenticate': 'Bearer realm="http://127.0.0.1:1/token",service="s"' } });
    }) as typeof fetch;
    const client = new RegistryClient('127.0.0.1:1', { fetch: fake, env: {} });
    const e = await failure(client.getManifest('r', 'latest'));
    expect(e.code).toBe('oci.unauthorized');
    expect(e.message).toContain('answered more than 1 MiB');
    expect(big.pulled()).toBeLessThan(4 * 2 ** 20);
  });
});

describe('Bearer tokens', () => {
  const DIGEST = `sha256:${'ab'.repeat(32)}` as Digest;
  const challenge = { 'www-authenticate': 'Bearer realm="http://127.0.0.1:1/token",service="s",scope="repository:r:pull"' };

  /**
   * A token service handing out T1, T2, ... (each good for `ttl` s), and a registry that takes
   * the newest token unless `refuse` says otherwise for the n-th request it sees (counting
   * from 1); a refusal comes after `delay` ms.
   */
  function tokenRegistry(opts: { ttl: number; refuse?: (auth: string | null, n: number) => boolean; delay?: number }): { fetch: typeof fetch; tokens: () => number } {
    let issued = 0;
    let seen = 0;
    const fake = (async (url: string | URL | Request, init?: RequestInit) => {
      if (String(url).startsWith('http://127.0.0.1:1/token')) {
        issued++;
        return new Response(JSON.stringify({ token: `T${issued}`, expires_in: opts.ttl }), { status: 200 });
      }
      const auth = new Headers(init?.headers).get('authorization');
      const n = ++seen;
      if (auth === `Bearer T${issued}` && !opts.refuse?.(auth, n)) return new Response(null, { status: 200 });
      await new Promise((r) => setTimeout(r, opts.delay ?? 0));
      return new Response(null, { status: 401, headers: challenge });
    }) as typeof fetch;
    return { fetch: fake, tokens: () => issued };
  }

  it('requests that meet the challenge at once share one token (a push sends its first HEADs together)', async () => {
    const reg = tokenRegistry({ ttl: 300 });
    const client = new RegistryClient('127.0.0.1:1', { fetch: reg.fetch, env: {} });
    const found = await Promise.all(Array.from({ length: 6 }, () => client.hasBlob('r', DIGEST)));
    expect(found).toEqual([true, true, true, true, true, true]);
    expect(reg.tokens()).toBe(1);
  });

  it('a token that expires while its request is on the way is renewed for the retry', async () => {
    // expires_in 6: the client renews 5 s early, so T1 is good for 1 s here. The registry takes
    // T1 once (the second request), refuses it the next time, 1.2 s later: T1 is stale by then.
    const reg = tokenRegistry({ ttl: 6, refuse: (auth, n) => auth === 'Bearer T1' && n > 2, delay: 1200 });
    const client = new RegistryClient('127.0.0.1:1', { fetch: reg.fetch, env: {} });
    expect(await client.hasBlob('r', DIGEST)).toBe(true);
    expect(reg.tokens()).toBe(1);
    expect(await client.hasBlob('r', DIGEST)).toBe(true);
    expect(reg.tokens()).toBe(2);
  });
});

describe('credentials', () => {
  it('a credential helper runs once for requests that need it at once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'osv-registry-creds-'));
    try {
      const count = join(dir, 'runs');
      writeFileSync(join(dir, 'docker-credential-counted'), `#!/bin/sh\necho run >> '${count}'\necho '{"Username":"u","Secret":"pw"}'\n`, { mode: 0o755 });
      writeFileSync(join(dir, 'config.json'), JSON.stringify({ credsStore: 'counted' }));
      const good = `Basic ${Buffer.from('u:pw').toString('base64')}`;
      const fake = (async (_url: string | URL | Request, init?: RequestInit) =>
        new Headers(init?.headers).get('authorization') === good ? new Response(null, { status: 200 }) : new Response(null, { status: 401, headers: { 'www-authenticate': 'Basic realm="r"' } })) as typeof fetch;
      const client = new RegistryClient('127.0.0.1:1', { fetch: fake, env: { HOME: dir, DOCKER_CONFIG: dir, PATH: `${dir}:${process.env['PATH']}` } });
      const found = await Promise.all(Array.from({ length: 6 }, () => client.hasBlob('r', `sha256:${'cd'.repeat(32)}` as Digest)));
      expect(found).toEqual([true, true, true, true, true, true]);
      expect(readFileSync(count, 'utf8')).toBe('run\n');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

