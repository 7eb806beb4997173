// `osv trace` stopped by a closed terminal (SIGHUP) ends what it started and removes its temp
// directory, as Ctrl-C does (issue #20). Runs with strace when it is installed (the case the
// review saw: strace and the program left running under PID 1), and without it otherwise.

import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hasStrace } from './fixture.js';
import { OSV } from '../helpers/osv.js';

if (!hasStrace) console.warn('note: strace is not installed; the SIGHUP test traces with the loader only');

/** Processes whose command line is exactly `argv`. */
function processesRunning(argv: string[]): number[] {
  const want = argv.join('\0');
  const out: number[] = [];
  for (const n of readdirSync('/proc')) {
    if (!/^\d+$/.test(n)) continue;
    try {
      if (readFileSync(`/proc/${n}/cmdline`, 'utf8').replace(/\0$/, '') === want) out.push(Number(n));
    } catch {
      // gone
    }
  }
  return out;
}

describe('osv trace and SIGHUP', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'osv-trace-hup-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('stops the traced program (and strace) and removes its temp directory', { timeout: 30_000 }, async () => {
    const sleeper = ['/bin/sleep', `${300 + (process.pid % 1000) / 1000}`];
    const child = spawn(process.execPath, [OSV, 'trace', '--', ...sleeper], { cwd: tmp, env: { ...process.env, TMPDIR: tmp }, stdio: 'ignore' });
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    const deadline = Date.now() + 15_000;
    while (processesRunning(sleeper).length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(processesRunning(sleeper).length).toBe(1);
    expect(readdirSync(tmp).filter((n) => n.startsWith('osv-trace-'))).toHaveLength(1);
    child.kill('SIGHUP');
    await exited;
    await new Promise((r) => setTimeout(r, 300));
    const left = processesRunning(sleeper);
    for (const pid of left) process.kill(pid, 'SIGKILL');
    expect(left).toEqual([]);
    expect(readdirSync(tmp).filter((n) => n.startsWith('osv-trace-'))).toEqual([]);
  });
});
