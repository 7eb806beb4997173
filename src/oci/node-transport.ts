// The registry client's requests for a push, over node:http(s) instead of fetch. fetch in Node 20
// is undici, compiled on first use (about 140 ms of CPU in `osv push`, measured with --cpu-prof:
// more than the push's own work), and it streams a file to a registry at about half the rate of
// node:http. Connections are kept alive (Node's global agents), so the login's connection serves
// the first HEAD. The answer has the shape the client reads of a fetch Response (status, ok,
// headers.get, body with cancel and async iteration). nodeRequestFollowing follows redirects as
// fetch does. HTTPS requests trust what src/net/trust.ts says (the deferred NODE_EXTRA_CA_CERTS).

import type { IncomingMessage } from 'node:http';
import * as http from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { httpsAgent } from '../net/trust.js';
import { FileBody, sendFile } from './file-body.js';

export interface AnswerBody extends AsyncIterable<Uint8Array> {
  /** Done with it: the rest is drained (small answers, so the connection is kept) or dropped. */
  cancel(): Promise<void>;
}

/** What the registry client reads of an answer (a fetch Response has this shape too). */
export interface Answer {
  status: number;
  ok: boolean;
  headers: { get(name: string): string | null };
  body: AnswerBody | null;
}

export type NodeBody = string | Uint8Array | FileBody | AsyncIterable<Uint8Array>;

/**
 * Give up once the connection has been silent both ways for `ms` (`afterBodyMs` once the whole
 * body is sent and no answer came yet): the request and its answer fail with `error(waited)`.
 */
export interface IdleLimit {
  ms: number;
  afterBodyMs?: number;
  error: (waitedMs: number) => Error;
}

/** Answers up to this size are drained on cancel (the connection stays open); larger ones are dropped. */
const DRAIN_LIMIT = 64 * 1024;

function answerOf(res: IncomingMessage, method: string): Answer {
  const status = res.statusCode ?? 0;
  // An answer is released (its socket free again, or closed) only once read to its end, even a
  // HEAD's: one left unread would keep the process alive.
  const empty = method === 'HEAD' || status === 204 || status === 304;
  const body: AnswerBody = {
    [Symbol.asyncIterator]: () => (res as AsyncIterable<Uint8Array>)[Symbol.asyncIterator](),
    cancel() {
      if (res.destroyed) return Promise.resolve();
      if (empty || res.complete || Number(res.headers['content-length'] ?? Infinity) <= DRAIN_LIMIT) res.resume();
      else res.destroy();
      return Promise.resolve();
    },
  };
  return {
    status,
    ok: status >= 200 && status < 300,
    headers: {
      get(name: string): string | null {
        const v = res.headers[name.toLowerCase()];
        return v === undefined ? null : Array.isArray(v) ? v.join(', ') : v;
      },
    },
    body,
  };
}

/**
 * One request; resolves with the answer when its head arrives (the body is read by the caller),
 * rejects on a network error, with an AbortError when `signal` fires, or with `idle.error()`
 * when the connection goes silent (then reading the answer fails with it too).
 */
export async function nodeRequest(url: string, method: string, headers: Record<string, string>, body?: NodeBody, signal?: AbortSignal, idle?: IdleLimit): Promise<Answer> {
  const target = new URL(url);
  // node:https (and TLS) only for HTTPS: compiling them costs about 50 ms of CPU, a plain-HTTP push needs neither.
  const secure = target.protocol === 'https:';
  const request = secure ? (await import('node:https')).request : http.request;
  const agent = secure ? await httpsAgent() : undefined;
  return new Promise<Answer>((resolve, reject) => {
    let answer: IncomingMessage | undefined;
    let stalled: Error | undefined;
    const req = request(target, { method, headers, ...(agent ? { agent } : {}), ...(signal ? { signal } : {}) }, (res) => {
      answer = res;
      resolve(answerOf(res, method));
    });
    req.on('error', reject);
    // The socket's own inactivity timer: reset by every read and write, and cleared when the
    // socket goes back to the keep-alive pool.
    if (idle) {
      let limit = idle.ms;
      req.setTimeout(limit, () => {
        stalled = idle.error(limit);
        answer?.destroy(stalled);
        req.destroy(stalled);
      });
      const after = idle.afterBodyMs;
      if (after !== undefined && after > limit)
        req.once('finish', () => {
          if (answer) return;
          limit = after;
          req.setTimeout(limit);
        });
    }
    if (body === undefined) req.end();
    else if (typeof body === 'string' || body instanceof Uint8Array) req.end(body);
    // A body that cannot be sent whole leaves no request half-sent on a kept-alive connection.
    else if (body instanceof FileBody)
      sendFile(body, req).catch((e: unknown) => {
        req.destroy();
        reject(stalled ?? e);
      });
    // A refusal before the whole body is sent ends the stream early: the answer tells what happened.
    else pipeline(Readable.from(body), req).catch((e: unknown) => reject(stalled ?? e));
  });
}

/** Redirects followed before giving up: as many as fetch follows. */
export const MAX_REDIRECTS = 20;

/** The headers that describe a body, dropped with it when a redirect turns the request into a GET. */
const BODY_HEADERS = new Set(['content-type', 'content-length', 'content-encoding', 'content-language', 'content-location']);

/**
 * nodeRequest, following redirects as fetch does: 307 and 308 (and 301 and 302 but of a POST)
 * keep the method and the body, which `body` makes anew for each request; 303 (and 301 and 302
 * of a POST) turn the request into a GET without its body, but for an upload of a file, whose
 * redirect is the answer (it is not sent again as something else). Authorization is not sent on
 * to another origin.
 */
export async function nodeRequestFollowing(url: string, method: string, headers: Record<string, string>, body: (() => NodeBody) | undefined, signal?: AbortSignal, idle?: IdleLimit): Promise<Answer> {
  let target = new URL(url);
  let sent = headers;
  let make = body;
  for (let hops = 0; ; hops++) {
    const payload = make?.();
    const res = await nodeRequest(target.href, method, sent, payload, signal, idle);
    const location = res.headers.get('location');
    if (![301, 302, 303, 307, 308].includes(res.status) || location === null) return res;
    const toGet = res.status === 303 ? method !== 'GET' && method !== 'HEAD' : res.status !== 307 && res.status !== 308 && method === 'POST';
    if (toGet && payload instanceof FileBody) return res;
    await res.body?.cancel();
    if (hops === MAX_REDIRECTS) throw new Error(`more than ${MAX_REDIRECTS} redirects from ${url}`);
    const next = new URL(location, target);
    if (next.protocol !== 'http:' && next.protocol !== 'https:') throw new Error(`a redirect to ${next.href}, not an HTTP URL`);
    if (next.origin !== target.origin) sent = Object.fromEntries(Object.entries(sent).filter(([k]) => k.toLowerCase() !== 'authorization'));
    if (toGet) {
      method = 'GET';
      make = undefined;
      sent = Object.fromEntries(Object.entries(sent).filter(([k]) => !BODY_HEADERS.has(k.toLowerCase())));
    }
    target = next;
  }
}
