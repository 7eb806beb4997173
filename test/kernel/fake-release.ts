// A fake GitHub on 127.0.0.1 for release downloads: the API answers with release JSON for any
// owner/repo, the asset URLs serve gzip'd kernel files; some tags play a hostile server. Also
// a port nothing listens on, for "no network". With `tls`, it is served over HTTPS.

import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { createGzip, gzipSync } from 'node:zlib';
import { fakeBuildDir } from './helpers.js';

export interface Fake {
  base: string;
  requests: string[];
  failDownloads: boolean;
  elf: Buffer;
  img: Buffer;
  /** gzip of 600 MiB of zeros (about 600 KB). */
  bomb: Buffer;
  close(): Promise<void>;
}

export const ASSETS = [
  'osv-loader.qemu.x86_64.gz',
  'loader.elf.x86_64.gz',
  'loader-hidden.elf.x86_64.gz',
  'osv-loader-hidden.qemu.x86_64.gz',
  'osv-zfs-builder.qemu.x86_64.gz',
  'osv.bootstrap.mpm.x86_64',
  'index.yaml',
];

export async function startFake(elf: Buffer, img: Buffer, opts: { tls?: { key: Buffer; cert: Buffer } } = {}): Promise<Fake> {
  const fake = { requests: [] as string[], failDownloads: false, elf, img, bomb: await gzipOfZeros(600 * 1024 * 1024) } as Fake;
  const handler = (req: http.IncomingMessage, res: http.ServerResponse): unknown => {
    const url = req.url ?? '';
    fake.requests.push(url);
    const release = (repo: string, tag: string) => ({
      tag_name: tag,
      html_url: `${fake.base}/${repo}/releases/tag/${tag}`,
      assets: ASSETS.map((name) => ({ name, browser_download_url: `${fake.base}/download/${tag}/${name}`, size: 1 })),
    });
    const m = /^\/repos\/([^/]+\/[^/]+)\/releases\/(latest|tags\/(.+))$/.exec(url);
    if (m) {
      const repo = m[1]!;
      const tag = m[2] === 'latest' ? 'v9.9.9' : decodeURIComponent(m[3]!);
      if (tag === 'nope') return res.writeHead(404).end('{"message":"Not Found"}');
      const body = tag === 'v0.0.1' ? { ...release(repo, tag), assets: [{ name: 'loader.elf.aarch64.gz', browser_download_url: `${fake.base}/x`, size: 1 }] } : release(repo, tag);
      return res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    }
    const d = /^\/download\/([^/]+)\/(.+)$/.exec(url);
    if (d) {
      if (fake.failDownloads) return res.writeHead(500).end('boom');
      const [tag, name] = [d[1]!, d[2]!];
      // What a hostile release server sends (issue #20).
      if (tag === 'v-bomb') return res.writeHead(200).end(fake.bomb);
      if (tag === 'v-endless') {
        res.writeHead(200);
        const chunk = Buffer.alloc(1 << 20, 0x41);
        const pump = (): void => {
          while (!res.destroyed && res.write(chunk));
          if (!res.destroyed) res.once('drain', pump);
        };
        return pump();
      }
      if (tag === 'v-redirect') return res.writeHead(302, { location: 'file:///etc/hostname' }).end();
      if (tag === 'v-loop') return res.writeHead(302, { location: url }).end();
      const data = name.includes('.elf.') ? fake.elf : name.includes('.qemu.') ? fake.img : Buffer.from('other');
      return res.writeHead(200).end(name.endsWith('.gz') ? gzipSync(data) : data);
    }
    res.writeHead(404).end();
  };
  const server = opts.tls ? https.createServer({ key: opts.tls.key, cert: opts.tls.cert }, handler) : http.createServer(handler);
  // Idle keep-alive connections stay open longer than any test: a connection the server closes
  // just as fetch reuses it would fail that request (ECONNRESET) after a slow test.
  server.keepAliveTimeout = 120_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  fake.base = `${opts.tls ? 'https' : 'http'}://127.0.0.1:${(server.address() as AddressInfo).port}`;
  fake.close = () => new Promise((r) => server.close(() => r()));
  return fake;
}

async function gzipOfZeros(bytes: number): Promise<Buffer> {
  const zero = Buffer.alloc(1 << 20);
  const out: Buffer[] = [];
  const z = createGzip({ level: 1 });
  z.on('data', (b: Buffer) => out.push(b));
  const ended = new Promise((r) => z.on('end', r));
  for (let n = 0; n < bytes; n += zero.length) if (!z.write(zero)) await new Promise((r) => z.once('drain', r));
  z.end();
  await ended;
  return Buffer.concat(out);
}

/** A port with nothing listening: connections are refused, like a machine without network. */
export async function deadPort(): Promise<number> {
  const s = http.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

/** The fake server with a gcc-built kernel (needs gcc), and a dead port for "no network". */
export async function serveFakeKernel(work: string, opts: Parameters<typeof startFake>[2] = {}): Promise<{ fake: Fake; dead: string }> {
  const build = fakeBuildDir(work, 'served');
  const fake = await startFake(fs.readFileSync(join(build, 'loader-stripped.elf')), fs.readFileSync(join(build, 'loader.img')), opts);
  return { fake, dead: `http://127.0.0.1:${await deadPort()}` };
}

/** Fresh cache and project directories below `work`, one set per call, with the API at `api`. */
export function sandboxes(work: string): (api: string) => { env: NodeJS.ProcessEnv; project: string; cache: string } {
  let n = 0;
  return (api) => {
    const dir = join(work, `sb${++n}`);
    fs.mkdirSync(join(dir, 'project'), { recursive: true });
    return { env: { XDG_CACHE_HOME: join(dir, 'cache'), HOME: dir, OSV_GITHUB_API: api }, project: join(dir, 'project'), cache: join(dir, 'cache') };
  };
}
