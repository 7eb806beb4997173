// `osv export kubevirt`: the YAML for a pushed server with ports, and with --replicas 3,
// parsed with `yaml` and checked field by field against the facts (oci-kubevirt.md §8): the
// kernelBoot container and the containerDisk name the same image pinned by digest, the disk is
// first in disks[], memory and CPUs come from the run, a masquerade interface lists the guest
// ports, a Service selects the VM's labels. The image is pushed to a real registry, built with
// a stand-in kernel (nothing boots here).

import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { fakeBuildDir } from '../kernel/helpers.js';
import { hasRegistryTools, push, registryToolsReason, startRegistry, umociImage, type Registry } from '../helpers/registry.js';
import { addProgram, compile, debianSkeleton, GREET_PATH, GREET_SOURCE } from '../helpers/image-rootfs.js';
import { hasGcc, hasTool } from '../helpers/tools.js';

const ROOT = join(import.meta.dirname, '..', '..');
const OSV = join(ROOT, 'bin', 'osv.js');
const reason = registryToolsReason ?? (!hasGcc ? 'gcc is not installed' : !hasTool('qemu-img') ? 'qemu-img is not installed' : undefined);
if (reason) console.warn(`skipped: osv export kubevirt: ${reason}`);

/* eslint-disable @typescript-eslint/no-explicit-any */
type Obj = Record<string, any>;

describe.skipIf(reason !== undefined || !hasRegistryTools)('osv export kubevirt', () => {
  let work: string;
  let reg: Registry;
  let app: string;
  let env: NodeJS.ProcessEnv;
  let pinned: string;

  const osv = (args: string[]): { code: number | null; out: string; stdout: string } => {
    const r = spawnSync(process.execPath, [OSV, ...args], { cwd: app, encoding: 'utf8', env, timeout: 120_000 });
    return { code: r.status, out: `${r.stdout}\n${r.stderr}`, stdout: r.stdout };
  };
  const docs = (text: string): Obj[] => parseAllDocuments(text).map((d) => d.toJS() as Obj);

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'osv-export-'));
    reg = await startRegistry();
    app = join(work, 'web');
    cpSync(join(ROOT, 'examples', 'hello-c'), app, { recursive: true });
    execFileSync('make', ['-s'], { cwd: app });
    writeFileSync(
      join(app, 'osv.yaml'),
      'name: web\ncmd: [./hello, serving]\nrun:\n  memory: 384M\n  cpus: 2\n  ports: ["8080:80", "5353:53/udp", "8443:443"]\nruns:\n  admin:\n    cmd: [./hello, admin]\n    run:\n      ports: ["9000:9000"]\n  stateful:\n    run:\n      volumes: [{name: data, dest: /data, size: 64M}]\n',
    );
    mkdirSync(join(work, 'home'));
    // A stand-in kernel, with stand-ins of OSv's ext module (a named volume ships them).
    const k = fakeBuildDir(work, 'k');
    writeFileSync(join(work, 'empty.c'), 'int ext_marker(void) { return 1; }\n');
    for (const lib of ['libext.so', 'liblwext4.so']) execFileSync('gcc', ['-shared', '-fPIC', '-o', join(k, lib), join(work, 'empty.c')]);
    env = { PATH: process.env['PATH'], HOME: join(work, 'home'), XDG_CACHE_HOME: join(work, 'cache'), OSV_KERNEL: k, CI: '1' };
    const r = osv(['push', `${reg.host}/apps/web:1.0`, '--no-check', '--json']);
    expect(r.code, r.out).toBe(0);
    const digest = (JSON.parse(r.stdout) as { digest: string }).digest;
    pinned = `${reg.host}/apps/web@${digest}`;
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
    const r = spawnSync(process.execPath, [OSV, 'push', `${reg.host}/apps/greet:1`, '--no-check', '--json'], { cwd: dir, encoding: 'utf8', env, timeout: 120_000 });
    expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
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
    // A named volume is described in the image, and said to be left out of the YAML (a cluster
    // disk for it would have to hold its ext4 already).
    const stateful = osv(['export', 'kubevirt', '--run', 'stateful']);
    expect(stateful.code, stateful.out).toBe(0);
    expect(stateful.out).toContain("the run's named volumes data (64 MiB at /data) are not in the YAML");
    expect(docs(stateful.stdout)[0]!['spec'].template.spec.volumes).toHaveLength(1);
    const noRun = osv(['export', 'kubevirt', '--run', 'nope']);
    expect(noRun.code).toBe(2);
    expect(noRun.out).toContain('runs: default, admin, stateful');
    const layout = osv(['export', 'kubevirt', `oci:${join(work, 'x')}:1`]);
    expect(layout.code).toBe(2);
    expect(layout.out).toContain('a cluster pulls images from one');
    const name = osv(['export', 'kubevirt', '--name', 'Web_App']);
    expect(name.code).toBe(2);
    expect(name.out).toContain('e.g. web-app');
    const replicas = osv(['export', 'kubevirt', '--replicas', '0']);
    expect(replicas.code).toBe(2);
  });
});
