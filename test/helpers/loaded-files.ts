// `osv ARGS` as a process, with a preloaded probe (loaded-probe.cjs) that reports at exit which of
// osv's own files were loaded (paths under dist/, by require: every bundle is CommonJS), which
// packages from node_modules, whether Node's streams and which of its costly built-ins. What a command line loads is what its start costs: the tests of
// the start-up structure assert it.

import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { dirname, join, sep } from 'node:path';
import { OSV } from './osv.js';

export { OSV };
const PROBE = join(import.meta.dirname, 'loaded-probe.cjs');

export interface Probed extends SpawnSyncReturns<string> {
  /** osv's files that were loaded, relative to dist/, in load order. */
  own: string[];
  /** Packages loaded from node_modules (outside the bundles). */
  packages: string[];
  /** Whether Node's streams were loaded (by the first use of process.stdout or process.stderr). */
  streams: boolean;
  /** Which of Node's costly built-ins (crypto, zlib, http, https, net, tls, dns, child_process) were loaded. */
  builtins: string[];
  /** osv's files compiled with a V8 code cache (relative to dist/): V8 took it or rejected it. */
  codeCache: Record<string, 'accepted' | 'rejected' | 'none'>;
  /** stderr without the probe's report. */
  errors: string;
}

/** Run `osv ARGS` (bin/osv.js of this checkout, or of a copy of the package: `osv`) with the probe. */
export function probed(args: string[], opts: { cwd: string; env?: NodeJS.ProcessEnv; osv?: string }): Probed {
  const env = { ...(opts.env ?? process.env), ...(opts.osv ? { OSV_PROBE_DIST: join(dirname(opts.osv), '..', 'dist') + sep } : {}) };
  const r = spawnSync(process.execPath, ['--require', PROBE, opts.osv ?? OSV, ...args], { cwd: opts.cwd, env, encoding: 'utf8' });
  const m = /\nLOADED (.*)\n$/.exec(r.stderr);
  if (!m) throw new Error(`the probe did not report (status ${r.status}): ${r.stderr}`);
  const { own, packages, streams, builtins, codeCache } = JSON.parse(m[1]!) as Pick<Probed, 'own' | 'packages' | 'streams' | 'builtins' | 'codeCache'>;
  return { ...r, own, packages, streams, builtins, codeCache, errors: r.stderr.slice(0, m.index) };
}
