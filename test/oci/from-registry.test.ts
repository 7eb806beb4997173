// `from:` against a real registry (Debian's docker-registry, started here on 127.0.0.1) behind
// a Bearer token front this test runs: images made with umoci (several layers, whiteouts,
// hard links, absolute symlinks) and by hand (opaque directories, zstd, hostile layers), pushed
// with skopeo, built with `osv build` as a process. The kernel is a stand-in (the disk image
// does not contain it); booting is test/oci/boot.test.ts's.

import { execFileSync, spawn } from 'node:child_process';
import { existsSync, linkSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fakeBuildDir } from '../kernel/helpers.js';
import { addProgram, compile, debianSkeleton, GREET_PATH, GREET_SOURCE } from '../helpers/image-rootfs.js';
import { handLayout, hasRegistryTools, push, registryToolsReason, startRegistry, umociImage, type Registry } from '../helpers/registry.js';
import { startTokenProxy, type TokenProxy } from '../helpers/token-proxy.js';
import { gzip, tar } from '../helpers/tar-writer.js';
import { hasGcc, hasTool } from '../helpers/tools.js';
import { OSV, runOsvAsync, type OsvResult } from '../helpers/osv.js';

const reason = registryToolsReason ?? (hasGcc ? undefined : 'gcc is not installed (it compiles the program inside the test images)');
if (reason) console.warn(`skipped: from: against a real registry: ${reason}`);
if (!hasTool('zstd')) console.warn('skipped: the zstd layer test: zstd is not installed (it compresses the layer)');

const USER = 'tester';
const PASSWORD = 'pa55-w0rd-never-printed';

let work: string;
let reg: Registry;
let proxy: TokenProxy;
let kernel: string;
let cache: string;
let dockerConfig: string;
let greet: string;

/** osv as a process; asynchronous, since the token front runs in this process and must keep answering. */
const osv = (dir: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<OsvResult> =>
  runOsvAsync(args, { cwd: dir, env: { PATH: process.env['PATH'], HOME: work, XDG_CACHE_HOME: cache, DOCKER_CONFIG: dockerConfig, OSV_KERNEL: kernel, CI: '1', ...env } });

/** The last JSON document of a --json run (events come first, one per line). */
function result(r: OsvResult): Record<string, unknown> {
  const at = r.stdout.lastIndexOf('\n{\n');
  return JSON.parse(at < 0 ? r.stdout : r.stdout.slice(at + 1)) as Record<string, unknown>;
}

function project(name: string, yaml: string): string {
  const dir = join(work, 'projects', name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'osv.yaml'), yaml);
  return dir;
}

const lockOf = (dir: string): { images: Record<string, Record<string, { digest: string }>> } => JSON.parse(readFileSync(join(dir, 'osv.lock'), 'utf8'));

