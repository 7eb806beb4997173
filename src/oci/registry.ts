// A client for the registry API (distribution-spec): manifests and blobs by repository, with
// the authentication a registry asks for. Every request goes through `send`, which answers a
// 401 challenge once (Basic, or a Bearer token for the scope asked) and keeps tokens until
// they expire; so that pushing (blob uploads, manifest PUTs) can be added beside pulling by
// asking for the `push` action. HTTPS, except plain HTTP for localhost and loopback addresses.
// Credentials go into request headers only: never into an error, a log line or a URL.
// Requests with the push scope go over node:http (node-transport.ts), the others through fetch
// (unless they must trust a deferred CA bundle, which fetch cannot be given: src/net/trust.ts).

import { ExitCode, OsvError } from '../diagnostics/error.js';
import { basicHeader, findCredential, parseChallenge, type Credential } from './auth.js';
import { isDigest, sha256Digest, type Digest } from './digest.js';
import { MANIFEST_ACCEPT } from './manifest.js';
import { FileBody } from './file-body.js';
import { answerWaitMs, IdleWatch, idleLimitMs, stalledError } from './idle.js';
import { nodeRequestFollowing, type Answer, type AnswerBody, type NodeBody } from './node-transport.js';
import { apiHost, isPlainHttpHost } from './reference.js';
import { networkReason } from '../net/failure.js';
import { certificateHint, deferredCaFile } from '../net/trust.js';
import { toolVersion } from '../version.js';

export type Action = 'pull' | 'push';

/** A request body; a function makes a fresh one for each attempt. */
export type RequestBody = string | Buffer | (() => NonNullable<RequestInit['body']>);

export interface RegistryOptions {
  env?: NodeJS.ProcessEnv;
  /** For tests: another fetch. */
  fetch?: typeof fetch;
  signal?: AbortSignal;
}

interface Token {
  value: string;
  expires: number;
}

export interface FetchedManifest {
  bytes: Buffer;
  /** Content-Type as the registry sent it. */
  mediaType: string;
  digest: Digest;
}

export class RegistryClient {
  readonly base: string;
  /** Looked up once, at the first need; requests that need it at once share the lookup (a credential helper is a process). */
  private credential: Promise<Credential | undefined> | undefined;
  private readonly tokens = new Map<string, Token>();
  private readonly tokenFetches = new Map<string, Promise<void>>();
  /** The scheme the registry asked for last (Basic registries get the header up front). */
  private basic = false;
  private readonly fetch: typeof fetch;
  /** How long a request may go without the registry sending anything (read at the first request). */
  private idleMs: number | undefined;

  constructor(
    /** As references name it: docker.io, ghcr.io, 127.0.0.1:5000. */
    readonly registry: string,
    private readonly opts: RegistryOptions = {},
  ) {
    this.base = `${isPlainHttpHost(registry) ? 'http' : 'https'}://${apiHost(registry)}/v2/`;
    this.fetch = opts.fetch ?? globalThis.fetch;
  }

  /** HEAD a manifest: its digest and media type without counting as a pull on Docker Hub. */
  async headManifest(repo: string, ref: string): Promise<{ digest?: Digest; mediaType: string }> {
    const res = await this.send(repo, ['pull'], 'HEAD', `${repo}/manifests/${ref}`, { accept: MANIFEST_ACCEPT });
    await this.expectOk(res, `${this.registry}/${repo}:${ref}`, 'manifest');
    const d = res.headers.get('docker-content-digest') ?? undefined;
    return { ...(isDigest(d) ? { digest: d } : {}), mediaType: (res.headers.get('content-type') ?? '').split(';')[0]!.trim() };
  }

