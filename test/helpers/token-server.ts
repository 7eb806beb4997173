// A token server for docker-registry's own `auth: token` (the registry checks every request's
// Bearer token itself): node:http, in the test's process, issuing RS256 JWTs signed with a key
// whose self-signed certificate (made with openssl) is the registry's rootcertbundle; the
// certificate goes in each token's x5c header. It grants the scopes asked for to user:password
// given as Basic credentials, nothing to anyone else (the registry then refuses). Every token
// request's scopes are recorded.

import { execFileSync } from 'node:child_process';
import { randomBytes, sign, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { freePort } from './registry.js';

export interface TokenServer {
  /** What the registry's `auth: token` section needs. */
  auth: { realm: string; service: string; issuer: string; rootcertbundle: string };
  /** The scopes of each token request, and whether its credentials were good. */
  requests: Array<{ scopes: string[]; granted: boolean }>;
  stop(): Promise<void>;
}

const b64url = (b: Buffer | string): string => Buffer.from(b).toString('base64url');

export async function startTokenServer(dir: string, user: string, password: string): Promise<TokenServer> {
  const key = join(dir, 'token-key.pem');
  const cert = join(dir, 'token-cert.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=osv-up test token issuer'], { stdio: 'ignore' });
  const privateKey = readFileSync(key);
  const x5c = new X509Certificate(readFileSync(cert)).raw.toString('base64');
  const port = await freePort();
  const auth = { realm: `http://127.0.0.1:${port}/token`, service: 'osv-up-test-registry', issuer: 'osv-up-test-issuer', rootcertbundle: cert };
  const requests: TokenServer['requests'] = [];
  const good = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', auth.realm);
    const scopes = url.searchParams.getAll('scope');
    const granted = req.headers['authorization'] === good;
    requests.push({ scopes, granted });
    const now = Math.floor(Date.now() / 1000);
    const access = granted
      ? scopes.flatMap((s) => {
          const m = /^repository:([^:]+):(.+)$/.exec(s);
          return m ? [{ type: 'repository', name: m[1]!, actions: m[2]!.split(',') }] : [];
        })
      : [];
    const header = b64url(JSON.stringify({ typ: 'JWT', alg: 'RS256', x5c: [x5c] }));
    const claims = b64url(JSON.stringify({ iss: auth.issuer, sub: granted ? user : '', aud: auth.service, exp: now + 300, nbf: now - 10, iat: now, jti: randomBytes(8).toString('hex'), access }));
    const signature = b64url(sign('sha256', Buffer.from(`${header}.${claims}`), privateKey));
    const token = `${header}.${claims}.${signature}`;
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token, access_token: token, expires_in: 300 }));
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return {
    auth,
    requests,
    stop: async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}
