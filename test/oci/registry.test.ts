// The registry client against a hostile registry, through a stand-in fetch: bodies it reads
// whole (manifests, token answers) have limits, checked while streaming.

import { describe, expect, it } from 'vitest';
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
