// `osv export kubevirt`: the YAML for a pushed server with ports, and with --replicas 3,
// parsed with `yaml` and checked field by field against the facts (oci-kubevirt.md §8): the
// kernelBoot container and the containerDisk name the same image pinned by digest, the disk is
// first in disks[], memory and CPUs come from the run, a masquerade interface lists the guest
// ports, a Service selects the VM's labels. Named volumes: each pushed as a seed image (checked
// with skopeo, umoci, qemu-img and debugfs), attached after the image's disk as a DataVolume
// (writable) or containerDisk (read-only), mounted by --mount-fs in kernelArgs. The image is
// pushed to a real registry, built with a stand-in kernel (nothing boots here: see
// kubevirt-volume-boot.test.ts).

import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { fakeBuildDir } from '../kernel/helpers.js';
import { hasRegistryTools, push, registryToolsReason, startRegistry, umociImage, type Registry } from '../helpers/registry.js';
import { addProgram, compile, debianSkeleton, GREET_PATH, GREET_SOURCE } from '../helpers/image-rootfs.js';
import { hasGcc, hasTool } from '../helpers/tools.js';
import { findTool } from '../../src/image/tools.js';
import { runOsv } from '../helpers/osv.js';

const ROOT = join(import.meta.dirname, '..', '..');
const reason = registryToolsReason ?? (!hasGcc ? 'gcc is not installed' : !hasTool('qemu-img') ? 'qemu-img is not installed' : undefined);
if (reason) console.warn(`skipped: osv export kubevirt: ${reason}`);
const debugfsReason = findTool('debugfs') ? undefined : 'debugfs (e2fsprogs) is not installed';
if (!reason && debugfsReason) console.warn(`skipped: the seed's files read back with debugfs: ${debugfsReason}`);

/* eslint-disable @typescript-eslint/no-explicit-any */
type Obj = Record<string, any>;