  /** GET a manifest; by digest it must hash to it, and Docker-Content-Digest must agree. */
  async getManifest(repo: string, ref: string): Promise<FetchedManifest> {
    const what = `${this.registry}/${repo}${isDigest(ref) ? '@' : ':'}${ref}`;
    const res = await this.send(repo, ['pull'], 'GET', `${repo}/manifests/${ref}`, { accept: MANIFEST_ACCEPT });
    await this.expectOk(res, what, 'manifest');
    const bytes = await readLimited(res, 4 * 2 ** 20);
    if (!bytes) throw registryError('oci.bad-manifest', `${what}: the manifest is larger than 4 MiB`, 'the registry is broken or hostile');
    const digest = sha256Digest(bytes);
    if (isDigest(ref) && digest !== ref) throw registryError('oci.digest-mismatch', `${what}: the registry sent a manifest whose sha256 is ${digest}`, 'the registry is broken or the connection was tampered with');
    const header = res.headers.get('docker-content-digest');
    if (isDigest(header) && header !== digest) throw registryError('oci.digest-mismatch', `${what}: Docker-Content-Digest says ${header}, the bytes hash to ${digest}`, 'the registry is broken or the connection was tampered with');
    return { bytes, mediaType: (res.headers.get('content-type') ?? '').split(';')[0]!.trim(), digest };
  }

  /** A blob as a byte stream (redirects to a CDN followed; Authorization is not sent there). */
  async getBlob(repo: string, digest: Digest): Promise<AsyncIterable<Buffer>> {
    const res = await this.send(repo, ['pull'], 'GET', `${repo}/blobs/${digest}`, {});
    await this.expectOk(res, `${this.registry}/${repo}@${digest}`, 'blob');
    if (!res.body) throw registryError('oci.pull-failed', `${this.registry}/${repo}@${digest}: the blob response has no body`);
    return res.body as AsyncIterable<Buffer>;
  }

  // ---- pushing (distribution-spec: blobs first, HEAD to skip, mount across repositories) ----

  /**
   * Connect and authenticate for pushing to `repo` ahead of the first real request (GET /v2/
   * with the push scope), so that this overlaps with other work. Failures are left for the real
   * requests to report.
   */
  async prepare(repo: string): Promise<void> {
    try {
      const res = await this.send(repo, ['pull', 'push'], 'GET', '', {});
      await res.body?.cancel();
    } catch {
      // reported by the request that needs it
    }
  }

  /** Whether the repository has the blob already (HEAD). */
  async hasBlob(repo: string, digest: Digest): Promise<boolean> {
    const res = await this.send(repo, ['pull', 'push'], 'HEAD', `${repo}/blobs/${digest}`, {});
    await res.body?.cancel();
    if (res.status === 404) return false;
    if (res.ok) return true;
    await this.expectOk(res, `${this.registry}/${repo}@${digest}`, 'blob');
    return false;
  }

  /** Mount a blob from another repository of the same registry: true when mounted (201). */
  async mountBlob(repo: string, digest: Digest, from: string): Promise<boolean> {
    const res = await this.send(repo, ['pull', 'push'], 'POST', `${repo}/blobs/uploads/?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(from)}`, { 'content-length': '0' }, undefined, [`repository:${from}:pull`]);
    await res.body?.cancel();
    if (res.status === 201) return true;
    if (res.status === 202) {
      // Not mounted: the registry opened an upload session instead; close it.
      const loc = res.headers.get('location');
      if (loc) await this.cancelUpload(repo, new URL(loc, this.base));
      return false;
    }
    await this.expectOk(res, `${this.registry}/${repo}@${digest} (mount from ${from})`, 'upload');
    return false;
  }

  /** Upload a blob in one PUT (POST for a session, then PUT with the digest). */
  async uploadBlob(repo: string, digest: Digest, size: number, open: () => AsyncIterable<Uint8Array> | Buffer | FileBody): Promise<void> {
    const session = await this.startUpload(repo, digest);
    if (session) await this.finishUpload(repo, digest, size, open, session);
  }

  /** Open an upload session (POST): where to send the blob, or undefined when the registry answered 201. */
  async startUpload(repo: string, digest: Digest): Promise<URL | undefined> {
    const what = `${this.registry}/${repo}@${digest}`;
    const start = await this.send(repo, ['pull', 'push'], 'POST', `${repo}/blobs/uploads/`, { 'content-length': '0' });
    if (start.status !== 202 && start.status !== 201) await this.expectOk(start, what, 'upload');
    await start.body?.cancel();
    if (start.status === 201) return undefined;
    const loc = start.headers.get('location');
    if (!loc) throw registryError('oci.push-failed', `${what}: the registry started an upload without saying where to send it (no Location)`);
    return new URL(loc, this.base);
  }

