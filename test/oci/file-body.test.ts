// An upload's file body through reused buffers (src/oci/file-body.ts), against a real HTTP server:
// the bytes arrive whole and in order whatever the file's size, exactly `size` of them; a short
// file, a refusal mid-upload and a server gone away end the request with an error, never a hang.
// Redirects (node-transport.ts) are followed as fetch follows them, with the file sent again.

import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileBody } from '../../src/oci/file-body.js';
import { MAX_REDIRECTS, nodeRequest, nodeRequestFollowing } from '../../src/oci/node-transport.js';
import { OsvError } from '../../src/diagnostics/error.js';
import { blobContent } from '../../src/oci/push.js';
import { RegistryClient } from '../../src/oci/registry.js';
import type { Digest } from '../../src/oci/digest.js';

const work = mkdtempSync(join(tmpdir(), 'osv-file-body-'));
let server: Server;
let base: string;
/** What the server received for each path, and how it answers. */
const received = new Map<string, Buffer>();

beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url === '/refuse') {
      // Answers before reading the body, then drops the connection: a registry refusing an upload.
      res.writeHead(413, { connection: 'close' }).end('too large');
      req.socket.destroy();
      return;
    }
    if (req.url === '/vanish') {
      req.socket.destroy();
      return;
    }
    // An upload session whose PUT is redirected elsewhere (as a registry behind a storage proxy may).
    if (req.method === 'POST' && req.url === '/v2/app/blobs/uploads/') {
      res.writeHead(202, { location: '/session/1', 'content-length': '0' }).end();
      return;
    }
    if (req.method === 'POST' && req.url === '/v2/see-other/blobs/uploads/') {
      res.writeHead(202, { location: '/session/303', 'content-length': '0' }).end();
      return;
    }
    if (req.method === 'PUT' && req.url!.startsWith('/session/303?')) {
      req.resume();
      res.writeHead(303, { location: `/stored${req.url!.slice('/session/303'.length)}`, 'content-length': '0' }).end();
      return;
    }
    if (req.method === 'PUT' && req.url!.startsWith('/session/1?')) {
      req.resume();
      res.writeHead(307, { location: `/stored${req.url!.slice('/session/1'.length)}`, 'content-length': '0' }).end();
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.set(req.url!, Buffer.concat(chunks));
      const digest = new URL(req.url!, 'http://x').searchParams.get('digest');
      res.writeHead(201, digest ? { 'docker-content-digest': digest } : {}).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  // A failed upload must not leave its connection open (it would keep osv alive): none is left
  // but the kept-alive idle ones, which close at once.
  server.closeIdleConnections();
  await new Promise((r) => server.close(r));
  rmSync(work, { recursive: true, force: true });
});

function file(name: string, bytes: Buffer): string {
  const p = join(work, name);
  writeFileSync(p, bytes);
  return p;
}

async function put(path: string, body: FileBody): Promise<number> {
  const res = await nodeRequest(`${base}${path}`, 'PUT', { 'content-length': String(body.size) }, body);
  await res.body?.cancel();
  return res.status;
}

