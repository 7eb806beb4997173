// What a failed request reports (src/net/failure.ts) and the hint a refused certificate gets
// (src/net/trust.ts), for the errors fetch, node:http and an aborted signal really produce.

import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchHttp, fetchRelease, NetworkProblem } from '../../src/kernel/releases.js';
import { networkReason } from '../../src/net/failure.js';
import { certificateHint } from '../../src/net/trust.js';
import { nodeRequest } from '../../src/oci/node-transport.js';

describe('networkReason', () => {
  let silent: Server;
  let port: number;
  let closed: number;
  beforeAll(async () => {
    // Accepts and says nothing.
    silent = createServer(() => undefined);
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    port = (silent.address() as { port: number }).port;
    const s = createServer();
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    closed = (s.address() as { port: number }).port;
    await new Promise((r) => s.close(r));
  });
  afterAll(() => void silent.close());

  it('a refused connection is its code, through fetch and through node:http', async () => {
    expect(networkReason(await fetch(`http://127.0.0.1:${closed}/`).catch((e: unknown) => e))).toBe('ECONNREFUSED');
    expect(networkReason(await nodeRequest(`http://127.0.0.1:${closed}/`, 'GET', {}).catch((e: unknown) => e))).toBe('ECONNREFUSED');
  });

  it('a timeout is "timed out", not the DOMException code 23, through fetch and through node:http', async () => {
    expect(networkReason(await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(100) }).catch((e: unknown) => e))).toBe('timed out');
    expect(networkReason(await nodeRequest(`http://127.0.0.1:${port}/`, 'GET', {}, undefined, AbortSignal.timeout(100)).catch((e: unknown) => e))).toBe('timed out');
  });

  it('an interrupt is "interrupted"; anything else its message', async () => {
    const c = new AbortController();
    const pending = fetch(`http://127.0.0.1:${port}/`, { signal: c.signal }).catch((e: unknown) => e);
    c.abort();
    expect(networkReason(await pending)).toBe('interrupted');
    expect(networkReason(new Error('more than 5 redirects'))).toBe('more than 5 redirects');
    expect(networkReason(undefined)).toBe('undefined');
  });

  it('a kernel release server that never answers: the download reports "timed out"', async () => {
    const r = await fetchRelease({ repo: 'o/r', tag: 'v1' }, (url, o) => fetchHttp(url, { ...o, signal: AbortSignal.timeout(200) }), `http://127.0.0.1:${port}`);
    expect(r).toBeInstanceOf(NetworkProblem);
    expect((r as NetworkProblem).reason).toBe('timed out');
  });
});

describe('certificateHint', () => {
  it('names the way out for each kind of refusal, and nothing for other failures', () => {
    expect(certificateHint('SELF_SIGNED_CERT_IN_CHAIN')).toMatch(/^no CA this process trusts signed the server's certificate: .*NODE_EXTRA_CA_CERTS$/);
    expect(certificateHint('UNABLE_TO_VERIFY_LEAF_SIGNATURE')).toBe(certificateHint('DEPTH_ZERO_SELF_SIGNED_CERT'));
    expect(certificateHint('CERT_HAS_EXPIRED')).toMatch(/expired or not yet valid: check this machine's clock/);
    expect(certificateHint('ERR_TLS_CERT_ALTNAME_INVALID')).toBe("the server's certificate is for another name: use the name it was issued for");
    expect(certificateHint('ECONNREFUSED')).toBeUndefined();
    expect(certificateHint('timed out')).toBeUndefined();
  });
});
