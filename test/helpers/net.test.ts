// The tests' GET (net.ts) always settles: a guest powered off while it answers cuts the answer,
// and a GET that waited for its end for ever once held the Flask boot test until its timeout.

import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { get } from './net.js';

describe('get', () => {
  it('rejects an answer cut off before its end, and returns a whole one', async () => {
    const server = createServer((req, res) => {
      if (req.url === '/cut') {
        res.writeHead(200, { 'content-length': '100' });
        res.write('only ten b');
        setTimeout(() => res.socket?.destroy(), 50);
      } else res.end('whole');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    try {
      await expect(get(port, '/cut')).rejects.toThrow();
      await expect(get(port, '/')).resolves.toBe('whole');
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  }, 10_000);
});
