// `osv ARGS` as a process, as users run it: node bin/osv.js of this checkout (its bundles in
// dist/, built by the test setup). The tests of a command line share this instead of each
// spawning it its own way.

import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';

/** bin/osv.js of this checkout. */
export const OSV = join(import.meta.dirname, '..', '..', 'bin', 'osv.js');

/** bin/osv, the command npm installs: a shell script that starts `node` (from PATH) on bin/osv.js. */
export const OSV_COMMAND = join(import.meta.dirname, '..', '..', 'bin', 'osv');

export interface OsvOptions {
  cwd: string;
  /** The whole environment of the process (not added to process.env); process.env when absent. */
  env?: NodeJS.ProcessEnv;
  /** Milliseconds, after which the process is killed (SIGTERM): `code` is then null, `signal` set. */
  timeout?: number;
  /** What the process reads on stdin ('' for an empty stdin, closed at once); stdin is a pipe either way. */
  input?: string;
  /** Of stdout and of stderr each, in bytes, past which the process is killed (SIGTERM). When absent:
   * spawnSync's default (1 MiB) for runOsv, no limit for runOsvAsync. */
  maxBuffer?: number;
  /** Run OSV_COMMAND instead of `node bin/osv.js`. */
  installed?: boolean;
}

/** The program and its first arguments for `osv` as `opts` asks. */
const command = (opts: OsvOptions): [string, string[]] => (opts.installed ? [OSV_COMMAND, []] : [process.execPath, [OSV]]);

export interface OsvResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** stdout, a newline, stderr. */
  out: string;
}

const result = (code: number | null, signal: NodeJS.Signals | null, stdout: string, stderr: string): OsvResult => ({ code, signal, stdout, stderr, out: `${stdout}\n${stderr}` });

/** Run `osv ARGS` and wait for it (blocking this process: no server in it answers meanwhile). */
export function runOsv(args: string[], opts: OsvOptions): OsvResult {
  const [program, first] = command(opts);
  const r = spawnSync(program, [...first, ...args], {
    cwd: opts.cwd,
    env: opts.env ?? process.env,
    encoding: 'utf8',
    ...(opts.timeout !== undefined ? { timeout: opts.timeout } : {}),
    ...(opts.input !== undefined ? { input: opts.input } : {}),
    ...(opts.maxBuffer !== undefined ? { maxBuffer: opts.maxBuffer } : {}),
  });
  if (r.error && r.status === null && r.signal === null) throw r.error;
  return result(r.status, r.signal, r.stdout, r.stderr);
}

/** Run `osv ARGS` without blocking the event loop (a server in this process can answer it). */
export function runOsvAsync(args: string[], opts: OsvOptions): Promise<OsvResult> {
  return new Promise((resolve, reject) => {
    const [program, first] = command(opts);
    const child = spawn(program, [...first, ...args], {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: ['pipe', 'pipe', 'pipe'],
      ...(opts.timeout !== undefined ? { timeout: opts.timeout } : {}),
    });
    let stdout = '';
    let stderr = '';
    const max = opts.maxBuffer;
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
      if (max !== undefined && Buffer.byteLength(stdout) > max) child.kill();
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
      if (max !== undefined && Buffer.byteLength(stderr) > max) child.kill();
    });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve(result(code, signal, stdout, stderr)));
    child.stdin.on('error', () => {});
    child.stdin.end(opts.input ?? '');
  });
}