describe.skipIf(reason !== undefined || !hasRegistryTools)('osv export kubevirt', () => {
  let work: string;
  let reg: Registry;
  let app: string;
  let env: NodeJS.ProcessEnv;
  let pinned: string;
  let seeds: Array<{ volume: string; reference: string; digest: string; path: string }>;

  const osv = (args: string[], cwd = app) => runOsv(args, { cwd, env, timeout: 120_000 });
  const docs = (text: string): Obj[] => parseAllDocuments(text).map((d) => d.toJS() as Obj);

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'osv-export-'));
    reg = await startRegistry();
    app = join(work, 'web');
    cpSync(join(ROOT, 'examples', 'hello-c'), app, { recursive: true });
    execFileSync('make', ['-s'], { cwd: app });
    writeFileSync(
      join(app, 'osv.yaml'),
      'name: web\ncmd: [./hello, serving]\nrun:\n  memory: 384M\n  cpus: 2\n  ports: ["8080:80", "5353:53/udp", "8443:443"]\nruns:\n  admin:\n    cmd: [./hello, admin]\n    run:\n      ports: ["9000:9000"]\n  stateful:\n    run:\n      volumes: [{name: data, dest: /data, size: 64M, from: ./seed}, {name: conf, dest: /etc/app, readonly: true, from: ./conf}]\n  blank:\n    run:\n      volumes: [{name: cache, dest: /cache, size: 32M}]\n',
    );
    mkdirSync(join(app, 'seed', 'sub'), { recursive: true });
    writeFileSync(join(app, 'seed', 'hello.txt'), 'seeded hello\n');
    writeFileSync(join(app, 'seed', 'sub', 'deep.txt'), 'deep\n');
    mkdirSync(join(app, 'conf'));
    writeFileSync(join(app, 'conf', 'app.conf'), 'mode=ro\n');
    mkdirSync(join(work, 'home'));
    // A stand-in kernel, with stand-ins of OSv's ext module (a named volume ships them).
    const k = fakeBuildDir(work, 'k');
    writeFileSync(join(work, 'empty.c'), 'int ext_marker(void) { return 1; }\n');
    for (const lib of ['libext.so', 'liblwext4.so']) execFileSync('gcc', ['-shared', '-fPIC', '-o', join(k, lib), join(work, 'empty.c')]);
    env = { PATH: process.env['PATH'], HOME: join(work, 'home'), XDG_CACHE_HOME: join(work, 'cache'), OSV_KERNEL: k, CI: '1' };
    const r = osv(['push', `${reg.host}/apps/web:1.0`, '--no-check', '--json']);
    expect(r.code, r.out).toBe(0);
    const pushed = JSON.parse(r.stdout) as { digest: string; volumes: Array<{ volume: string; reference: string; digest: string; path: string }> };
    pinned = `${reg.host}/apps/web@${pushed.digest}`;
    seeds = pushed.volumes;
  }, 120_000);
  afterAll(async () => {
    await reg?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  /** The VM spec every variant shares, field by field. */
  const checkVmSpec = (spec: Obj, labels: Obj): void => {
    expect(spec['runStrategy']).toBe('Always');
    expect(spec['running']).toBeUndefined();
    const t = spec['template'];
    expect(t.metadata.labels).toEqual(labels);
    const domain = t.spec.domain;
    expect(domain.memory).toEqual({ guest: '384Mi' });
    expect(domain.cpu).toEqual({ cores: 2 });
    const kb = domain.firmware.kernelBoot;
    expect(kb.container).toEqual({ image: pinned, kernelPath: '/boot/loader-stripped.elf', imagePullPolicy: 'IfNotPresent' });
    expect(kb.container.initrdPath).toBeUndefined();
    expect(kb.kernelArgs).toBe('--rootfs=rofs --verbose --power-off-on-abort /hello serving !');
    expect(domain.devices.disks[0]).toEqual({ name: 'containerdisk', disk: { bus: 'virtio' } });
    expect(domain.devices.interfaces).toEqual([
      {
        name: 'default',
        masquerade: {},
        ports: [
          { name: 'tcp-80', port: 80, protocol: 'TCP' },
          { name: 'udp-53', port: 53, protocol: 'UDP' },
          { name: 'tcp-443', port: 443, protocol: 'TCP' },
        ],
      },
    ]);
    expect(t.spec.networks).toEqual([{ name: 'default', pod: {} }]);
    expect(t.spec.volumes).toEqual([{ name: 'containerdisk', containerDisk: { image: pinned, path: '/disk/web.qcow2', imagePullPolicy: 'IfNotPresent' } }]);
  };

  const checkService = (svc: Obj, name: string, vmLabels: Obj, namespace?: string): void => {
    expect(svc['apiVersion']).toBe('v1');
    expect(svc['kind']).toBe('Service');
    expect(svc['metadata'].name).toBe(name);
    expect(svc['metadata'].namespace).toBe(namespace);
    // The selector picks the VM's pods (virt-launcher carries the template's labels).
    for (const [k, v] of Object.entries(svc['spec'].selector as Obj)) expect(vmLabels[k]).toBe(v);
    expect(svc['spec'].ports).toEqual([
      { name: 'tcp-80', port: 80, protocol: 'TCP' },
      { name: 'udp-53', port: 53, protocol: 'UDP' },
      { name: 'tcp-443', port: 443, protocol: 'TCP' },
    ]);
  };

  it('a server with ports: a kubevirt.io/v1 VirtualMachine and a Service (REF: the last push)', () => {
    const r = osv(['export', 'kubevirt']);
    expect(r.code, r.out).toBe(0);
    const [vm, svc, ...rest] = docs(r.stdout);
    expect(rest).toEqual([]);
    expect(vm!['apiVersion']).toBe('kubevirt.io/v1');
    expect(vm!['kind']).toBe('VirtualMachine');
    expect(vm!['metadata'].name).toBe('web');
    expect(vm!['metadata'].namespace).toBeUndefined();
    const labels = { 'app.kubernetes.io/name': 'web', 'app.kubernetes.io/managed-by': 'osv-up' };
    expect(vm!['metadata'].labels).toEqual(labels);
    checkVmSpec(vm!['spec'], labels);
    checkService(svc!, 'web', vm!['spec'].template.metadata.labels);
    // No YAML anchors: every tool reads it.
    expect(r.stdout).not.toMatch(/[&*]a\d/);
  });

  it('--replicas 3 gives a VirtualMachinePool; --name, --namespace and -o apply', () => {
    const out = join(work, 'pool.yaml');
    const r = osv(['export', 'kubevirt', `${reg.host}/apps/web:1.0`, '--replicas', '3', '--name', 'web-pool', '--namespace', 'demo', '-o', out]);
    expect(r.code, r.out).toBe(0);
    expect(r.stdout).toBe('');
    const [pool, svc] = docs(readFileSync(out, 'utf8'));
    expect(pool!['apiVersion']).toBe('pool.kubevirt.io/v1alpha1');
    expect(pool!['kind']).toBe('VirtualMachinePool');
    expect(pool!['metadata'].name).toBe('web-pool');
    expect(pool!['metadata'].namespace).toBe('demo');
    expect(pool!['spec'].replicas).toBe(3);
    const labels = { 'app.kubernetes.io/name': 'web-pool', 'app.kubernetes.io/managed-by': 'osv-up' };
    expect(pool!['spec'].virtualMachineTemplate.metadata.labels).toEqual(labels);
    // The pool's selector must match its VM template's labels.
    for (const [k, v] of Object.entries(pool!['spec'].selector.matchLabels as Obj)) expect(labels[k as keyof typeof labels]).toBe(v);
    checkVmSpec(pool!['spec'].virtualMachineTemplate.spec, labels);
    checkService(svc!, 'web-pool', labels, 'demo');
  });

  it('an application built from: an image carries that image\'s digest into its labels and annotations', () => {
    const greet = compile(work, 'greet', GREET_SOURCE);
    const base = umociImage(work, 'greet', [(root) => (debianSkeleton(root), addProgram(root, greet, GREET_PATH))], { entrypoint: [GREET_PATH] });
    push(base.ref, reg, 'base/greet:1');
    const dir = join(work, 'from-app');
    mkdirSync(dir);
    writeFileSync(join(dir, 'osv.yaml'), `name: greet\nfrom: ${reg.host}/base/greet:1\n`);
    const r = osv(['push', `${reg.host}/apps/greet:1`, '--no-check', '--json'], dir);
    expect(r.code, r.out).toBe(0);
    const lock = JSON.parse(readFileSync(join(dir, 'osv.lock'), 'utf8')) as { images: Record<string, Record<string, { digest: string }>> };
    const baseDigest = lock.images[`${reg.host}/base/greet:1`]!['linux/amd64']!.digest;
    const config = JSON.parse(execFileSync('skopeo', ['inspect', '--config', '--tls-verify=false', `docker://${reg.host}/apps/greet:1`], { encoding: 'utf8' })) as { config: { Labels: Record<string, string> } };
    expect(config.config.Labels['io.osv-up.from']).toBe(`${reg.host}/base/greet:1@${baseDigest}`);
    const manifest = JSON.parse(execFileSync('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${reg.host}/apps/greet:1`], { encoding: 'utf8' })) as { annotations: Record<string, string> };
    expect(manifest.annotations['io.osv-up.from']).toBe(`${reg.host}/base/greet:1@${baseDigest}`);
  });

  it('--run picks another run (its command line and ports); bad input is refused with the fix', () => {
    const admin = docs(osv(['export', 'kubevirt', '--run', 'admin']).stdout);
    const vm = admin[0]!;
    expect(vm['metadata'].name).toBe('web-admin');
    expect(vm['spec'].template.spec.domain.firmware.kernelBoot.kernelArgs).toContain('/hello admin');
    // A named run's ports add to the default run's (as osv.yaml merges them).
    expect(vm['spec'].template.spec.domain.devices.interfaces[0].ports).toContainEqual({ name: 'tcp-9000', port: 9000, protocol: 'TCP' });
    const noRun = osv(['export', 'kubevirt', '--run', 'nope']);
    expect(noRun.code).toBe(2);
    expect(noRun.out).toContain('runs: default, admin, stateful, blank');
    const layout = osv(['export', 'kubevirt', `oci:${join(work, 'x')}:1`]);
    expect(layout.code).toBe(2);
    expect(layout.out).toContain('a cluster pulls images from one');
    const name = osv(['export', 'kubevirt', '--name', 'Web_App']);
    expect(name.code).toBe(2);
    expect(name.out).toContain('e.g. web-app');
    // A namespace is a DNS-1123 label too (kubectl refused the YAML); both are checked before any fetch.
    const ns = osv(['export', 'kubevirt', '127.0.0.1:1/nowhere:1', '--namespace', 'Team A']);
    expect(ns.code).toBe(2);
    expect(ns.stderr).toBe('error: --namespace "Team A" is not a valid Kubernetes name\n  hint: lowercase letters, digits and \'-\', at most 63 characters, e.g. team-a\n');
    const replicas = osv(['export', 'kubevirt', '--replicas', '0']);
    expect(replicas.code).toBe(2);
  });

  it('osv push pushes a seed image per named volume: one standalone qcow2 in /disk/, an ext4 holding the seed files (read-only: a ROFS)', () => {
    expect(seeds.map((v) => [v.volume, v.reference.replace(/@.*/, ''), v.path])).toEqual([
      ['data', `${reg.host}/apps/web:1.0-volume-data`, '/disk/data.qcow2'],
      ['conf', `${reg.host}/apps/web:1.0-volume-conf-ro`, '/disk/conf.qcow2'],
      ['cache', `${reg.host}/apps/web:1.0-volume-cache`, '/disk/cache.qcow2'],
    ]);
    for (const seed of seeds) {
      const ref = `docker://${seed.reference.replace(/@.*/, '')}`;
      const manifest = JSON.parse(execFileSync('skopeo', ['inspect', '--raw', '--tls-verify=false', ref], { encoding: 'utf8' })) as { layers: unknown[] };
      expect(manifest.layers).toHaveLength(1);
      const config = JSON.parse(execFileSync('skopeo', ['inspect', '--config', '--tls-verify=false', ref], { encoding: 'utf8' })) as { os: string; architecture: string; config: { Labels: Record<string, string> } };
      expect([config.os, config.architecture, config.config.Labels['io.osv-up.volume']]).toEqual(['linux', 'amd64', seed.volume]);
      // The tag names the digest the application's labels pin.
      const digest = execFileSync('skopeo', ['inspect', '--format', '{{.Digest}}', '--tls-verify=false', ref], { encoding: 'utf8' }).trim();
      expect(digest).toBe(seed.digest);
      const layout = join(work, `seed-${seed.volume}`);
      execFileSync('skopeo', ['copy', '--src-tls-verify=false', ref, `oci:${layout}:s`], { stdio: 'ignore' });
      const bundle = join(work, `seed-${seed.volume}-bundle`);
      execFileSync('umoci', ['unpack', '--rootless', '--image', `${layout}:s`, bundle], { stdio: 'ignore' });
      expect(readdirSync(join(bundle, 'rootfs'))).toEqual(['disk']);
      expect(readdirSync(join(bundle, 'rootfs', 'disk'))).toEqual([`${seed.volume}.qcow2`]);
      const disk = join(bundle, 'rootfs', 'disk', `${seed.volume}.qcow2`);
      const info = JSON.parse(execFileSync('qemu-img', ['info', '--output', 'json', disk], { encoding: 'utf8' })) as Obj;
      expect(info['format']).toBe('qcow2');
      expect(info['backing-filename']).toBeUndefined();
      const raw = join(work, `${seed.volume}.raw`);
      execFileSync('qemu-img', ['convert', '-f', 'qcow2', '-O', 'raw', disk, raw]);
      if (seed.volume === 'conf') {
        expect(info['virtual-size']).toBeLessThan(2 ** 20);
        continue;
      }
      // The volume's size, an ext4 holding the seed (none for a volume without from:).
      expect(info['virtual-size']).toBe(seed.volume === 'data' ? 64 * 2 ** 20 : 32 * 2 ** 20);
      if (!debugfsReason) {
        const ls = execFileSync('debugfs', ['-R', 'ls -p /', raw], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
        const names = ls.split('\n').filter((l) => l.startsWith('/')).map((l) => l.split('/')[5]);
        expect(names.filter((n) => n !== '.' && n !== '..' && n !== 'lost+found').sort()).toEqual(seed.volume === 'data' ? ['hello.txt', 'sub'] : []);
        if (seed.volume === 'data') expect(execFileSync('debugfs', ['-R', 'cat /hello.txt', raw], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })).toBe('seeded hello\n');
      }
    }
    // Same seed files, same seed images: a second push names the same digests.
    const again = osv(['push', `${reg.host}/apps/web:1.0`, '--no-check', '--json']);
    expect(again.code, again.out).toBe(0);
    expect((JSON.parse(again.stdout) as { volumes: Array<{ digest: string }> }).volumes.map((v) => v.digest)).toEqual(seeds.map((v) => v.digest));
  });

  it('a run with named volumes: a DataVolume template per writable volume importing its seed, a containerDisk per read-only one, disks after the image\'s, --mount-fs in kernelArgs', () => {
    const r = osv(['export', 'kubevirt', '--run', 'stateful']);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain('the volumes web-stateful-data are CDI DataVolumes imported from their seed images');
    const vm = docs(r.stdout)[0]!;
    const seed = (name: string): { digest: string } => seeds.find((v) => v.volume === name)!;
    expect(vm['metadata'].name).toBe('web-stateful');
    expect(vm['spec'].dataVolumeTemplates).toEqual([
      {
        metadata: { name: 'web-stateful-data' },
        spec: { source: { registry: { url: `docker://${reg.host}/apps/web@${seed('data').digest}` } }, storage: { resources: { requests: { storage: '64Mi' } } } },
      },
    ]);
    const t = vm['spec'].template.spec;
    expect(t.domain.devices.disks).toEqual([
      { name: 'containerdisk', disk: { bus: 'virtio' } },
      { name: 'data', disk: { bus: 'virtio' } },
      { name: 'conf', disk: { bus: 'virtio' } },
    ]);
    expect(t.volumes).toEqual([
      { name: 'containerdisk', containerDisk: { image: pinned, path: '/disk/web.qcow2', imagePullPolicy: 'IfNotPresent' } },
      { name: 'data', dataVolume: { name: 'web-stateful-data' } },
      { name: 'conf', containerDisk: { image: `${reg.host}/apps/web@${seed('conf').digest}`, path: '/disk/conf.qcow2', imagePullPolicy: 'IfNotPresent' } },
    ]);
    const args = t.domain.firmware.kernelBoot.kernelArgs as string;
    expect(args.match(/--mount-fs=\S+/g)).toEqual(['--mount-fs=ext,/dev/vblk1,/data', '--mount-fs=rofs,/dev/vblk2,/etc/app']);
    expect(args).toMatch(/ \/hello serving !$/);
    // Every name Kubernetes sees is a DNS-1123 label.
    for (const n of [...t.volumes.map((v: Obj) => v['name']), 'web-stateful-data']) expect(n).toMatch(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/);
  });

  it('--replicas with a writable volume: each VM of the pool gets its own DataVolume from the template, and the note says they do not share it', () => {
    const r = osv(['export', 'kubevirt', '--run', 'blank', '--replicas', '2']);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain('each of the 2 VMs of the pool gets a DataVolume of its own');
    const pool = docs(r.stdout)[0]!;
    const spec = pool['spec'].virtualMachineTemplate.spec;
    expect(spec.dataVolumeTemplates[0].metadata).toEqual({ name: 'web-blank-cache' });
    expect(spec.dataVolumeTemplates[0].spec.storage).toEqual({ resources: { requests: { storage: '32Mi' } } });
    expect(spec.template.spec.volumes[1]).toEqual({ name: 'cache', dataVolume: { name: 'web-blank-cache' } });
    expect(spec.template.spec.domain.firmware.kernelBoot.kernelArgs).toContain('--mount-fs=ext,/dev/vblk1,/cache');
  });
});
