// A plain front for the test registry: every request is sent on and recorded ("METHOD path"), so
// a test can tell which requests a client sent. The registry sees the front's own Host, so the
// upload sessions it opens (their Location) are reached through the front too.

import { createServer, type Server } from 'node:http';
import { freePort, type Registry } from './registry.js';
import { forward } from './token-proxy.js';

export interface RecordingProxy {
  host: string;
  requests: string[];
  stop(): Promise<void>;
}

export async function startRecordingProxy(reg: Registry): Promise<RecordingProxy> {
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    forward(reg, req, res, { host });
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return {
    host,
    requests,
    async stop() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}
