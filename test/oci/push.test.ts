// `osv push` against the real registry (docker-registry with Basic auth on), checked by tools
// that are not osv-up: skopeo inspects what was pushed, umoci unpacks it, GNU tar lists the
// owners, qemu-img reads the disk. The same build pushed twice (and rebuilt) has the same
// digest; a second application on the same kernel uploads no kernel blob (skipped in the same
// repository, mounted across repositories); oci: and oci-archive: targets hold the same image.

import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasRegistryTools, registryToolsReason, startRegistry, type Registry } from '../helpers/registry.js';
import { hasGcc, hasTool, onPath } from '../helpers/tools.js';
import { startTokenProxy, type TokenProxy } from '../helpers/token-proxy.js';
import { runOsv, runOsvAsync } from '../helpers/osv.js';

const ROOT = join(import.meta.dirname, '..', '..');
const kernel = process.env['OSV_KERNEL'];
const reason = !kernel
  ? 'OSV_KERNEL is not set (the build needs an OSv kernel to push)'
  : !hasRegistryTools
    ? registryToolsReason
    : !onPath('htpasswd')
      ? 'htpasswd is not installed (apache2-utils)'
      : !hasTool('qemu-img')
        ? 'qemu-img is not installed'
        : !hasGcc
          ? 'gcc is not installed'
          : undefined;
if (reason) console.warn(`skipped: osv push: ${reason}`);

const PASSWORD = 'push-secret-7';

interface PushJson {
  ok: boolean;
  target: string;
  digest: string;
  reference?: string;
  blobs: Array<{ role: string; digest: string; size: number; action: string; from?: string; mediaType: string }>;
}

