// A registry that stops answering in the middle of a request (a wedged storage back end, a proxy
// that holds the connection) must not hold a pull for fetch's five-minute defaults, nor a push
// forever (node:http has no timeout of its own). A request gives up once nothing has been
// received or sent for a while, with an error that names the registry; OSV_REGISTRY_TIMEOUT
// (seconds) sets how long, for slow links or registries that think long before answering.

import { ExitCode, OsvError } from '../diagnostics/error.js';

export const IDLE_ENV = 'OSV_REGISTRY_TIMEOUT';
export const DEFAULT_IDLE_SECONDS = 60;
/** Node's timers hold at most 2^31 - 1 ms. */
const MAX_IDLE_SECONDS = 2147483;
/**
 * After the last byte of an upload, a registry may say nothing while it checks the blob and moves
 * it into its storage (an object store copies it: tens of seconds for a few GiB). So the answer
 * to a body of N bytes may take the idle limit plus N at this rate, slow for a storage copy.
 */
const STORE_BYTES_PER_SECOND = 16 * 2 ** 20;

/** How long the answer to a request whose whole body (`bytes`) was sent may take: see STORE_BYTES_PER_SECOND. */
export function answerWaitMs(idleMs: number, bytes: number): number {
  return Math.min(MAX_IDLE_SECONDS * 1000, Math.round(idleMs + (Math.max(0, bytes) / STORE_BYTES_PER_SECOND) * 1000));
}

/** The idle limit in ms, from the environment or the default; an unusable value is an error naming the variable. */
export function idleLimitMs(env: NodeJS.ProcessEnv): number {
  const raw = env[IDLE_ENV];
  if (raw === undefined || raw === '') return DEFAULT_IDLE_SECONDS * 1000;
  const s = /^\s*\d+(\.\d+)?\s*$/.test(raw) ? Number(raw) : NaN;
  if (!(s * 1000 >= 1 && s <= MAX_IDLE_SECONDS))
    throw new OsvError({
      code: 'oci.bad-timeout',
      message: `${IDLE_ENV}=${JSON.stringify(raw)} is not a number of seconds between 0.001 and ${MAX_IDLE_SECONDS}`,
      hint: `set ${IDLE_ENV} to how many seconds a registry may send nothing before osv-up gives up (default ${DEFAULT_IDLE_SECONDS}), or unset it`,
      exitCode: ExitCode.usage,
    });
  return Math.round(s * 1000);
}

/**
 * A watch on one request: it aborts `signal` with `error()` once `touch` has not been called for
 * `ms`. The timer does not keep the process alive (the request's socket does, while it is open).
 */
export class IdleWatch {
  private readonly controller = new AbortController();
  private readonly timer: NodeJS.Timeout;
  readonly signal: AbortSignal;

  private readonly unlink: () => void;

  /** `outer` (an interrupt) aborts `signal` too, with its own reason (AbortSignal.any needs Node 20.3). */
  constructor(ms: number, error: () => Error, outer?: AbortSignal) {
    this.signal = this.controller.signal;
    this.timer = setTimeout(() => this.controller.abort(error()), ms);
    this.timer.unref();
    const forward = (): void => this.controller.abort(outer!.reason);
    if (outer?.aborted) forward();
    else outer?.addEventListener('abort', forward, { once: true });
    this.unlink = () => outer?.removeEventListener('abort', forward);
  }

  /** Something arrived: the wait starts again. */
  touch(): void {
    this.timer.refresh();
  }

  /** The request is over. */
  done(): void {
    clearTimeout(this.timer);
    this.unlink();
  }
}

/** The error for a request that waited `ms` for the registry without anything happening. */
export function stalledError(registry: string, method: string, url: string, ms: number): OsvError {
  const { pathname } = new URL(url);
  return new OsvError({
    code: 'oci.timeout',
    message: `the registry ${registry} sent nothing for ${ms / 1000} s (${method} ${pathname}); gave up`,
    hint: `the registry, or a proxy on the way, has stalled: try again; ${IDLE_ENV}=SECONDS waits longer (default ${DEFAULT_IDLE_SECONDS})`,
    exitCode: ExitCode.buildFailed,
  });
}