  /** Close an upload session that is not needed after all (DELETE; a failure is left to the registry's clean-up). */
  async cancelUpload(repo: string, session: URL): Promise<void> {
    await this.send(repo, ['pull', 'push'], 'DELETE', session.toString(), {}).then((r) => r.body?.cancel(), () => undefined);
  }

  /** Send the blob into a session from startUpload, in one PUT with its digest. */
  async finishUpload(repo: string, digest: Digest, size: number, open: () => AsyncIterable<Uint8Array> | Buffer | FileBody, session: URL): Promise<void> {
    const what = `${this.registry}/${repo}@${digest}`;
    const url = new URL(session);
    url.searchParams.set('digest', digest);
    const headers = { 'content-type': 'application/octet-stream', 'content-length': String(size) };
    const res = await this.send(repo, ['pull', 'push'], 'PUT', url.toString(), headers, () => open() as NonNullable<RequestInit['body']>);
    if (res.status !== 201 && res.status !== 204) {
      await this.expectOk(res, what, 'upload');
      await res.body?.cancel();
      throw registryError('oci.push-failed', `${what}: the registry answered ${res.status} to the upload (201 expected)`);
    }
    await res.body?.cancel();
    const got = res.headers.get('docker-content-digest');
    if (isDigest(got) && got !== digest) throw registryError('oci.digest-mismatch', `${what}: the registry stored the blob as ${got}`, 'the registry is broken or the connection was tampered with');
  }

  /** PUT a manifest under a tag; returns the digest the registry answers (checked against the bytes). */
  async putManifest(repo: string, ref: string, bytes: Buffer, mediaType: string): Promise<Digest> {
    const what = `${this.registry}/${repo}:${ref}`;
    const res = await this.send(repo, ['pull', 'push'], 'PUT', `${repo}/manifests/${ref}`, { 'content-type': mediaType }, bytes);
    if (!res.ok) await this.expectOk(res, what, 'manifest');
    await res.body?.cancel();
    const digest = sha256Digest(bytes);
    const got = res.headers.get('docker-content-digest');
    if (isDigest(got) && got !== digest) throw registryError('oci.digest-mismatch', `${what}: the registry answered the digest ${got}, the manifest's bytes hash to ${digest}`, 'the registry rewrote the manifest; it cannot be pinned');
    return digest;
  }

  // ---- transport and authentication ----

  private credentialFor(): Promise<Credential | undefined> {
    this.credential ??= findCredential(this.registry, this.opts.env ?? process.env);
    return this.credential;
  }

  private scopeKey(repo: string, actions: Action[]): string {
    return `repository:${repo}:${actions.join(',')}`;
  }