describe.skipIf(reason !== undefined)('osv push to a registry with Basic auth', () => {
  let work: string;
  let reg: Registry;
  let env: NodeJS.ProcessEnv;
  let app: string;
  let other: string;

  const project = (name: string, text: string): string => {
    const dir = join(work, name);
    cpSync(join(ROOT, 'examples', 'hello-c'), dir, { recursive: true });
    execFileSync('make', ['-s'], { cwd: dir });
    writeFileSync(join(dir, 'osv.yaml'), `name: ${name}\n${text}`);
    return dir;
  };
  const osv = (cwd: string, args: string[]) => runOsv(args, { cwd, env, timeout: 120_000 });
  const pushJson = (cwd: string, target: string, extra: string[] = []): PushJson => {
    const r = osv(cwd, ['push', target, '--json', ...extra]);
    expect(r.code, r.out).toBe(0);
    return JSON.parse(r.stdout) as PushJson;
  };
  const creds = (): string[] => ['--creds', `alice:${PASSWORD}`, '--tls-verify=false'];

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'osv-push-'));
    reg = await startRegistry({ user: 'alice', password: PASSWORD });
    mkdirSync(join(work, 'docker'));
    writeFileSync(join(work, 'docker', 'config.json'), JSON.stringify({ auths: { [reg.host]: { auth: Buffer.from(`alice:${PASSWORD}`).toString('base64') } } }));
    env = { PATH: process.env['PATH'], HOME: work, DOCKER_CONFIG: join(work, 'docker'), XDG_CACHE_HOME: join(work, 'cache'), OSV_KERNEL: kernel, CI: '1' };
    app = project('hello', 'cmd: [./hello, world]\nrun:\n  memory: 256M\n  cpus: 1\n  ports: ["8080:80"]\n');
    other = project('hello-two', 'cmd: [./hello, again]\n');
  }, 120_000);
  afterAll(async () => {
    await reg?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  let first: PushJson;

  it('pushes a linux/amd64 image that skopeo inspect accepts, printing the digest', () => {
    const text = osv(app, ['push', `${reg.host}/apps/hello:1`]);
    expect(text.code, text.out).toBe(0);
    expect(text.stdout.trim()).toMatch(new RegExp(`^${reg.host.replace(/\./g, '\\.')}/apps/hello:1@sha256:[0-9a-f]{64}$`));
    first = pushJson(app, `${reg.host}/apps/hello:1`);
    expect(text.stdout.trim()).toBe(first.reference);
    const raw = execFileSync('skopeo', ['inspect', '--raw', ...creds(), `docker://${reg.host}/apps/hello:1`]);
    expect(`sha256:${createHash('sha256').update(raw).digest('hex')}`).toBe(first.digest);
    const info = JSON.parse(execFileSync('skopeo', ['inspect', ...creds(), `docker://${reg.host}/apps/hello:1`], { encoding: 'utf8' })) as { Os: string; Architecture: string; Layers: string[]; Labels: Record<string, string> };
    expect(info.Os).toBe('linux');
    expect(info.Architecture).toBe('amd64');
    expect(info.Layers).toHaveLength(2);
    expect(info.Labels['io.osv-up.kernel.path']).toBe('/boot/loader-stripped.elf');
    expect(info.Labels['io.osv-up.disk.path']).toBe('/disk/hello.qcow2');
    expect(info.Labels['io.osv-up.kernel.sha256']).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(info.Labels['io.osv-up.version']).toBe(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version);
    const runs = JSON.parse(info.Labels['io.osv-up.runs']!) as Array<{ name: string; cmdline: string; settings: { memory: number; cpus: number; ports: unknown[] } }>;
    expect(runs[0]!.cmdline).toContain('/hello world');
    expect(runs[0]!.settings).toMatchObject({ memory: 256 * 2 ** 20, cpus: 1, ports: [{ host: 8080, guest: 80, protocol: 'tcp' }] });
    // The manifest's annotations carry the same.
    const manifest = JSON.parse(raw.toString()) as { annotations: Record<string, string>; layers: Array<{ mediaType: string }> };
    expect(manifest.annotations['io.osv-up.runs']).toBe(info.Labels['io.osv-up.runs']);
    expect(first.blobs.map((b) => b.role)).toEqual(['kernel', 'disk', 'config', 'manifest']);
  });

  it('umoci unpack shows /boot/loader-stripped.elf and exactly one qcow2 in /disk/, owned by 107', () => {
    const layout = join(work, 'check-layout');
    execFileSync('skopeo', ['copy', '-q', '--src-creds', `alice:${PASSWORD}`, '--src-tls-verify=false', `docker://${reg.host}/apps/hello:1`, `oci:${layout}:t`]);
    const bundle = join(work, 'bundle');
    const root = process.getuid?.() === 0;
    if (!root) console.warn('note: not root: umoci unpacks rootless (owners become ours), so the owners are read from the layers with tar');
    execFileSync('umoci', ['unpack', ...(root ? [] : ['--rootless']), '--image', `${layout}:t`, bundle]);
    const rootfs = join(bundle, 'rootfs');
    expect(readdirSync(rootfs).sort()).toEqual(['boot', 'disk']);
    expect(readdirSync(join(rootfs, 'boot'))).toEqual(['loader-stripped.elf']);
    expect(readdirSync(join(rootfs, 'disk'))).toEqual(['hello.qcow2']);
    expect(readFileSync(join(rootfs, 'boot', 'loader-stripped.elf')).equals(readFileSync(join(kernel!, ...(statSync(kernel!).isDirectory() ? ['loader-stripped.elf'] : []))))).toBe(true);
    if (root) {
      for (const f of ['boot/loader-stripped.elf', 'disk/hello.qcow2']) {
        const st = statSync(join(rootfs, f));
        expect([st.uid, st.gid], f).toEqual([107, 107]);
      }
    }
    // GNU tar, another reader: each layer's owners, numerically.
    for (const b of first.blobs.filter((x) => x.role === 'kernel' || x.role === 'disk')) {
      const listing = execFileSync('tar', ['-tvzf', join(layout, 'blobs', 'sha256', b.digest.slice(7)), '--numeric-owner'], { encoding: 'utf8' });
      for (const line of listing.trim().split('\n')) expect(line, line).toMatch(/^\S+ 107\/107 /);
    }
    // qemu-img: a qcow2 without a backing file.
    const info = JSON.parse(execFileSync('qemu-img', ['info', '--output=json', join(rootfs, 'disk', 'hello.qcow2')], { encoding: 'utf8' })) as { format: string; 'backing-filename'?: string };
    expect(info.format).toBe('qcow2');
    expect(info['backing-filename']).toBeUndefined();
  });

  it('the same build pushed again, and rebuilt with --force, has the same digest', () => {
    const again = pushJson(app, `${reg.host}/apps/hello:1`);
    expect(again.digest).toBe(first.digest);
    expect(again.blobs.filter((b) => b.role !== 'manifest').map((b) => b.action)).toEqual(['exists', 'exists', 'exists']);
    // A cleared image cache (the layers are made again) and a rebuilt disk: same bytes.
    rmSync(join(work, 'cache', 'osv-up', 'oci'), { recursive: true, force: true });
    const rebuilt = pushJson(app, `${reg.host}/apps/hello:2`, ['--force']);
    expect(rebuilt.digest).toBe(first.digest);
  });

  it('a second application with the same kernel uploads no kernel blob: skipped in the same repository, mounted across', () => {
    const same = pushJson(other, `${reg.host}/apps/hello:two`);
    const kernelOf = (p: PushJson) => p.blobs.find((b) => b.role === 'kernel')!;
    expect(kernelOf(same).digest).toBe(kernelOf(first).digest);
    expect(kernelOf(same).action).toBe('exists');
    expect(same.blobs.find((b) => b.role === 'disk')!.action).toBe('uploaded');
    const across = pushJson(other, `${reg.host}/other/hello-two:1`);
    expect(kernelOf(across).action).toBe('mounted');
    expect(kernelOf(across).from).toMatch(/^apps\/hello$/);
    expect(across.blobs.find((b) => b.role === 'disk')!.action).toBe('mounted');
    // The mounted image is complete: skopeo reads it back.
    execFileSync('skopeo', ['inspect', ...creds(), `docker://${reg.host}/other/hello-two:1`]);
  });

  it('oci:DIR:TAG and oci-archive:FILE hold the same image (same digest), readable by skopeo and umoci', () => {
    const dir = join(work, 'layout');
    const lay = pushJson(app, `oci:${dir}:1.0`);
    expect(lay.digest).toBe(first.digest);
    const inspected = JSON.parse(execFileSync('skopeo', ['inspect', `oci:${dir}:1.0`], { encoding: 'utf8' })) as { Digest: string };
    expect(inspected.Digest).toBe(first.digest);
    // A second tag in the same layout keeps the first.
    pushJson(other, `oci:${dir}:2.0`);
    const index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8')) as { manifests: Array<{ annotations: Record<string, string> }> };
    expect(index.manifests.map((m) => m.annotations['org.opencontainers.image.ref.name']).sort()).toEqual(['1.0', '2.0']);
    execFileSync('umoci', ['stat', '--image', `${dir}:2.0`]);
    const file = join(work, 'hello.tar');
    const arch = pushJson(app, `oci-archive:${file}`);
    expect(arch.digest).toBe(first.digest);
    const fromArchive = JSON.parse(execFileSync('skopeo', ['inspect', `oci-archive:${file}`], { encoding: 'utf8' })) as { Digest: string };
    expect(fromArchive.Digest).toBe(first.digest);
    const bytes = readFileSync(file);
    pushJson(app, `oci-archive:${file}`);
    expect(readFileSync(file).equals(bytes), 'the archive is written the same way twice').toBe(true);
    expect(existsSync(join(app, '.osv', 'hello.push.json'))).toBe(true);
  });

  it('refuses a digest or docker-archive target, and a registry that refuses the credentials, naming the fix', () => {
    const d = osv(app, ['push', `${reg.host}/apps/hello@sha256:${'0'.repeat(64)}`]);
    expect(d.code).toBe(2);
    expect(d.out).toContain('a push names a tag');
    const da = osv(app, ['push', 'docker-archive:x.tar']);
    expect(da.code).toBe(2);
    expect(da.out).toContain('oci-archive:FILE');
    writeFileSync(join(work, 'docker', 'config.json'), JSON.stringify({ auths: { [reg.host]: { auth: Buffer.from('alice:wrong-one').toString('base64') } } }));
    try {
      const bad = osv(app, ['push', `${reg.host}/apps/hello:3`]);
      expect(bad.code).toBe(1);
      expect(bad.out).toContain('were refused');
      expect(bad.out).not.toContain('wrong-one');
      expect(bad.out).not.toMatch(/\n\s+at /);
    } finally {
      writeFileSync(join(work, 'docker', 'config.json'), JSON.stringify({ auths: { [reg.host]: { auth: Buffer.from(`alice:${PASSWORD}`).toString('base64') } } }));
    }
  });
});

