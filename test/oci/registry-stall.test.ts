// A registry that stops answering: a plain TCP server in this process that accepts a request and
// then goes silent, before the answer's head, in the middle of its body, or while a blob is being
// uploaded to it. Pulls (through fetch) and pushes (through node:http) both give up after
// OSV_REGISTRY_TIMEOUT seconds with an error that names the registry, instead of waiting for
// fetch's five-minute defaults or, for a push, forever.

import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Digest } from '../../src/oci/digest.js';
import { idleLimitMs } from '../../src/oci/idle.js';
import { RegistryClient } from '../../src/oci/registry.js';
import { osvFailure as failure } from '../helpers/failure.js';
import { runOsvAsync } from '../helpers/osv.js';

const DIGEST = `sha256:${'ab'.repeat(32)}` as Digest;

type Behaviour = (sock: Socket, request: string) => void;

let servers: Server[] = [];
afterEach(() => {
  for (const s of servers) s.close();
  servers = [];
});

/** A server that reads a request's head and then does what `on` says (usually: nothing more). */
async function stallingRegistry(on: Behaviour): Promise<{ host: string; sockets: Socket[] }> {
  const sockets: Socket[] = [];
  const srv = createServer((sock) => {
    sockets.push(sock);
    sock.on('error', () => undefined);
    let head = '';
    let answered = false;
    sock.on('data', (d: Buffer) => {
      if (answered) return;
      head += d.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      answered = true;
      on(sock, head);
    });
  });
  srv.on('connection', (s) => srv.once('close', () => s.destroy()));
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  servers.push(srv);
  return { host: `127.0.0.1:${(srv.address() as { port: number }).port}`, sockets };
}

const silent: Behaviour = () => undefined;
const halfAManifest: Behaviour = (sock) => sock.write('HTTP/1.1 200 OK\r\ncontent-type: application/vnd.oci.image.manifest.v1+json\r\ncontent-length: 4000\r\n\r\n{"schemaVersion":');

const client = (host: string, seconds = '0.4'): RegistryClient => new RegistryClient(host, { env: { OSV_REGISTRY_TIMEOUT: seconds } });

async function timed<T>(p: Promise<T>): Promise<{ ms: number; value: T }> {
  const t = performance.now();
  const value = await p;
  return { ms: performance.now() - t, value };
}

describe('a registry that goes silent', () => {
  it('before answering a pull: the request gives up after the idle limit, naming the registry and the request', async () => {
    const reg = await stallingRegistry(silent);
    const { ms, value: e } = await timed(failure(client(reg.host).getManifest('team/app', '1')));
    expect(e.code).toBe('oci.timeout');
    expect(e.message).toBe(`the registry ${reg.host} sent nothing for 0.4 s (GET /v2/team/app/manifests/1); gave up`);
    expect(e.hint).toContain('OSV_REGISTRY_TIMEOUT');
    expect(ms).toBeGreaterThanOrEqual(350);
    expect(ms).toBeLessThan(5000);
  });

  it('in the middle of an answer: reading the body fails the same way', async () => {
    const reg = await stallingRegistry(halfAManifest);
    const e = await failure(client(reg.host).getManifest('team/app', '1'));
    expect(e.code).toBe('oci.timeout');
    expect(e.message).toContain('(GET /v2/team/app/manifests/1)');
  });

  it('in the middle of a blob download: the stream fails with the error', async () => {
    const reg = await stallingRegistry((sock) => sock.write(`HTTP/1.1 200 OK\r\ncontent-length: 100000\r\n\r\n${'x'.repeat(5000)}`));
    const blob = await client(reg.host).getBlob('team/app', DIGEST);
    let got = 0;
    const e = await failure(
      (async () => {
        for await (const c of blob) got += c.length;
      })(),
    );
    expect(got).toBe(5000);
    expect(e.code).toBe('oci.timeout');
    expect(e.message).toContain(`(GET /v2/team/app/blobs/${DIGEST})`);
  });

  it('data that keeps coming, however slowly, is not a stall', async () => {
    // 6 chunks 150 ms apart: 750 ms in all, past the 400 ms limit, but never silent that long.
    const reg = await stallingRegistry((sock) => {
      sock.write('HTTP/1.1 200 OK\r\ncontent-length: 6\r\n\r\n');
      let n = 0;
      const t = setInterval(() => {
        sock.write('x');
        if (++n === 6) clearInterval(t);
      }, 150);
    });
    const blob = await client(reg.host).getBlob('team/app', DIGEST);
    let got = 0;
    for await (const c of blob) got += c.length;
    expect(got).toBe(6);
  });

  it('an interrupt (Ctrl-C) still ends a pull that waits, as an interruption, not a stall', async () => {
    const reg = await stallingRegistry(silent);
    const stop = new AbortController();
    const c = new RegistryClient(reg.host, { env: { OSV_REGISTRY_TIMEOUT: '30' }, signal: stop.signal });
    setTimeout(() => stop.abort(), 100);
    const { ms, value: e } = await timed(failure(c.getManifest('team/app', '1')));
    expect(e.code).toBe('oci.interrupted');
    expect(ms).toBeLessThan(5000);
  });

  it('a push whose request gets no answer (node:http) gives up too', async () => {
    const reg = await stallingRegistry(silent);
    const e = await failure(client(reg.host).hasBlob('team/app', DIGEST));
    expect(e.code).toBe('oci.timeout');
    expect(e.message).toBe(`the registry ${reg.host} sent nothing for 0.4 s (HEAD /v2/team/app/blobs/${DIGEST}); gave up`);
  });

  it('an upload the registry stops reading, or reads whole and never answers, gives up', async () => {
    for (const reads of [false, true]) {
      const reg = await stallingRegistry((sock, head) => {
        if (head.startsWith('POST ')) sock.write(`HTTP/1.1 202 Accepted\r\nlocation: /v2/team/app/blobs/uploads/u1\r\ncontent-length: 0\r\n\r\n`);
        // The PUT: read it all (then say nothing), or stop reading so that the sender's buffers fill.
        else if (reads) sock.resume();
        else sock.pause();
      });
      // Enough to fill the buffers of a registry that stops reading; 4 MiB read whole add 0.25 s to the wait.
      const size = (reads ? 4 : 64) * 2 ** 20;
      const body = Buffer.alloc(size, 1);
      const { ms, value: e } = await timed(failure(client(reg.host).uploadBlob('team/app', DIGEST, size, () => body)));
      expect(e.code, `reads: ${reads}`).toBe('oci.timeout');
      expect(e.message).toContain(reads ? 'sent nothing for 0.65 s (PUT /v2/team/app/blobs/uploads/u1)' : 'sent nothing for 0.4 s (PUT /v2/team/app/blobs/uploads/u1)');
      expect(ms).toBeLessThan(10_000);
    }
  });

  it('an upload read whole is given longer for its answer, the longer the larger (a registry stores the blob first)', async () => {
    // The idle limit is 0.4 s; 16 MiB add 1 s. The registry answers 1 s after the last byte.
    const size = 16 * 2 ** 20;
    const reg = await stallingRegistry((sock, head) => {
      if (head.startsWith('POST ')) return void sock.write(`HTTP/1.1 202 Accepted\r\nlocation: /v2/team/app/blobs/uploads/u1\r\ncontent-length: 0\r\n\r\n`);
      let got = head.length - (head.indexOf('\r\n\r\n') + 4);
      const answerLater = (): void => void setTimeout(() => sock.write('HTTP/1.1 201 Created\r\ncontent-length: 0\r\n\r\n'), 1000);
      if (got >= size) return answerLater();
      sock.on('data', (d: Buffer) => {
        got += d.length;
        if (got >= size && got - d.length < size) answerLater();
      });
    });
    const { ms } = await timed(client(reg.host).uploadBlob('team/app', DIGEST, size, () => Buffer.alloc(size, 1)));
    expect(ms).toBeGreaterThan(1000);
  });
});