  /**
   * One request, with the authentication the registry asks for. `path` is under /v2/, or a full
   * URL (an upload's Location). A body that is a function is made anew for a retry (a stream
   * cannot be sent twice). `also` adds scopes (a cross-repository mount needs pull on the source).
   */
  async send(repo: string, actions: Action[], method: string, path: string, headers: Record<string, string>, body?: RequestBody, also: string[] = []): Promise<Answer> {
    const url = /^https?:/.test(path) ? path : this.base + path;
    const viaNode = !this.opts.fetch && actions.includes('push');
    const scopes = [this.scopeKey(repo, actions), ...also];
    const scope = scopes.join(' ');
    const auth = (): Promise<string | undefined> => this.authFor(scope);
    const sent = await authHeader(auth);
    let res = await this.request(method, url, { ...headers, ...sent }, body, viaNode);
    if (res.status === 401) {
      const challenge = parseChallenge(res.headers.get('www-authenticate') ?? '');
      await res.body?.cancel();
      // Requests sent at once meet the challenge at once (a push's first HEADs and POSTs): one
      // token for them all, and none for a request whose token came while it was on its way
      // (but a new one for a request whose token has expired meanwhile).
      if (challenge?.scheme === 'bearer') {
        const now = await auth();
        if (!now?.startsWith('Bearer ') || now === sent['authorization']) await this.fetchTokenOnce(challenge.params, scopes);
      } else if (challenge?.scheme === 'basic') {
        this.basic = true;
        if (!(await this.credentialFor())) throw this.unauthorized(repo, 'it asks for a user name and password, and none is configured for it');
      } else throw this.unauthorized(repo, 'it answered 401 without a challenge osv-up understands');
      res = await this.request(method, url, { ...headers, ...(await authHeader(auth)) }, body, viaNode);
      if (res.status === 401) {
        await res.body?.cancel();
        const c = await this.credentialFor();
        throw this.unauthorized(repo, c ? `the credentials from ${c.from} were refused` : 'it needs credentials, and none are configured for it');
      }
    }
    if (res.status === 429) {
      // One polite retry when the registry says how long to wait (at most 10 s).
      const wait = Number(res.headers.get('retry-after'));
      await res.body?.cancel();
      if (Number.isFinite(wait) && wait >= 0 && wait <= 10) {
        await new Promise((r) => setTimeout(r, wait * 1000));
        res = await this.request(method, url, { ...headers, ...(await authHeader(auth)) }, body, viaNode);
      }
      if (res.status === 429) throw registryError('oci.rate-limited', `${this.registry} refuses more requests for now (429 Too Many Requests)`, 'wait and try again, or log in (Docker Hub allows more pulls to signed-in users); a cached image builds without the registry');
    }
    return res;
  }

  /** The Authorization value for a scope as things stand (a live token, or Basic once asked for). */
  private async authFor(scope: string): Promise<string | undefined> {
    const t = this.tokens.get(scope);
    if (t && t.expires > Date.now()) return `Bearer ${t.value}`;
    const c = this.basic ? await this.credentialFor() : undefined;
    return c ? basicHeader(c) : undefined;
  }

  private async request(method: string, url: string, headers: Record<string, string>, body?: RequestBody, viaNode = false): Promise<Answer> {
    try {
      const ms = (this.idleMs ??= idleLimitMs(this.opts.env ?? process.env));
      const stalled = (waited = ms): Error => stalledError(this.registry, method, url, waited);
      // With a deferred NODE_EXTRA_CA_CERTS (src/net/trust.ts), all go over node:http(s): any
      // request may be redirected to an HTTPS origin (blobs to a CDN) that must trust it.
      if (viaNode || (!this.opts.fetch && deferredCaFile() !== undefined)) {
        const all = { 'user-agent': `osv-up/${toolVersion()}`, ...headers };
        const make = body === undefined ? undefined : (): NodeBody => (typeof body === 'function' ? body() : body) as NodeBody;
        const bytes = Number(headers['content-length'] ?? 0);
        return await nodeRequestFollowing(url, method, all, make, this.opts.signal, { ms, ...(bytes > 0 ? { afterBodyMs: answerWaitMs(ms, bytes) } : {}), error: stalled });
      }
      const idle = new IdleWatch(ms, stalled, this.opts.signal);
      try {
        const res = await this.fetch(url, {
          method,
          headers: { 'user-agent': `osv-up/${toolVersion()}`, ...headers },
          redirect: 'follow',
          ...(body !== undefined ? { body: fetchBody(typeof body === 'function' ? body() : body), duplex: 'half' } : {}),
          signal: idle.signal,
        } as RequestInit);
        return watched(res, idle);
      } catch (e) {
        idle.done();
        throw e;
      }
    } catch (e) {
      if (e instanceof OsvError) throw e;
      if ((e as Error).name === 'AbortError') throw new OsvError({ code: 'oci.interrupted', message: `the ${method === 'GET' || method === 'HEAD' ? 'pull' : 'push'} was interrupted`, exitCode: ExitCode.interrupted });
      const reason = networkReason(e);
      throw registryError(
        'oci.network',
        `cannot reach the registry ${this.registry} (${new URL(url).origin}): ${reason}`,
        certificateHint(reason) ?? 'check the registry name and the network; a build whose image is in osv.lock and in the cache needs no network',
      );
    }
  }