describe.skipIf(reason !== undefined)('osv push through a Bearer token service', () => {
  let work: string;
  let reg: Registry;
  let proxy: TokenProxy;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'osv-push-bearer-'));
    reg = await startRegistry();
    proxy = await startTokenProxy(reg, 'carol', 'bearer-pass-3');
    mkdirSync(join(work, 'docker'));
    writeFileSync(join(work, 'docker', 'config.json'), JSON.stringify({ auths: { [proxy.host]: { auth: Buffer.from('carol:bearer-pass-3').toString('base64') } } }));
    env = { PATH: process.env['PATH'], HOME: work, DOCKER_CONFIG: join(work, 'docker'), XDG_CACHE_HOME: join(work, 'cache'), OSV_KERNEL: kernel, CI: '1' };
  }, 60_000);
  afterAll(async () => {
    await proxy?.stop();
    await reg?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it('asks for push scope, and for pull on the source repository when it mounts a blob from there', async () => {
    const dir = join(work, 'app');
    cpSync(join(ROOT, 'examples', 'hello-c'), dir, { recursive: true });
    execFileSync('make', ['-s'], { cwd: dir });
    // The token service runs in this process: the CLI runs asynchronously, so that it can answer.
    const push = async (target: string): Promise<PushJson> => {
      const r = await runOsvAsync(['push', target, '--json'], { cwd: dir, env });
      expect(r.code, r.out).toBe(0);
      return JSON.parse(r.stdout) as PushJson;
    };
    const a = await push(`${proxy.host}/team/a:1`);
    const tokens = () => proxy.requests.filter((r) => r.startsWith('GET /token')).map((r) => new URL(r.slice(4), 'http://x').searchParams.getAll('scope'));
    expect(tokens().some((s) => s.includes('repository:team/a:pull,push'))).toBe(true);
    const b = await push(`${proxy.host}/team/b:1`);
    expect(b.digest).toBe(a.digest);
    expect(b.blobs.filter((x) => x.role !== 'manifest').map((x) => x.action)).toEqual(['mounted', 'mounted', 'mounted']);
    expect(tokens().some((s) => s.includes('repository:team/b:pull,push') && s.includes('repository:team/a:pull'))).toBe(true);
    execFileSync('skopeo', ['inspect', '--tls-verify=false', `docker://${reg.host}/team/b:1`]);
  });
});
