// A plain front for the test registry: every request is sent on and recorded ("METHOD path"), so
// a test can tell which requests a client sent. The registry sees the front's own Host, so the
// upload sessions it opens (their Location) are reached through the front too. `intercept` may
// answer a request itself (true), or hold it for a while before it goes on.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { freePort, type Registry } from './registry.js';
import { forward } from './token-proxy.js';

export interface RecordingProxy {
  host: string;
  requests: string[];
  stop(): Promise<void>;
}

export type Intercept = (req: IncomingMessage, res: ServerResponse) => boolean | Promise<boolean>;

export async function startRecordingProxy(reg: Registry, intercept?: Intercept): Promise<RecordingProxy> {
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    void (async () => {
      if (!(await intercept?.(req, res))) forward(reg, req, res, { host });
    })();
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