describe.skipIf(reason !== undefined)('from: an image in a real registry', () => {
  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'osv-from-'));
    cache = join(work, 'cache');
    dockerConfig = join(work, 'docker');
    mkdirSync(dockerConfig);
    writeFileSync(join(dockerConfig, 'config.json'), JSON.stringify({ auths: { 'placeholder.example': { auth: 'eDp5' } } }));
    kernel = fakeBuildDir(work, 'kernel');
    reg = await startRegistry();
    proxy = await startTokenProxy(reg, USER, PASSWORD);
    greet = compile(work, 'greet', GREET_SOURCE);
    // Three layers: the base with the program; a layer that deletes, links and points; a
    // layer that replaces a directory's contents.
    const img = umociImage(
      work,
      'greet',
      [
        (root) => {
          debianSkeleton(root);
          addProgram(root, greet, GREET_PATH);
          mkdirSync(join(root, 'usr/share/greet/old'), { recursive: true });
          writeFileSync(join(root, 'usr/share/greet/old/a.txt'), 'old a');
          writeFileSync(join(root, 'usr/share/greet/doomed.txt'), 'deleted in layer 2');
          mkdirSync(join(root, 'etc/alternatives'), { recursive: true });
        },
        (root) => {
          unlinkSync(join(root, 'usr/share/greet/doomed.txt'));
          linkSync(join(root, GREET_PATH.slice(1)), join(root, 'usr/bin/greet-hardlink'));
          symlinkSync(GREET_PATH, join(root, 'etc/alternatives/greeter'));
          symlinkSync('/etc/alternatives/greeter', join(root, 'usr/bin/greeter'));
          writeFileSync(join(root, 'usr/share/greet/kept.txt'), 'kept');
        },
        (root) => {
          rmSync(join(root, 'usr/share/greet/old'), { recursive: true });
          mkdirSync(join(root, 'usr/share/greet/old'));
          writeFileSync(join(root, 'usr/share/greet/old/b.txt'), 'new b');
        },
      ],
      { entrypoint: ['greeter'], cmd: ['from', 'the', 'registry'], env: ['GREETING=hello', 'PATH=/usr/local/bin:/usr/bin'], workingDir: '/usr/share/greet', exposedPorts: ['8080/tcp', '53/udp'] },
    );
    push(img.ref, reg, 'private/greet:1');
    push(img.ref, reg, 'public/greet:1');
  }, 120_000);
  afterAll(async () => {
    await proxy?.stop();
    await reg?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  const privateRef = (): string => `${proxy.host}/private/greet:1`;
  const login = (user = USER, password = PASSWORD): void =>
    writeFileSync(join(dockerConfig, 'config.json'), JSON.stringify({ auths: { [proxy.host]: { auth: Buffer.from(`${user}:${password}`).toString('base64') } } }));

  it('a two-line osv.yaml builds from a private image: Bearer token with docker config.json credentials, Entrypoint + Cmd, Env and WorkingDir from the image, locked', async () => {
    login();
    const dir = project('two-lines', `name: greet\nfrom: ${privateRef()}\n`);
    const r = await osv(dir, ['build', '--json', '--no-check']);
    expect(r.code, r.stderr).toBe(0);
    expect(result(r)['cmdline']).toBe('--rootfs=rofs --verbose --env=GREETING=hello --env=PATH=/usr/local/bin:/usr/bin --cwd=/usr/share/greet /usr/bin/greeter from the registry !');
    const digest = lockOf(dir).images[privateRef()]!['linux/amd64']!.digest;
    expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    // pull events per layer under --json; nothing secret anywhere
    expect(r.stdout).toContain('"event":"pull"');
    for (const text of [r.stdout, r.stderr, readFileSync(join(dir, 'osv.lock'), 'utf8')]) {
      expect(text).not.toContain(PASSWORD);
      expect(text).not.toContain(Buffer.from(`${USER}:${PASSWORD}`).toString('base64'));
    }
    // redirects to the CDN never carried the credentials or the token
    expect(proxy.requests.some((q) => q.startsWith('CDN GET'))).toBe(true);
    expect(proxy.cdnAuthorized).toBe(0);
    // -P forwards each port the image exposes from the same host port (here: the command only)
    const up = await osv(dir, ['up', '-P', '--dry-run', '--no-check', '--json', '--accel', 'tcg']);
    expect(up.code, up.stderr + up.stdout).toBe(0);
    const command = (result(up)['command'] as string[]).join(' ');
    expect(command).toContain('hostfwd=tcp:127.0.0.1:8080-:8080');
    expect(command).toContain('hostfwd=udp:127.0.0.1:53-:53');
  });

  it('plan and why name the image and the layer of each file; whiteouts, hard links, absolute symlinks and opaque directories are applied as the spec says', async () => {
    login();
    const dir = project('layers', `name: layers\nfrom: ${privateRef()}\nfiles:\n  - {src: /usr/share/greet, dest: /data-files}\n  - {src: /usr/bin/greet-hardlink, dest: /hard}\n`);
    const plan = await osv(dir, ['plan', '--json']);
    expect(plan.code, plan.stderr).toBe(0);
    const p = JSON.parse(plan.stdout) as { image: { reference: string; layers: unknown[]; exposedPorts: string[] }; entries: Array<{ guest: string; kind: string; target?: string; origin?: { layer: number; path: string; image: string } }> };
    expect(p.image.layers).toHaveLength(3);
    expect(p.image.exposedPorts).toEqual(['53/udp', '8080/tcp']);
    const byGuest = new Map(p.entries.map((e) => [e.guest, e]));
    // the program, found on the image's PATH through two absolute symlinks, keeps its path
    // (umoci put the program again in layer 2: linking to it changed its inode's link count)
    expect(byGuest.get('/usr/bin/greeter')).toMatchObject({ kind: 'file', origin: { layer: 2, path: GREET_PATH } });
    // the deleted file is gone, the opaque directory shows only the new layer's child
    const files = p.entries.filter((e) => e.guest.startsWith('/data-files/')).map((e) => e.guest);
    expect(files).toEqual(['/data-files/kept.txt', '/data-files/old', '/data-files/old/b.txt']);
    expect(byGuest.get('/data-files/old/b.txt')?.origin?.layer).toBe(3);
    // a hard link made in layer 2 shares the bytes of the file it links to
    expect(byGuest.get('/hard')).toMatchObject({ origin: { layer: 2, path: '/usr/bin/greet-hardlink' }, size: (byGuest.get('/usr/bin/greeter') as unknown as { size: number }).size });
    const text = (await osv(dir, ['plan'])).stdout;
    expect(text).toContain(`From: ${privateRef()} @ sha256:`);
    expect(text).toMatch(/\/usr\/bin\/greeter +\d+ KiB +\/opt\/only-in-image\/bin\/greet \[layer 2\]/);
    const why = (await osv(dir, ['why', '/usr/bin/greeter'])).stdout;
    expect(why).toMatch(new RegExp(`copied from ${GREET_PATH} in the image ${privateRef().replace(/\./g, '\\.')} \\(sha256:[0-9a-f]{12}\\), layer 2 \\(sha256:[0-9a-f]{64}\\)`));
    expect(why).toContain('Entrypoint + Cmd of the image');
    // nothing is taken from the host: a path that exists only on the host is not found
    const host = project('host-path', `name: h\nfrom: ${privateRef()}\nfiles: [{src: /etc/hostname, dest: /x}]\n`);
    const miss = await osv(host, ['plan']);
    expect(miss.code).toBe(1);
    expect(miss.stderr).toContain('image:/etc/hostname does not exist');
  });

  it('a cached image builds without the registry; a no-op build does not contact it; a cleared cache gives a byte-identical disk image', async () => {
    login();
    const dir = project('repro', `name: repro\nfrom: ${privateRef()}\n`);
    expect((await osv(dir, ['build', '--no-check'])).code).toBe(0);
    const image = join(dir, '.osv', 'repro.img');
    const first = readFileSync(image);
    const seen = proxy.requests.length;
    const noop = await osv(dir, ['build', '--no-check', '--json']);
    expect(result(noop)).toMatchObject({ upToDate: true, fromRecords: true });
    expect((await osv(dir, ['build', '--no-check', '--force', '--locked'])).code).toBe(0);
    expect(proxy.requests.length).toBe(seen);
    rmSync(cache, { recursive: true, force: true });
    const again = await osv(dir, ['build', '--no-check', '--force', '--locked']);
    expect(again.code, again.stderr).toBe(0);
    expect(proxy.requests.length).toBeGreaterThan(seen);
    expect(readFileSync(image).equals(first)).toBe(true);
  });

  it('retagging changes nothing until osv pull moves the lock; --locked refuses an unlocked reference', async () => {
    login();
    const dir = project('retag', `name: retag\nfrom: ${proxy.host}/private/moving:1\n`);
    push(`oci:${join(work, 'greet-layout')}:t`, reg, 'private/moving:1');
    expect((await osv(dir, ['build', '--no-check', '--locked'])).stderr).toContain('--locked: osv.lock has no digest for');
    expect((await osv(dir, ['build', '--no-check'])).code).toBe(0);
    const pinned = lockOf(dir).images[`${proxy.host}/private/moving:1`]!['linux/amd64']!.digest;
    // another image under the same tag
    const other = umociImage(work, 'other', [(root) => (debianSkeleton(root), addProgram(root, greet, '/usr/bin/other'))], { entrypoint: ['/usr/bin/other'] });
    push(other.ref, reg, 'private/moving:1');
    const still = await osv(dir, ['build', '--no-check', '--json']);
    expect(result(still)).toMatchObject({ upToDate: true });
    expect(lockOf(dir).images[`${proxy.host}/private/moving:1`]!['linux/amd64']!.digest).toBe(pinned);
    const pulled = await osv(dir, ['pull', '--json']);
    expect(pulled.code, pulled.stderr).toBe(0);
    expect(JSON.parse(pulled.stdout)).toMatchObject({ changed: true, previous: pinned });
    const rebuilt = await osv(dir, ['build', '--no-check', '--json']);
    expect(result(rebuilt)).toMatchObject({ upToDate: false, cmdline: '--rootfs=rofs --verbose /usr/bin/other !' });
  });

  it('wrong or missing credentials: a clear error that never shows the secret; public images pull anonymously', async () => {
    login(USER, 'wrong-password-123');
    const dir = project('denied', `name: d\nfrom: ${privateRef()}\n`);
    rmSync(cache, { recursive: true, force: true });
    const r = await osv(dir, ['plan']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${proxy.host}/private/greet: access denied: the token service refused the credentials from ${join(dockerConfig, 'config.json')}`);
    expect(r.stderr).not.toContain('wrong-password-123');
    writeFileSync(join(dockerConfig, 'config.json'), '{}');
    const anon = await osv(dir, ['plan']);
    expect(anon.stderr).toContain(`${proxy.host}/private/greet: access denied: it needs credentials, and none are configured for it`);
    const pub = project('public', `name: p\nfrom: ${proxy.host}/public/greet:1\n`);
    expect((await osv(pub, ['build', '--no-check'])).code).toBe(0);
  });

  it('credentials from a docker-credential helper (credHelpers and credsStore) and from $REGISTRY_AUTH_FILE', async () => {
    const bin = join(work, 'helper-bin');
    mkdirSync(bin, { recursive: true });
    writeFileSync(join(bin, 'docker-credential-osvtest'), `#!/bin/sh\nread server\necho "{\\"ServerURL\\":\\"$server\\",\\"Username\\":\\"${USER}\\",\\"Secret\\":\\"${PASSWORD}\\"}"\n`, { mode: 0o755 });
    const env = { PATH: `${bin}:${process.env['PATH']}` };
    const dir = project('helper', `name: h\nfrom: ${privateRef()}\n`);
    for (const config of [{ credHelpers: { [proxy.host]: 'osvtest' } }, { credsStore: 'osvtest' }]) {
      writeFileSync(join(dockerConfig, 'config.json'), JSON.stringify(config));
      rmSync(cache, { recursive: true, force: true });
      const r = await osv(dir, ['plan'], env);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout + r.stderr).not.toContain(PASSWORD);
    }
    writeFileSync(join(dockerConfig, 'config.json'), '{}');
    const authFile = join(work, 'auth.json');
    writeFileSync(authFile, JSON.stringify({ auths: { [proxy.host]: { auth: Buffer.from(`${USER}:${PASSWORD}`).toString('base64') } } }));
    rmSync(cache, { recursive: true, force: true });
    expect((await osv(dir, ['plan'], { REGISTRY_AUTH_FILE: authFile })).code).toBe(0);
  });

  it('reads the same image from an OCI layout, a docker-archive (legacy and OCI inside) and an oci-archive', async () => {
    login();
    const layout = join(work, 'greet-layout');
    const archive = join(work, 'greet-docker.tar');
    const ociArchive = join(work, 'greet-oci.tar');
    execFileSync('skopeo', ['copy', '-q', `oci:${layout}:t`, `docker-archive:${archive}:example.com/greet:1`]);
    execFileSync('skopeo', ['copy', '-q', `oci:${layout}:t`, `oci-archive:${ociArchive}:t`]);
    const guests = async (from: string): Promise<string[]> => {
      const dir = project(`src-${from.split(':')[0]}`, `name: s\nfrom: "${from}"\nfiles: [{src: /usr/share/greet, dest: /d}]\n`);
      const r = await osv(dir, ['plan', '--json']);
      expect(r.code, r.stderr).toBe(0);
      return (JSON.parse(r.stdout) as { entries: Array<{ guest: string; size?: number }> }).entries.map((e) => `${e.guest}:${e.size ?? ''}`);
    };
    const fromLayout = await guests(`oci:${layout}:t`);
    expect(await guests(`docker-archive:${archive}:example.com/greet:1`)).toEqual(fromLayout);
    expect(await guests(`oci-archive:${ociArchive}:t`)).toEqual(fromLayout);
    expect(await guests(`docker-archive:${archive}`)).toEqual(fromLayout);
    expect(fromLayout).toContain('/d/old/b.txt:5');
    // `docker save` of Docker 25 and later: an OCI layout inside, named by containerd's
    // annotation, with the legacy manifest.json beside it
    const inside = join(work, 'greet-docker25');
    rmSync(inside, { recursive: true, force: true });
    execFileSync('cp', ['-r', layout, inside]);
    const index = JSON.parse(readFileSync(join(inside, 'index.json'), 'utf8')) as { manifests: Array<{ digest: string; annotations?: Record<string, string> }> };
    const top = index.manifests[0]!;
    top.annotations = { 'io.containerd.image.name': 'example.com/greet:1', 'org.opencontainers.image.ref.name': '1' };
    writeFileSync(join(inside, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [top] }));
    const m = JSON.parse(readFileSync(join(inside, 'blobs', 'sha256', top.digest.slice(7)), 'utf8')) as { config: { digest: string }; layers: Array<{ digest: string }> };
    const blob = (d: string): string => `blobs/sha256/${d.slice(7)}`;
    writeFileSync(join(inside, 'manifest.json'), JSON.stringify([{ Config: blob(m.config.digest), RepoTags: ['example.com/greet:1'], Layers: m.layers.map((l) => blob(l.digest)) }]));
    const docker25 = join(work, 'greet-docker25.tar');
    execFileSync('tar', ['-C', inside, '-cf', docker25, '.']);
    expect(await guests(`docker-archive:${docker25}:example.com/greet:1`)).toEqual(fromLayout);
    expect(await guests(`docker-archive:${docker25}`)).toEqual(fromLayout);
  });

  it.runIf(hasTool('zstd'))('zstd and uncompressed layers, and an opaque directory written by hand', async () => {
    const base = tar([{ name: 'keep/', type: 'dir' }, { name: 'keep/old.txt', data: 'old' }, { name: 'keep/sub/x', data: 'x' }]);
    const top = tar([{ name: 'keep/.wh..wh..opq' }, { name: 'keep/new.txt', data: 'new' }], { end: false });
    const zstd = execFileSync('zstd', ['-q', '-c'], { input: top });
    const ref = handLayout(join(work, 'zstd-layout'), [
      { tar: base, blob: base, mediaType: 'application/vnd.oci.image.layer.v1.tar' },
      { tar: top, blob: zstd, mediaType: 'application/vnd.oci.image.layer.v1.tar+zstd' },
    ]);
    push(ref, reg, 'public/zstd:1');
    const dir = project('zstd', `name: z\nfrom: ${proxy.host}/public/zstd:1\ncmd: [/x]\nfiles: [{src: /keep, dest: /keep}]\n`);
    const r = await osv(dir, ['plan', '--json']);
    // no program in this image: the plan fails on cmd, after reading the layers (--json: errors on stdout)
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('/x in the image');
    const ok = project('zstd-ok', `name: z\nfrom: ${proxy.host}/public/zstd:1\ncmd: [/x]\nfiles: [{src: /keep, dest: /keep}, {dest: /x, content: "x", mode: "0755"}]\n`);
    const p = await osv(ok, ['plan', '--json']);
    expect(p.code, p.stderr).toBe(0);
    const guests = (JSON.parse(p.stdout) as { entries: Array<{ guest: string }> }).entries.map((e) => e.guest).filter((g) => g.startsWith('/keep'));
    expect(guests).toEqual(['/keep', '/keep/new.txt']);
  });

  it('hostile and broken images: a clear error naming the image, the layer and the member; nothing written outside the cache; the previous image untouched', async () => {
    const victim = mkdtempSync(join(tmpdir(), 'osv-victim-'));
    const dir = project('hostile', `name: hostile\nfrom: ${privateRef()}\n`);
    login();
    expect((await osv(dir, ['build', '--no-check'])).code).toBe(0);
    const image = join(dir, '.osv', 'hostile.img');
    const before = readFileSync(image);
    const cases: Array<[string, Buffer, RegExp]> = [
      ['absolute', tar([{ name: `${victim}/pwned`, data: 'x' }]), /member "\/tmp\/osv-victim-\w+\/pwned": its name is absolute/],
      ['dotdot', tar([{ name: '../../../../pwned', data: 'x' }]), /contains "\.\."/],
      ['planted', tar([{ name: 'evil', type: 'symlink', linkname: victim }, { name: 'evil/pwned', data: 'x' }]), /member "evil\/pwned": its parent \/evil is a symlink/],
      ['hardlink', tar([{ name: 'h', type: 'hardlink', linkname: '/etc/shadow' }]), /hard link out of the root/],
      ['whiteout', tar([{ name: 'a/.wh...' }]), /whiteout of "\.\."/],
    ];
    for (const [name, layer, message] of cases) {
      const ref = handLayout(join(work, `hostile-${name}`), [{ tar: layer, blob: gzip(layer), mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip' }]);
      push(ref, reg, `private/hostile-${name}:1`);
      writeFileSync(join(dir, 'osv.yaml'), `name: hostile\nfrom: ${proxy.host}/private/hostile-${name}:1\n`);
      const r = await osv(dir, ['build', '--no-check']);
      expect(r.code, name).toBe(1);
      expect(r.stderr).toMatch(new RegExp(`${proxy.host.replace(/\./g, '\\.')}/private/hostile-${name}:1, layer 1 \\(sha256:[0-9a-f]{12}\\): `));
      expect(r.stderr).toMatch(message);
      expect(readdirSync(victim)).toEqual([]);
      expect(readFileSync(image).equals(before)).toBe(true);
    }
    // a blob corrupted in transit: the digest check catches it
    const good = handLayout(join(work, 'corrupt-layout'), [{ tar: tar([{ name: 'f', data: 'y'.repeat(5000) }]), blob: gzip(tar([{ name: 'f', data: 'y'.repeat(5000) }])), mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip' }]);
    push(good, reg, 'private/corrupt:1');
    const index = JSON.parse(readFileSync(join(work, 'corrupt-layout', 'index.json'), 'utf8')) as { manifests: Array<{ digest: string }> };
    const manifest = JSON.parse(readFileSync(join(work, 'corrupt-layout', 'blobs', 'sha256', index.manifests[0]!.digest.slice(7)), 'utf8')) as { layers: Array<{ digest: string }> };
    proxy.corrupt.add(manifest.layers[0]!.digest);
    writeFileSync(join(dir, 'osv.yaml'), `name: hostile\nfrom: ${proxy.host}/private/corrupt:1\ncmd: [/f]\n`);
    const c = await osv(dir, ['build', '--no-check']);
    expect(c.stderr).toMatch(/private\/corrupt:1, layer 1 \(sha256:[0-9a-f]{12}\): (the blob's sha256 is|its gzip stream is corrupt|the uncompressed layer's sha256)/);
    proxy.corrupt.clear();
    // a manifest list without our platform
    const arm = handLayout(join(work, 'arm-layout'), [{ tar: tar([{ name: 'f' }]), blob: gzip(tar([{ name: 'f' }])), mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip' }], { arch: 'arm64', indexPlatforms: ['arm64', 's390x'] });
    push(arm, reg, 'public/arm:1', ['--all']);
    writeFileSync(join(dir, 'osv.yaml'), `name: hostile\nfrom: ${proxy.host}/public/arm:1\n`);
    const a = await osv(dir, ['build', '--no-check']);
    expect(a.stderr).toContain(`${proxy.host}/public/arm:1 has no image for linux/amd64`);
    expect(a.stderr).toContain('it offers: linux/arm64, linux/s390x');
    expect(readFileSync(image).equals(before)).toBe(true);
    // nothing unfinished is left in the cache
    expect(existsSync(join(cache, 'osv-up', 'oci', 'tmp')) ? readdirSync(join(cache, 'osv-up', 'oci', 'tmp')) : []).toEqual([]);
    rmSync(victim, { recursive: true, force: true });
  });

  it('a static-only or musl image: an error naming the program, the image and the layer', async () => {
    const src = join(work, 'plain.c');
    writeFileSync(src, 'int main(void) { return 0; }\n');
    const img = umociImage(work, 'odd', [
      (root) => {
        mkdirSync(join(root, 'bin'), { recursive: true });
        execFileSync('gcc', ['-static', '-o', join(root, 'bin/static'), src]);
        // linked as Alpine's programs are: musl's dynamic linker as the interpreter
        execFileSync('gcc', ['-o', join(root, 'bin/musl'), '-Wl,--dynamic-linker=/lib/ld-musl-x86_64.so.1', src]);
      },
    ]);
    push(img.ref, reg, 'public/odd:1');
    const dir = project('odd', `name: odd\nfrom: ${proxy.host}/public/odd:1\ncmd: [/bin/static]\n`);
    const st = await osv(dir, ['plan']);
    expect(st.code).toBe(1);
    expect(st.stderr).toContain('image:/bin/static is a statically linked executable');
    expect(st.stderr).toMatch(new RegExp(`/bin/static is in the image ${proxy.host.replace(/\./g, '\\.')}/public/odd:1 \\(sha256:[0-9a-f]{64}\\), layer 1 \\(sha256:[0-9a-f]{64}\\)`));
    writeFileSync(join(dir, 'osv.yaml'), `name: odd\nfrom: ${proxy.host}/public/odd:1\ncmd: [/bin/musl]\n`);
    const musl = await osv(dir, ['plan']);
    expect(musl.code).toBe(1);
    expect(musl.stderr).toContain(`cmd[0]: /bin/musl in the image ${proxy.host}/public/odd:1 is linked against musl (its interpreter is /lib/ld-musl-x86_64.so.1)`);
  });

  it('two builds pulling one image at once both succeed; a killed pull leaves nothing a later build trusts; cache ls and prune', async () => {
    login();
    rmSync(cache, { recursive: true, force: true });
    const a = project('twin-a', `name: a\nfrom: ${privateRef()}\n`);
    const b = project('twin-b', `name: b\nfrom: ${privateRef()}\n`);
    const env = { PATH: process.env['PATH'], HOME: work, XDG_CACHE_HOME: cache, DOCKER_CONFIG: dockerConfig, OSV_KERNEL: kernel, CI: '1' };
    const run = (cwd: string): Promise<number | null> => runOsvAsync(['build', '--no-check', '-q'], { cwd, env }).then((r) => r.code);
    expect(await Promise.all([run(a), run(b)])).toEqual([0, 0]);
    expect(readFileSync(join(a, '.osv', 'a.img')).length).toBeGreaterThan(0);

    // a pull killed halfway: the slowed CDN gives time to kill it
    rmSync(cache, { recursive: true, force: true });
    proxy.slowMs = 50;
    const killed = spawn(process.execPath, [OSV, 'build', '--no-check', '-q', '--force'], { cwd: a, env, stdio: 'ignore' });
    const exited = new Promise((r) => killed.on('exit', r));
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline && !(existsSync(join(cache, 'osv-up', 'oci', 'tmp')) && readdirSync(join(cache, 'osv-up', 'oci', 'tmp')).length > 0)) await new Promise((r) => setTimeout(r, 20));
    expect(killed.exitCode, 'the build ended before it could be killed').toBeNull();
    killed.kill('SIGKILL');
    await exited;
    proxy.slowMs = 0;
    expect(existsSync(join(cache, 'osv-up', 'oci', 'images'))).toBe(false);
    const ls = await osv(a, ['cache', 'ls', '--json']);
    expect(JSON.parse(ls.stdout)).toMatchObject({ images: [] });
    expect((await osv(a, ['build', '--no-check', '--force'])).code).toBe(0);
    const listed = JSON.parse((await osv(a, ['cache', 'ls', '--json'])).stdout) as { images: Array<{ reference: string; layers: number }> };
    expect(listed.images).toEqual([expect.objectContaining({ reference: privateRef(), layers: 3 })]);
    // prune keeps what this project's osv.lock pins; --all frees everything
    const pruned = JSON.parse((await osv(a, ['cache', 'prune', '--json'])).stdout) as { kept: string[]; removed: string[] };
    expect(pruned.kept).toHaveLength(1);
    expect(readdirSync(join(cache, 'osv-up', 'oci', 'tmp'))).toEqual([]);
    await osv(a, ['cache', 'prune', '--all']);
    expect(JSON.parse((await osv(a, ['cache', 'ls', '--json'])).stdout)).toMatchObject({ images: [], bytes: 0 });
  }, 120_000);
});
