// What a failed request says, in a word where Node has one: fetch wraps the network's error in
// a TypeError ("fetch failed") whose cause has the code; node:http rejects with the error itself;
// an aborted request carries its signal's reason. A DOMException's numeric `code` (23 for a
// timeout) is no reason to show.

/** ECONNREFUSED, a certificate's code, 'timed out', 'interrupted', or else the message. */
export function networkReason(e: unknown): string {
  type Failure = { name?: unknown; code?: unknown; message?: unknown; cause?: Failure };
  const err = (e ?? {}) as Failure;
  for (const x of [err.cause, err]) {
    if (x === undefined || x === null || typeof x !== 'object') continue;
    if (x.name === 'TimeoutError') return 'timed out';
    if (typeof x.code === 'string') return x.code;
  }
  if (err.name === 'AbortError') return 'interrupted';
  const message = typeof err.cause?.message === 'string' ? err.cause.message : err.message;
  return typeof message === 'string' ? message : String(e);
}
