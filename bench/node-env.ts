// NODE_EXTRA_CA_CERTS makes every Node.js process read and parse that certificate bundle while
// it starts (about 50 ms on the 2-core VM this was written on), before any of osv's code
// runs. Where it is set, the whole-process benchmarks are measured a second time without it,
// and both are printed.

import { delimiter, dirname, join } from 'node:path';

export const EXTRA_CA = 'NODE_EXTRA_CA_CERTS';

/** bin/osv, the command npm installs: a shell script that starts the `node` on PATH on bin/osv.js. */
export const OSV_COMMAND = join(import.meta.dirname, '..', 'bin', 'osv');

/** `env` with this process's `node` first on PATH, the one OSV_COMMAND then starts. */
export const withThisNode = (env: NodeJS.ProcessEnv): NodeJS.ProcessEnv => ({ ...env, PATH: `${dirname(process.execPath)}${delimiter}${env['PATH'] ?? ''}` });

/** The environment without NODE_EXTRA_CA_CERTS, or undefined when it is not set. */
export function withoutExtraCa(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv | undefined {
  if (!env[EXTRA_CA]) return undefined;
  const copy = { ...env };
  delete copy[EXTRA_CA];
  return copy;
}