describe('OSV_REGISTRY_TIMEOUT', () => {
  it('defaults to 60 s; takes seconds, fractions too', () => {
    expect(idleLimitMs({})).toBe(60_000);
    expect(idleLimitMs({ OSV_REGISTRY_TIMEOUT: '' })).toBe(60_000);
    expect(idleLimitMs({ OSV_REGISTRY_TIMEOUT: '300' })).toBe(300_000);
    expect(idleLimitMs({ OSV_REGISTRY_TIMEOUT: '2.5' })).toBe(2500);
  });

  it('refuses what is not a number of seconds Node can wait, naming the variable', () => {
    for (const v of ['abc', '-1', '0', '1e3', '5s', '2147484', '0.0001']) {
      let thrown: unknown;
      try {
        idleLimitMs({ OSV_REGISTRY_TIMEOUT: v });
      } catch (e) {
        thrown = e;
      }
      expect(thrown, v).toMatchObject({ code: 'oci.bad-timeout', exitCode: 2 });
      expect((thrown as Error).message).toContain(`OSV_REGISTRY_TIMEOUT=${JSON.stringify(v)}`);
    }
  });
});

describe('osv pull from a registry that goes silent (the command as a process)', () => {
  it('exits 3 after the idle limit with one line naming the registry, not a stack trace', async () => {
    const reg = await stallingRegistry(silent);
    const home = mkdtempSync(join(tmpdir(), 'osv-stall-'));
    try {
      const env = { PATH: process.env['PATH'], HOME: home, XDG_CACHE_HOME: join(home, 'cache'), OSV_REGISTRY_TIMEOUT: '0.5' };
      const r = await runOsvAsync(['pull', `${reg.host}/team/app:1`], { cwd: home, env, timeout: 30_000 });
      expect(r.signal).toBeNull();
      expect(r.code, r.out).toBe(3);
      expect(r.stderr).toContain(`the registry ${reg.host} sent nothing for 0.5 s (HEAD /v2/team/app/manifests/1); gave up`);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      const bad = await runOsvAsync(['pull', `${reg.host}/team/app:1`], { cwd: home, env: { ...env, OSV_REGISTRY_TIMEOUT: 'soon' }, timeout: 30_000 });
      expect(bad.code, bad.out).toBe(2);
      expect(bad.stderr).toContain('OSV_REGISTRY_TIMEOUT="soon" is not a number of seconds');
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
});