  /** A token fetch shared by the requests that need the same one at the same time. */
  private fetchTokenOnce(params: Record<string, string>, scopes: string[]): Promise<void> {
    const extra = extraScope(params, scopes);
    const key = JSON.stringify([params['realm'], params['service'], scopes, extra]);
    let pending = this.tokenFetches.get(key);
    if (!pending) {
      pending = this.fetchToken(params, scopes, extra).finally(() => this.tokenFetches.delete(key));
      this.tokenFetches.set(key, pending);
    }
    return pending;
  }

  /** `extra`: the challenge's own scope, when `scopes` do not cover it (extraScope). */
  private async fetchToken(params: Record<string, string>, scopes: string[], extra: string | undefined): Promise<void> {
    const scope = scopes.join(' ');
    const realm = params['realm'];
    if (!realm) throw registryError('oci.unauthorized', `${this.registry} asked for a Bearer token without naming where to get one (no realm)`);
    let url: URL;
    try {
      url = new URL(realm);
    } catch {
      throw registryError('oci.unauthorized', `${this.registry} named a token realm that is not a URL`);
    }
    if (params['service']) url.searchParams.set('service', params['service']);
    // The scope we need; the challenge's own scope too when it names another.
    for (const sc of scopes) url.searchParams.append('scope', sc);
    if (extra) url.searchParams.append('scope', extra);
    const c = await this.credentialFor();
    let res: Answer;
    if (c?.identityToken) {
      const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: c.secret.reveal(), client_id: 'osv-up', scope, ...(params['service'] ? { service: params['service'] } : {}) });
      res = await this.request('POST', `${url.origin}${url.pathname}`, { 'content-type': 'application/x-www-form-urlencoded' }, form.toString());
    } else res = await this.request('GET', url.toString(), c ? { authorization: basicHeader(c) } : {});
    if (res.status === 401 || res.status === 403) {
      await res.body?.cancel();
      throw this.unauthorized(scopes[0]!.split(':')[1]!, c ? `the token service refused the credentials from ${c.from}` : 'the token service refused an anonymous token (the image is private, or does not exist)');
    }
    if (!res.ok) {
      await res.body?.cancel();
      throw registryError('oci.unauthorized', `the token service of ${this.registry} answered ${res.status}`);
    }
    const body = await readLimited(res, 1 * 2 ** 20);
    if (!body) throw registryError('oci.unauthorized', `the token service of ${this.registry} answered more than 1 MiB`);
    let j: { token?: unknown; access_token?: unknown; expires_in?: unknown };
    try {
      j = JSON.parse(body.toString('utf8')) as typeof j;
    } catch {
      throw registryError('oci.unauthorized', `the token service of ${this.registry} answered something that is not JSON`);
    }
    const token = typeof j.token === 'string' ? j.token : typeof j.access_token === 'string' ? j.access_token : undefined;
    if (!token) throw registryError('oci.unauthorized', `the token service of ${this.registry} sent no token`);
    const ttl = typeof j.expires_in === 'number' && j.expires_in > 0 ? j.expires_in : 60;
    // Renew a little early: a token that expires in flight fails the request.
    this.tokens.set(scope, { value: token, expires: Date.now() + Math.max(1, ttl - 5) * 1000 });
  }

  private unauthorized(repo: string, why: string): OsvError {
    return registryError(
      'oci.unauthorized',
      `${this.registry}/${repo}: access denied: ${why}`,
      'log in with `docker login` or `podman login` (osv-up reads ~/.docker/config.json, its credential helpers, $REGISTRY_AUTH_FILE and containers/auth.json), or check the image name',
    );
  }

  /** A non-2xx answer as an error with the registry's own error codes. */
  private async expectOk(res: Answer, what: string, kind: 'manifest' | 'blob' | 'upload'): Promise<void> {
    if (res.ok) return;
    let codes = '';
    if (res.status !== 404 || res.headers.get('content-type')?.includes('json')) {
      try {
        const body = await readLimited(res, 64 * 1024);
        codes = errorCodes(body ? JSON.parse(body.toString('utf8')) : {});
      } catch {
        codes = '';
      }
    } else await res.body?.cancel();
    if (res.status !== 403 && (kind === 'upload' || (kind === 'manifest' && res.status === 400)))
      throw registryError('oci.push-failed', `${what}: the registry refused the push (${res.status}${codes ? `, ${codes}` : ''})`);
    if (res.status === 404)
      throw registryError('oci.not-found', `${what}: not found${codes ? ` (${codes})` : ''}`, kind === 'manifest' ? 'check the repository and tag (osv-up asks for OCI and Docker v2 manifests)' : 'the registry lost a blob the manifest names; re-push the image');
    if (res.status === 403) throw registryError('oci.denied', `${what}: access denied (403${codes ? `, ${codes}` : ''})`, kind === 'upload' ? 'your credentials do not allow pushing to this repository' : 'your credentials do not allow pulling this image');

    throw registryError('oci.registry-error', `${what}: the registry answered ${res.status}${codes ? ` (${codes})` : ''}`);
  }
}

