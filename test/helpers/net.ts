// Talking to a guest through a port forward from the tests: a free host port, GETs, and an osv
// that serves while the test GETs.
import { spawn } from 'node:child_process';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';

export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/**
 * GET http://127.0.0.1:PORT/PATH: the body, or an error (refused, reset, 2 s without an answer,
 * or the connection closed before the answer ended: a guest powered off while it answered).
 */
export function get(port: number, path = '/'): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, timeout: 2000 }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve(body));
      res.on('error', reject);
      res.on('close', () => {
        if (!res.complete) reject(new Error('the connection closed before the answer ended'));
      });
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.end();
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export interface Served {
  /** The body of each path that answered. */
  bodies: Record<string, string>;
  code: number | null;
  /** stdout and stderr of the command. */
  out: string;
}

/**
 * Start `argv` (an osv that boots a server forwarded from `port`) and GET each path in turn until
 * it answers. Then `until: 'answered'` stops it with SIGINT (Ctrl-C); `until: 'exit'` keeps
 * GETting the last path until the command ends by itself (an `osv test` waiting for that
 * request's log line). SIGINT as well at the deadline; SIGKILL when that does not stop it.
 */
export async function serveAndGet(argv: string[], opts: { cwd: string; env: NodeJS.ProcessEnv }, port: number, paths: string[], deadlineMs: number, until: 'answered' | 'exit'): Promise<Served> {
  const child = spawn(argv[0]!, argv.slice(1), opts);
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  const bodies: Record<string, string> = {};
  const end = Date.now() + deadlineMs;
  for (const [i, path] of paths.entries()) {
    const repeat = until === 'exit' && i === paths.length - 1;
    while (Date.now() < end && child.exitCode === null && (repeat || bodies[path] === undefined)) {
      try {
        bodies[path] = await get(port, path);
        if (repeat) await sleep(500);
      } catch {
        await sleep(500);
      }
    }
  }
  if (child.exitCode === null) child.kill('SIGINT');
  // A command that does not stop on Ctrl-C is killed, and the output says so: a test fails,
  // it never waits for ever.
  if ((await Promise.race([exited.then(() => 'exited' as const), sleep(STOP_MS).then(() => 'late' as const)])) === 'late') {
    child.kill('SIGKILL');
    out += `\n(test: the command did not stop within ${STOP_MS / 1000} s of SIGINT, and was killed)\n`;
  }
  return { bodies, code: await exited, out };
}

/** How long a command may take to stop after SIGINT. */
const STOP_MS = 20_000;
