// The build check re-stats what the last build looked at (fingerprint.ts). osv push runs it while
// its first requests are on their way, pausing now and then so that their lookups, connections
// and writes progress (firstChangePausing). What must hold: the same answer as without pauses,
// and a request to a registry named by host name reaches it during the check, not after.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { nodeHostFs, type HostFs } from '../../src/hostfs.js';
import { firstChange, firstChangePausing, RecordingHostFs } from '../../src/tasks/fingerprint.js';

const dir = mkdtempSync(join(tmpdir(), 'osv-fingerprint-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** 300 files, observed as a build observes its inputs. */
function observed(): ReturnType<RecordingHostFs['observations']> {
  const fs = new RecordingHostFs(nodeHostFs);
  for (let i = 0; i < 300; i++) {
    const f = join(dir, `f${String(i).padStart(3, '0')}`);
    writeFileSync(f, String(i));
    fs.lstat(f);
    fs.stat(f);
  }
  fs.readdir(dir);
  return fs.observations();
}

/** nodeHostFs, each stat taking at least `ms` (a slow disk: the check then lasts long enough to watch). */
const slow = (ms: number): HostFs => {
  const wait = (): void => {
    const until = performance.now() + ms;
    while (performance.now() < until);
  };
  return { ...nodeHostFs, lstat: (p) => (wait(), nodeHostFs.lstat(p)), stat: (p) => (wait(), nodeHostFs.stat(p)) };
};

const nextTurn = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('the build check with pauses', () => {
  it('answers as without them, pausing between batches', async () => {
    const obs = observed();
    let pauses = 0;
    const count = (): Promise<void> => (pauses++, nextTurn());
    expect(await firstChangePausing(nodeHostFs, obs, count)).toBeUndefined();
    expect(pauses).toBeGreaterThanOrEqual(Math.ceil(obs.length / 64));
    writeFileSync(join(dir, 'f250'), 'changed, and longer');
    expect(firstChange(nodeHostFs, obs)).toBe(join(dir, 'f250'));
    expect(await firstChangePausing(nodeHostFs, obs, nextTurn)).toBe(join(dir, 'f250'));
  });

  it('a request to a server named by host name (a lookup, then a connection) reaches it during the check', async () => {
    const obs = observed();
    const arrivals: string[] = [];
    const server = createServer((s) => s.once('data', () => arrivals.push('request')));
    await new Promise<void>((r) => server.listen(0, 'localhost', r));
    const port = (server.address() as AddressInfo).port;
    try {
      const check = async (pausing: boolean): Promise<string[]> => {
        arrivals.length = 0;
        const socket = connect(port, 'localhost');
        socket.on('error', () => undefined);
        socket.write('HEAD / HTTP/1.1\r\n\r\n');
        // About 130 ms of stats: time enough for the lookup and the connection, if they may run.
        const fs = slow(0.2);
        if (pausing) await firstChangePausing(fs, obs, nextTurn);
        else firstChange(fs, obs);
        arrivals.push('check done');
        await new Promise((r) => setTimeout(r, 50));
        socket.destroy();
        return [...arrivals];
      };
      expect(await check(false)).toEqual(['check done', 'request']);
      expect(await check(true)).toEqual(['request', 'check done']);
    } finally {
      server.close();
    }
  });
});
