// An upload's file body through reused buffers (src/oci/file-body.ts), against a real HTTP server:
// the bytes arrive whole and in order whatever the file's size, exactly `size` of them; a short
// file, a refusal mid-upload and a server gone away end the request with an error, never a hang.

import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileBody } from '../../src/oci/file-body.js';
import { nodeRequest } from '../../src/oci/node-transport.js';
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

  it('fails on a missing file', async () => {
    await expect(put('/missing', new FileBody(join(work, 'absent'), 10))).rejects.toThrow(/ENOENT/);
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

  it('after a redirect too: exactly `size` bytes of a longer file; a shorter file is an error naming it', async () => {
    const bytes = randomBytes(300 * 1024);
    const sent = bytes.subarray(0, 200 * 1024);
    const digest = `sha256:${createHash('sha256').update(sent).digest('hex')}` as Digest;
    const client = new RegistryClient(base.slice('http://'.length), { env: {} });
    const longer = file('redirected-longer', bytes);
    await client.uploadBlob('app', digest, sent.length, blobContent({ digest, size: sent.length, file: longer } as Parameters<typeof blobContent>[0]));
    expect(received.get(`/stored?digest=${encodeURIComponent(digest)}`)!.equals(sent)).toBe(true);
    // The Blob fetch sends: the file's first `size` bytes, read as sent; a shorter file is refused.
    const blob = await new FileBody(longer, sent.length).blob();
    expect(Buffer.from(await blob.arrayBuffer()).equals(sent)).toBe(true);
    const shorter = file('redirected-shorter', bytes.subarray(0, 1000));
    await expect(new FileBody(shorter, sent.length).blob()).rejects.toThrow(`${shorter} ended after 1000 of ${sent.length} bytes`);
  });
});
