// A real registry for tests: Debian's `docker-registry` (the distribution registry) on
// 127.0.0.1, on a free port, with a temporary storage directory; optionally behind htpasswd
// Basic auth. Images are made with umoci (layers from real file trees) or written by hand (an
// OCI layout whose layers come from the tar writer), and pushed with skopeo.

import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hasTool } from './tools.js';

export const hasRegistryTools = hasTool('docker-registry') && hasTool('skopeo') && hasTool('umoci');
export const registryToolsReason = hasRegistryTools ? undefined : 'docker-registry, skopeo and umoci are not all installed (apt-get install docker-registry skopeo umoci; .ci/run does)';

export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

export interface Registry {
  /** host:port, as references name it. */
  host: string;
  port: number;
  /** user:password when it has Basic auth. */
  creds?: string;
  /** The filesystem storage's root directory (docker/registry/v2/... under it). */
  storage: string;
  stop(): Promise<void>;
}

/**
 * The upload sessions the registry holds open for `repo`: the directories under its _uploads
 * with a startedat file (a finished upload's directory goes; a cancelled one keeps its hash state).
 */
export function openUploads(reg: Registry, repo: string): string[] {
  const dir = join(reg.storage, 'docker', 'registry', 'v2', 'repositories', repo, '_uploads');
  try {
    return readdirSync(dir).filter((id) => existsSync(join(dir, id, 'startedat')));
  } catch {
    return [];
  }
}

export async function startRegistry(opts: { user?: string; password?: string; token?: { realm: string; service: string; issuer: string; rootcertbundle: string } } = {}): Promise<Registry> {
  const dir = mkdtempSync(join(tmpdir(), 'osv-registry-'));
  const port = await freePort();
  const lines = ['version: 0.1', 'log: {level: error}', 'storage:', `  filesystem: {rootdirectory: ${join(dir, 'data')}}`, '  delete: {enabled: true}', 'http:', `  addr: 127.0.0.1:${port}`];
  if (opts.user !== undefined) {
    // bcrypt entries only (htpasswd -B)
    const entry = execFileSync('htpasswd', ['-nbB', opts.user, opts.password!], { encoding: 'utf8' }).trim();
    writeFileSync(join(dir, 'htpasswd'), entry + '\n');
    lines.push('auth:', `  htpasswd: {realm: test, path: ${join(dir, 'htpasswd')}}`);
  } else if (opts.token) {
    // The registry checks each request's Bearer token itself (test/helpers/token-server.ts issues them).
    const t = opts.token;
    lines.push('auth:', `  token: {realm: "${t.realm}", service: ${t.service}, issuer: ${t.issuer}, rootcertbundle: ${t.rootcertbundle}}`);
  }
  writeFileSync(join(dir, 'config.yml'), lines.join('\n') + '\n');
  const child: ChildProcess = spawn('docker-registry', ['serve', join(dir, 'config.yml')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr!.on('data', (c: Buffer) => (log += c.toString()));
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      const r = await fetch(`http://127.0.0.1:${port}/v2/`);
      if (r.status === 200 || r.status === 401) break;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`docker-registry did not start: ${log}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    host: `127.0.0.1:${port}`,
    port,
    ...(opts.user !== undefined ? { creds: `${opts.user}:${opts.password}` } : {}),
    storage: join(dir, 'data'),
    async stop() {
      const exited = new Promise<void>((r) => (child.exitCode !== null ? r() : child.once('exit', () => r())));
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** skopeo copy SRC docker://REGISTRY/DEST (plain HTTP, with the registry's credentials). */
export function push(src: string, reg: Registry, dest: string, extra: string[] = []): void {
  execFileSync('skopeo', ['copy', '-q', '--dest-tls-verify=false', ...(reg.creds ? ['--dest-creds', reg.creds] : []), ...extra, src, `docker://${reg.host}/${dest}`], { stdio: ['ignore', 'ignore', 'pipe'] });
}

export interface ImageConfigFlags {
  entrypoint?: string[];
  cmd?: string[];
  env?: string[];
  workingDir?: string;
  exposedPorts?: string[];
}

/**
 * An image made with umoci: each step changes the unpacked root file system (add, delete,
 * link) and is repacked as one layer (deletions become whiteouts). Returns `oci:LAYOUT:TAG`.
 */
export function umociImage(work: string, name: string, steps: Array<(rootfs: string) => void>, config: ImageConfigFlags = {}): { ref: string; layout: string } {
  const layout = join(work, `${name}-layout`);
  const bundle = join(work, `${name}-bundle`);
  rmSync(layout, { recursive: true, force: true });
  const umoci = (...args: string[]): void => void execFileSync('umoci', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  umoci('init', '--layout', layout);
  umoci('new', '--image', `${layout}:t`);
  for (const step of steps) {
    rmSync(bundle, { recursive: true, force: true });
    umoci('unpack', '--rootless', '--image', `${layout}:t`, bundle);
    step(join(bundle, 'rootfs'));
    umoci('repack', '--image', `${layout}:t`, bundle);
  }
  rmSync(bundle, { recursive: true, force: true });
  const flags: string[] = ['--os', 'linux', '--architecture', 'amd64'];
  for (const e of config.entrypoint ?? []) flags.push('--config.entrypoint', e);
  for (const c of config.cmd ?? []) flags.push('--config.cmd', c);
  for (const e of config.env ?? []) flags.push('--config.env', e);
  if (config.workingDir) flags.push('--config.workingdir', config.workingDir);
  for (const p of config.exposedPorts ?? []) flags.push('--config.exposedports', p);
  umoci('config', '--image', `${layout}:t`, ...flags);
  return { ref: `oci:${layout}:t`, layout };
}

const sha = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');

/**
 * An OCI layout written by hand: each layer given as uncompressed tar bytes and a compression
 * (its blob is what `compress` makes of it), so that any layer, hostile ones included, can be
 * pushed. `platform` sets the config's; `index` wraps the manifest in an index for `platforms`.
 */
export function handLayout(dir: string, layers: Array<{ tar: Buffer; blob: Buffer; mediaType: string }>, opts: { config?: Record<string, unknown>; arch?: string; indexPlatforms?: string[] } = {}): string {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'blobs', 'sha256'), { recursive: true });
  const put = (b: Buffer): { digest: string; size: number } => {
    const h = sha(b);
    writeFileSync(join(dir, 'blobs', 'sha256', h), b);
    return { digest: `sha256:${h}`, size: b.length };
  };
  const config = Buffer.from(JSON.stringify({ architecture: opts.arch ?? 'amd64', os: 'linux', config: opts.config ?? {}, rootfs: { type: 'layers', diff_ids: layers.map((l) => `sha256:${sha(l.tar)}`) } }));
  const manifest = Buffer.from(
    JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...put(config) }, layers: layers.map((l) => ({ mediaType: l.mediaType, ...put(l.blob) })) }),
  );
  const m = put(manifest);
  let top = { mediaType: 'application/vnd.oci.image.manifest.v1+json', ...m };
  if (opts.indexPlatforms) {
    const index = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: opts.indexPlatforms.map((p) => ({ mediaType: 'application/vnd.oci.image.manifest.v1+json', ...m, platform: { os: 'linux', architecture: p } })) }));
    top = { mediaType: 'application/vnd.oci.image.index.v1+json', ...put(index) };
  }
  writeFileSync(join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  writeFileSync(join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ ...top, annotations: { 'org.opencontainers.image.ref.name': 't' } }] }));
  return `oci:${dir}:t`;
}
