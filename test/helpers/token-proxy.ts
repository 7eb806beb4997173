// A small Bearer-token front for the test registry, run in-process: /token hands out tokens
// (for user:password, or anonymously for repositories under public/), /v2/ answers 401 with a
// Bearer challenge until a token for the repository comes with the request, then proxies to
// the registry. Blob GETs are redirected to a second origin (a "CDN") that proxies too, and
// records whether an Authorization header followed the redirect there; it can corrupt or slow
// a blob on request. Every request is counted, so tests can tell that a build used no network.
// With `tls`, the CDN is served over HTTPS with that key and certificate, and so is the token
// service (the challenge's realm points there): what a client must trust comes from a CA.

import { randomBytes } from 'node:crypto';
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { freePort, type Registry } from './registry.js';

export interface TokenProxy {
  host: string;
  /** Every request the front and the CDN saw: "METHOD path". */
  requests: string[];
  /** Requests that reached the CDN with an Authorization header (must stay 0). */
  cdnAuthorized: number;
  /** Blob digests whose bytes the CDN corrupts. */
  corrupt: Set<string>;
  /** Milliseconds the CDN waits between 64 KiB pieces of a blob (0: none). */
  slowMs: number;
  stop(): Promise<void>;
}

/**
 * Send a request on to the registry and its answer back. `host`: the Host the registry sees (by
 * default its own), from which it makes the Location of an upload session.
 */
export function forward(reg: Registry, req: IncomingMessage, res: ServerResponse, opts: { transform?: (chunk: Buffer) => Buffer; delay?: number; host?: string } = {}): void {
  const { transform, delay = 0 } = opts;
  const headers = { ...req.headers };
  delete headers['authorization'];
  headers['host'] = opts.host ?? reg.host;
  const up = request({ host: '127.0.0.1', port: reg.port, method: req.method, path: req.url, headers }, async (r) => {
    res.writeHead(r.statusCode ?? 502, r.headers);
    for await (const c of r) {
      let chunk = c as Buffer;
      for (let i = 0; i < chunk.length; i += 65536) {
        const piece = chunk.subarray(i, i + 65536);
        if (delay > 0) await new Promise((ok) => setTimeout(ok, delay));
        if (!res.write(transform ? transform(piece) : piece)) await new Promise((ok) => res.once('drain', ok));
      }
      chunk = Buffer.alloc(0);
    }
    res.end();
  });
  up.on('error', () => res.destroy());
  req.pipe(up);
}

export async function startTokenProxy(reg: Registry, user: string, password: string, opts: { tls?: { key: Buffer; cert: Buffer } } = {}): Promise<TokenProxy> {
  const port = await freePort();
  const cdnPort = await freePort();
  const tokens = new Map<string, Set<string>>();
  const p: TokenProxy = { host: `127.0.0.1:${port}`, requests: [], cdnAuthorized: 0, corrupt: new Set(), slowMs: 0, stop: async () => undefined };
  const cdnOrigin = `${opts.tls ? 'https' : 'http'}://127.0.0.1:${cdnPort}`;
  const realm = opts.tls ? `${cdnOrigin}/token` : `http://127.0.0.1:${port}/token`;

  /** Answers a request for /token; false for any other path. */
  const serveToken = (req: IncomingMessage, res: ServerResponse): boolean => {
    const url = new URL(req.url ?? '/', realm);
    if (url.pathname !== '/token') return false;
    const auth = req.headers['authorization'];
    const good = auth === `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
    if (auth !== undefined && !good) {
      res.writeHead(401, { 'content-type': 'application/json' }).end('{"details":"incorrect username or password"}');
      return true;
    }
    const granted = new Set<string>();
    for (const scope of url.searchParams.getAll('scope')) {
      const name = scope.split(':')[1] ?? '';
      if (good || name.startsWith('public/')) granted.add(name);
    }
    const issued = randomBytes(16).toString('hex');
    tokens.set(issued, granted);
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token: issued, access_token: issued, expires_in: 300 }));
    return true;
  };

  const front: Server = createServer((req, res) => {
    p.requests.push(`${req.method} ${req.url}`);
    if (serveToken(req, res)) return;
    const url = new URL(req.url ?? '/', `http://127.0.0.1:${port}`);
    const m = /^\/v2\/(.+?)\/(manifests|blobs|tags)\//.exec(url.pathname);
    const name = m?.[1] ?? '';
    const bearer = /^Bearer (.+)$/.exec(req.headers['authorization'] ?? '')?.[1];
    const allowed = bearer !== undefined && (url.pathname === '/v2/' || tokens.get(bearer)?.has(name) === true);
    if (!allowed) {
      const scope = m ? `,scope="repository:${name}:pull"` : '';
      res.writeHead(401, { 'www-authenticate': `Bearer realm="${realm}",service="test-registry"${scope}`, 'content-type': 'application/json' });
      res.end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] }));
      return;
    }
    if (m?.[2] === 'blobs' && req.method === 'GET') {
      res.writeHead(307, { location: `${cdnOrigin}${req.url}` }).end();
      return;
    }
    forward(reg, req, res);
  });
  const cdnHandler = (req: IncomingMessage, res: ServerResponse): void => {
    p.requests.push(`CDN ${req.method} ${req.url}`);
    if (opts.tls && serveToken(req, res)) return;
    if (req.headers['authorization'] !== undefined) p.cdnAuthorized++;
    const digest = /blobs\/(sha256:[0-9a-f]{64})/.exec(req.url ?? '')?.[1] ?? '';
    const corrupt = p.corrupt.has(digest);
    let flipped = false;
    const transform = corrupt
      ? (c: Buffer): Buffer => {
          if (flipped || c.length < 100) return c;
          flipped = true;
          const b = Buffer.from(c);
          b[50] = b[50]! ^ 0xff;
          return b;
        }
      : undefined;
    forward(reg, req, res, { ...(transform ? { transform } : {}), delay: p.slowMs });
  };
  const cdn: Server = opts.tls ? createHttpsServer({ key: opts.tls.key, cert: opts.tls.cert }, cdnHandler) : createServer(cdnHandler);
  await new Promise<void>((r) => front.listen(port, '127.0.0.1', r));
  await new Promise<void>((r) => cdn.listen(cdnPort, '127.0.0.1', r));
  p.stop = async () => {
    front.closeAllConnections();
    cdn.closeAllConnections();
    await Promise.all([new Promise((r) => front.close(r)), new Promise((r) => cdn.close(r))]);
  };
  return p;
}