describe('FileBody over node:http', () => {
  // Sizes around the buffers' (256 KiB, four of them): none, under one, exactly the ring, and
  // many rounds of the ring with a ragged end.
  for (const size of [0, 1, 256 * 1024 - 1, 256 * 1024, 1024 * 1024, 1024 * 1024 + 1, 5 * 1024 * 1024 + 12345]) {
    it(`sends a file of ${size} bytes whole and in order`, async () => {
      const bytes = randomBytes(size);
      expect(await put(`/ok-${size}`, new FileBody(file(`f-${size}`, bytes), size))).toBe(201);
      expect(received.get(`/ok-${size}`)!.equals(bytes)).toBe(true);
    });
  }

  it('sends exactly `size` bytes of a longer file', async () => {
    const bytes = randomBytes(700_000);
    expect(await put('/prefix', new FileBody(file('long', bytes), 600_001))).toBe(201);
    expect(received.get('/prefix')!.equals(bytes.subarray(0, 600_001))).toBe(true);
  });

  it('fails on a file shorter than its size, naming the file', async () => {
    const p = file('short', randomBytes(300_000));
    await expect(put('/short', new FileBody(p, 400_000))).rejects.toThrow(`${p} ended after 300000 of 400000 bytes`);
  });

  it('fails on a missing file, with an error of its own (not the network\'s)', async () => {
    const e = await put('/missing', new FileBody(join(work, 'absent'), 10)).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(OsvError);
    expect(e).toMatchObject({ code: 'push.blob-changed', message: `cannot read ${join(work, 'absent')} (ENOENT): the layer file went away while it was being pushed` });
  });

  it('gives the answer of a server that refuses mid-upload, and of one that vanishes an error', async () => {
    const p = file('big', randomBytes(8 * 1024 * 1024));
    // The refusal may reach the client as the answer or as the connection's reset: never a hang.
    const refused = await put('/refuse', new FileBody(p, 8 * 1024 * 1024)).catch((e: Error) => e);
    if (typeof refused === 'number') expect(refused).toBe(413);
    else expect(refused.message).toMatch(/ECONNRESET|EPIPE|socket hang up|connection closed/);
    await expect(put('/vanish', new FileBody(p, 8 * 1024 * 1024))).rejects.toThrow(/ECONNRESET|EPIPE|socket hang up|connection closed/);
  });

  it('sends the file again to where a registry redirects its upload', async () => {
    const bytes = randomBytes(2 * 1024 * 1024 + 99);
    const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}` as Digest;
    const client = new RegistryClient(base.slice('http://'.length), { env: {} });
    await client.uploadBlob('app', digest, bytes.length, blobContent({ digest, size: bytes.length, file: file('redirected', bytes) } as Parameters<typeof blobContent>[0]));
    expect(received.get(`/stored?digest=${encodeURIComponent(digest)}`)!.equals(bytes)).toBe(true);
  });

  it('after a redirect too: exactly `size` bytes of a longer file; a shorter file is an error of its own, naming it', async () => {
    const bytes = randomBytes(300 * 1024);
    const sent = bytes.subarray(0, 200 * 1024);
    const digest = `sha256:${createHash('sha256').update(sent).digest('hex')}` as Digest;
    const client = new RegistryClient(base.slice('http://'.length), { env: {} });
    const longer = file('redirected-longer', bytes);
    await client.uploadBlob('app', digest, sent.length, blobContent({ digest, size: sent.length, file: longer } as Parameters<typeof blobContent>[0]));
    expect(received.get(`/stored?digest=${encodeURIComponent(digest)}`)!.equals(sent)).toBe(true);
    const shorter = file('redirected-shorter', bytes.subarray(0, 1000));
    const e = await client.uploadBlob('app', digest, sent.length, blobContent({ digest, size: sent.length, file: shorter } as Parameters<typeof blobContent>[0])).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(OsvError);
    expect(e).toMatchObject({ code: 'push.blob-changed', message: `${shorter} ended after 1000 of ${sent.length} bytes: the layer file changed while it was being pushed` });
  });

  it('an upload answered by a redirect that changes the method (303) is refused, the file not sent again', async () => {
    const bytes = randomBytes(64 * 1024);
    const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}` as Digest;
    const client = new RegistryClient(base.slice('http://'.length), { env: {} });
    const e = await client.uploadBlob('see-other', digest, bytes.length, blobContent({ digest, size: bytes.length, file: file('see-other', bytes) } as Parameters<typeof blobContent>[0])).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(OsvError);
    expect((e as OsvError).code).toBe('oci.push-failed');
    expect((e as OsvError).message).toContain('the registry refused the push (303)');
    expect(received.has(`/stored?digest=${encodeURIComponent(digest)}`)).toBe(false);
  });

  it('as a stream (for an injected fetch): exactly `size` bytes, none for an empty body', async () => {
    const bytes = randomBytes(3 * 1024 * 1024 + 7);
    const read = async (b: FileBody): Promise<Buffer> => {
      const chunks: Buffer[] = [];
      for await (const c of b.stream()) chunks.push(Buffer.from(c as Uint8Array));
      return Buffer.concat(chunks);
    };
    expect((await read(new FileBody(file('stream', bytes), bytes.length - 7))).equals(bytes.subarray(0, bytes.length - 7))).toBe(true);
    expect((await read(new FileBody(file('stream-empty', Buffer.alloc(0)), 0))).length).toBe(0);
  });

});

