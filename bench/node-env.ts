// NODE_EXTRA_CA_CERTS makes every Node.js process read and parse that certificate bundle while
// it starts (about 50 ms on the 2-core VM this was written on), before any of osv's code
// runs. Where it is set, the whole-process benchmarks are measured a second time without it,
// and both are printed.

export const EXTRA_CA = 'NODE_EXTRA_CA_CERTS';

/** The environment without NODE_EXTRA_CA_CERTS, or undefined when it is not set. */
export function withoutExtraCa(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv | undefined {
  if (!env[EXTRA_CA]) return undefined;
  const copy = { ...env };
  delete copy[EXTRA_CA];
  return copy;
}
