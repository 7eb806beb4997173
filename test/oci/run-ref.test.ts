// A pushed image booted on "another machine": OSV_KERNEL is set only for `osv push`; then, in a
// directory without osv.yaml and with a fresh cache, `osv run REF`, `osv test REF` and
// `osv pull REF` get the kernel, the disk, the command line and the settings from the image.
// The KubeVirt shape: the kernel and disk unpacked from the image by umoci, booted on q35 with
// PCIe root ports and modern-only virtio, with the kernelArgs `osv export kubevirt` writes.

import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { hasRegistryTools, push, registryToolsReason, startRegistry, umociImage, type Registry } from '../helpers/registry.js';
import { hasGcc, hasTool, onPath } from '../helpers/tools.js';
import { runOsv } from '../helpers/osv.js';

const ROOT = join(import.meta.dirname, '..', '..');
const kernel = process.env['OSV_KERNEL'];
const reason = !kernel
  ? 'OSV_KERNEL is not set (an OSv kernel to build the pushed image with)'
  : !hasTool('qemu-system-x86_64')
    ? 'qemu-system-x86_64 is not installed'
    : !hasRegistryTools
      ? registryToolsReason
      : !onPath('htpasswd')
        ? 'htpasswd is not installed (apache2-utils)'
        : !hasGcc
          ? 'gcc is not installed'
          : undefined;
if (reason) console.warn(`skipped: osv run REF: ${reason}`);

const PASSWORD = 'run-ref-secret';