/** The registry's `{"errors":[{code,message}]}` as one line. */
function errorCodes(j: unknown): string {
  const errors = (j as { errors?: Array<{ code?: string; message?: string }> } | null)?.errors;
  return Array.isArray(errors) ? errors.map((e) => `${e.code ?? '?'}${e.message ? `: ${e.message}` : ''}`).join('; ') : '';
}

/** A response body of at most `max` bytes (undefined past it: the rest is not read). */
async function readLimited(res: Answer, max: number): Promise<Buffer | undefined> {
  if (Number(res.headers.get('content-length') ?? 0) > max) {
    await res.body?.cancel();
    return undefined;
  }
  const parts: Buffer[] = [];
  let n = 0;
  for await (const chunk of res.body ?? []) {
    n += chunk.length;
    if (n > max) {
      await res.body?.cancel().catch(() => undefined);
      return undefined;
    }
    parts.push(Buffer.from(chunk));
  }
  return Buffer.concat(parts);
}

const REPOSITORY_SCOPE = /^repository:(.+):([a-z*,]+)$/;

/**
 * The challenge's own scope when it asks for more than `scopes` do (a token must cover both);
 * undefined when they cover it, as pull,push covers the pull a HEAD's challenge names.
 */
function extraScope(params: Record<string, string>, scopes: string[]): string | undefined {
  const asked = params['scope'];
  if (!asked || scopes.includes(asked)) return undefined;
  const m = REPOSITORY_SCOPE.exec(asked);
  const covered =
    m !== null &&
    scopes.some((s) => {
      const n = REPOSITORY_SCOPE.exec(s);
      return n !== null && n[1] === m[1] && m[2]!.split(',').every((a) => n[2]!.split(',').includes(a));
    });
  return covered ? undefined : asked;
}

async function authHeader(auth: () => Promise<string | undefined>): Promise<Record<string, string>> {
  const a = await auth();
  return a ? { authorization: a } : {};
}

/** fetch's answer, its body read under the idle watch (each chunk restarts the wait; the end stops it). */
function watched(res: Response, idle: IdleWatch): Answer {
  const stream = res.body;
  if (!stream) idle.done();
  const body: AnswerBody | null = stream && {
    async *[Symbol.asyncIterator]() {
      try {
        for await (const c of stream) {
          idle.touch();
          yield Buffer.from(c.buffer, c.byteOffset, c.byteLength);
        }
      } finally {
        idle.done();
      }
    },
    cancel() {
      idle.done();
      return stream.cancel();
    },
  };
  return { status: res.status, ok: res.ok, headers: res.headers, body };
}

/** A body as fetch sends it: a file as a stream of its `size` bytes (only with an injected fetch: a push goes through node:http). */
const fetchBody = (b: NonNullable<RequestInit['body']> | string | Buffer): NonNullable<RequestInit['body']> => (b instanceof FileBody ? b.stream() : b) as NonNullable<RequestInit['body']>;

export const registryError = (code: string, message: string, hint?: string): OsvError =>
  new OsvError({ code, message, ...(hint ? { hint } : {}), exitCode: code === 'oci.not-found' || code === 'oci.unauthorized' || code === 'oci.denied' ? ExitCode.invalidInput : ExitCode.buildFailed });
