// `osv ARGS` as a process, with a preloaded probe (loaded-probe.cjs) that reports at exit which of
// osv's own files were loaded (paths under dist/, by require: every bundle is CommonJS), which
// packages from node_modules and whether Node's streams. What a command line loads is what its start costs: the tests of
// the start-up structure assert it.

import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { join } from 'node:path';

export const OSV = join(import.meta.dirname, '..', '..', 'bin', 'osv.js');
const PROBE = join(import.meta.dirname, 'loaded-probe.cjs');

export interface Probed extends SpawnSyncReturns<string> {
  /** osv's files that were loaded, relative to dist/, in load order. */
  own: string[];
  /** Packages loaded from node_modules (outside the bundles). */
  packages: string[];
  /** Whether Node's streams were loaded (by the first use of process.stdout or process.stderr). */
  streams: boolean;
  /** stderr without the probe's report. */
  errors: string;
}

export function probed(args: string[], opts: { cwd: string; env?: NodeJS.ProcessEnv }): Probed {
  const r = spawnSync(process.execPath, ['--require', PROBE, OSV, ...args], { cwd: opts.cwd, env: opts.env ?? process.env, encoding: 'utf8' });
  const m = /\nLOADED (.*)\n$/.exec(r.stderr);
  if (!m) throw new Error(`the probe did not report (status ${r.status}): ${r.stderr}`);
  const { own, packages, streams } = JSON.parse(m[1]!) as { own: string[]; packages: string[]; streams: boolean };
  return { ...r, own, packages, streams, errors: r.stderr.slice(0, m.index) };
}