describe.skipIf(reason !== undefined)('booting a pushed image with no osv.yaml and no OSV_KERNEL', () => {
  let work: string;
  let reg: Registry;
  let ref: string;
  let pinned: string;
  let elsewhere: string;
  /** The other machine: credentials, a cache of its own, no OSV_KERNEL. */
  let remote: NodeJS.ProcessEnv;

  const osv = (cwd: string, args: string[], env: NodeJS.ProcessEnv) => runOsv(args, { cwd, env, timeout: 150_000 });

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'osv-run-ref-'));
    reg = await startRegistry({ user: 'bob', password: PASSWORD });
    mkdirSync(join(work, 'docker'));
    writeFileSync(join(work, 'docker', 'config.json'), JSON.stringify({ auths: { [reg.host]: { auth: Buffer.from(`bob:${PASSWORD}`).toString('base64') } } }));
    const app = join(work, 'app');
    cpSync(join(ROOT, 'examples', 'hello-c'), app, { recursive: true });
    execFileSync('make', ['-s'], { cwd: app });
    writeFileSync(join(app, 'osv.yaml'), 'name: hello\ncmd: [./hello, world]\nrun:\n  memory: 256M\n  cpus: 1\n  timeout: 60\nruns:\n  other:\n    cmd: [./hello, from the other run]\n');
    const build = { PATH: process.env['PATH'], HOME: work, DOCKER_CONFIG: join(work, 'docker'), XDG_CACHE_HOME: join(work, 'build-cache'), OSV_KERNEL: kernel, CI: '1' };
    const r = osv(app, ['push', `${reg.host}/apps/hello:1`, '--json'], build);
    expect(r.code, r.out).toBe(0);
    ref = `${reg.host}/apps/hello:1`;
    pinned = (JSON.parse(r.stdout) as { reference: string }).reference;
    elsewhere = join(work, 'elsewhere');
    mkdirSync(elsewhere);
    remote = { PATH: process.env['PATH'], HOME: work, DOCKER_CONFIG: join(work, 'docker'), XDG_CACHE_HOME: join(work, 'remote-cache'), CI: '1' };
  }, 180_000);
  afterAll(async () => {
    await reg?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it('osv run REF prints the program\'s output, with the kernel, disk and command line from the image', () => {
    expect(remote['OSV_KERNEL']).toBeUndefined();
    const r = osv(elsewhere, ['run', ref], remote);
    expect(r.out).toContain('Hello from OSv! world');
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain(pinned);
    // The cached disk is never written (the VM writes to an overlay).
    const dry = osv(elsewhere, ['run', ref, '--dry-run'], remote);
    expect(dry.stdout).toContain('snapshot=on');
    expect(dry.stdout).toContain('-m 256M');
  }, 180_000);

  it('flags override the image: --run picks another run, -m the memory; osv test REF gives a verdict', () => {
    const other = osv(elsewhere, ['run', ref, '--run', 'other', '-m', '300M', '--dry-run'], remote);
    expect(other.code, other.out).toBe(0);
    expect(other.stdout).toContain('/hello "from the other run"');
    expect(other.stdout).toContain('-m 300M');
    const pass = osv(elsewhere, ['test', ref, '--expect', 'Hello from OSv! world'], remote);
    expect(pass.code, pass.out).toBe(0);
    const fail = osv(elsewhere, ['test', ref, '--expect', 'a line never printed'], remote);
    expect(fail.code, fail.out).toBe(4);
    const none = osv(elsewhere, ['run', ref, '--run', 'nope'], remote);
    expect(none.code).toBe(125);
    expect(none.out).toContain('has no run named "nope"');
  }, 240_000);

  it('osv pull REF caches it by digest; an image that osv push did not make is refused, naming why', () => {
    const p = osv(elsewhere, ['pull', ref, '--json'], remote);
    expect(p.code, p.out).toBe(0);
    const j = JSON.parse(p.stdout) as { digest: string; pulled: boolean; kernelVersion: string | null; runs: Array<{ name: string }> };
    expect(`${ref}@${j.digest}`).toBe(pinned);
    expect(j.pulled).toBe(false);
    expect(j.runs.map((r) => r.name).sort()).toEqual(['default', 'other']);
    const plain = umociImage(work, 'plain', [(root) => writeFileSync(join(root, 'x'), 'x')]);
    push(plain.ref, reg, 'apps/plain:1');
    const bad = osv(elsewhere, ['pull', `${reg.host}/apps/plain:1`], remote);
    expect(bad.code).toBe(1);
    expect(bad.out).toContain('it was not pushed by `osv push`');
    expect(bad.out).not.toMatch(/\n\s+at /);
  }, 120_000);

  it('KubeVirt\'s shape: kernel and disk unpacked from the image, q35 behind PCIe root ports, modern-only virtio, the exported kernelArgs', () => {
    const exported = osv(elsewhere, ['export', 'kubevirt', ref], remote);
    expect(exported.code, exported.out).toBe(0);
    const vm = parseAllDocuments(exported.stdout)[0]!.toJS() as { spec: { template: { spec: { domain: { firmware: { kernelBoot: { kernelArgs: string; container: { kernelPath: string } } } }; volumes: Array<{ containerDisk: { path: string } }> } } } };
    const spec = vm.spec.template.spec;
    const kernelArgs = spec.domain.firmware.kernelBoot.kernelArgs;
    const layout = join(work, 'kv-layout');
    const image = (vm as unknown as { spec: { template: { spec: { volumes: Array<{ containerDisk: { image: string } }> } } } }).spec.template.spec.volumes[0]!.containerDisk.image;
    expect(image).toBe(pinned.replace(':1@', '@'));
    execFileSync('skopeo', ['copy', '-q', '--src-creds', `bob:${PASSWORD}`, '--src-tls-verify=false', `docker://${image}`, `oci:${layout}:t`]);
    const bundle = join(work, 'kv-bundle');
    execFileSync('umoci', ['unpack', '--rootless', '--image', `${layout}:t`, bundle]);
    const kernelFile = join(bundle, 'rootfs', spec.domain.firmware.kernelBoot.container.kernelPath);
    const diskFile = join(bundle, 'rootfs', spec.volumes[0]!.containerDisk.path);
    const args = ['run', diskFile, '--kernel', kernelFile, '-e', kernelArgs, '--machine', 'q35', '--ci', '--timeout', '90'];
    const dry = osv(elsewhere, [...args, '--dry-run'], remote);
    expect(dry.code, dry.out).toBe(0);
    const line = dry.stdout;
    expect(line).toContain('-machine q35');
    expect(line).toMatch(/-device pcie-root-port,id=rp1,bus=pcie\.0,chassis=1,port=1 /);
    expect(line).toMatch(/virtio-blk-pci,bus=rp1,disable-legacy=on,/);
    expect(line).toMatch(/virtio-net-pci,bus=rp2,disable-legacy=on,/);
    expect(line).toContain('format=qcow2');
    const r = osv(elsewhere, args, remote);
    expect(r.out).toContain('Hello from OSv! world');
    expect(r.code, r.out).toBe(0);
  }, 240_000);

  it('an image pinned by digest boots from the cache with the registry gone', async () => {
    await reg.stop();
    const r = osv(elsewhere, ['run', pinned, '--machine', 'q35'], remote);
    expect(r.out).toContain('Hello from OSv! world');
    expect(r.code, r.out).toBe(0);
  }, 180_000);
});