describe('redirects, followed as fetch follows them', () => {
  /** Two servers (two origins) that note what each request carried, and answer by path. */
  const seen: Array<{ at: string; method: string; auth: string | undefined; body: string }> = [];
  const servers: Server[] = [];
  const origin: string[] = [];
  beforeAll(async () => {
    for (let n = 0; n < 2; n++) {
      const s = createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          seen.push({ at: `${n}${req.url}`, method: req.method!, auth: req.headers.authorization, body: Buffer.concat(chunks).toString() });
          const m = /^\/(\d{3})\/(.*)$/.exec(req.url!);
          // /307/1/x: answer 307 with location origin[1]/x; /loop: forever to itself.
          if (req.url === '/loop') res.writeHead(307, { location: '/loop' }).end();
          else if (m) {
            const [to, ...rest] = m[2]!.split('/');
            res.writeHead(Number(m[1]), { location: `${to === 'same' ? '' : origin[Number(to)]}/${rest.join('/')}` }).end();
          } else res.writeHead(201).end('stored');
        });
      });
      await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
      servers.push(s);
      origin.push(`http://127.0.0.1:${(s.address() as AddressInfo).port}`);
    }
  });
  afterAll(async () => {
    for (const s of servers) {
      s.closeAllConnections();
      await new Promise((r) => s.close(r));
    }
  });
  const body = (): string => 'the body';

  it('307 and 308, and 301 and 302 of a PUT: the same method and body; Authorization only to the same origin', async () => {
    for (const status of [307, 308, 301, 302]) {
      seen.length = 0;
      const res = await nodeRequestFollowing(`${origin[0]}/${status}/same/${status}/1/end`, 'PUT', { authorization: 'Bearer secret' }, body);
      expect(res.status).toBe(201);
      expect(seen).toEqual([
        { at: `0/${status}/same/${status}/1/end`, method: 'PUT', auth: 'Bearer secret', body: 'the body' },
        { at: `0/${status}/1/end`, method: 'PUT', auth: 'Bearer secret', body: 'the body' },
        { at: '1/end', method: 'PUT', auth: undefined, body: 'the body' },
      ]);
    }
  });

  it('303 of a PUT, 301 and 302 of a POST: followed as a GET without the body or its headers; 303 of a GET stays a GET', async () => {
    for (const [status, method] of [[303, 'PUT'], [301, 'POST'], [302, 'POST'], [303, 'GET']] as const) {
      seen.length = 0;
      const bodyHeaders: Record<string, string> = method === 'GET' ? {} : { 'content-type': 'text/plain', 'content-length': '8' };
      const res = await nodeRequestFollowing(`${origin[0]}/${status}/same/end`, method, { authorization: 'Bearer secret', ...bodyHeaders }, method === 'GET' ? undefined : body);
      expect(res.status).toBe(201);
      expect(seen).toEqual([
        { at: `0/${status}/same/end`, method, auth: 'Bearer secret', body: method === 'GET' ? '' : 'the body' },
        { at: '0/end', method: 'GET', auth: 'Bearer secret', body: '' },
      ]);
      await res.body?.cancel();
    }
  });

  it('a redirect without a location is the answer', async () => {
    const s = createServer((_req, res) => res.writeHead(302).end());
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    try {
      const res = await nodeRequestFollowing(`http://127.0.0.1:${(s.address() as AddressInfo).port}/x`, 'GET', {}, undefined);
      expect(res.status).toBe(302);
      await res.body?.cancel();
    } finally {
      s.closeAllConnections();
      await new Promise((r) => s.close(r));
    }
  });

  it(`gives up after ${MAX_REDIRECTS} redirects, and refuses one to a URL that is not HTTP`, async () => {
    seen.length = 0;
    await expect(nodeRequestFollowing(`${origin[0]}/loop`, 'PUT', {}, body)).rejects.toThrow(`more than ${MAX_REDIRECTS} redirects from ${origin[0]}/loop`);
    expect(seen.length).toBe(MAX_REDIRECTS + 1);
    const s = createServer((_req, res) => res.writeHead(307, { location: 'file:///etc/passwd' }).end());
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    try {
      await expect(nodeRequestFollowing(`http://127.0.0.1:${(s.address() as AddressInfo).port}/x`, 'PUT', {}, body)).rejects.toThrow('a redirect to file:///etc/passwd, not an HTTP URL');
    } finally {
      s.closeAllConnections();
      await new Promise((r) => s.close(r));
    }
  });
});
