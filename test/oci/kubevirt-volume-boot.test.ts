// With OSV_KERNEL (its ext module beside it): what KubeVirt would attach for a run with named
// volumes boots and the program reads its volumes. Pushed to a real registry and exported; then,
// from the registry alone: the kernel and the root qcow2 of the application's image, the writable
// volume's seed image converted to raw (as CDI's import writes the claim's disk.img), the
// read-only volume's seed qcow2 as it is (a containerDisk); QEMU's q35 machine with each disk
// behind its own PCIe root port in disks[] order, as virt-launcher lays them out, and the
// exported kernelArgs. The run also has a disk image of the build machine, which the cluster
// does not get, so the exported --mount-fs options must have been renumbered.

import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { extKernelReason, osvKernel } from '../helpers/ext-kernel.js';
import { volumeProject } from '../helpers/volume-project.js';
import { hasRegistryTools, registryToolsReason, startRegistry, type Registry } from '../helpers/registry.js';
import { hasGcc, hasTool } from '../helpers/tools.js';
import { runOsv } from '../helpers/osv.js';

const kernel = osvKernel;
const reason =
  extKernelReason ?? (!hasTool('qemu-system-x86_64') ? 'qemu-system-x86_64 is not installed' : !hasRegistryTools ? registryToolsReason : !hasGcc ? 'gcc is not installed' : undefined);
if (reason) console.warn(`skipped: booting what KubeVirt attaches for named volumes: ${reason}`);

const SHOW = `#include <stdio.h>
int main(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    FILE *f = fopen(argv[i], "r");
    char line[256];
    if (!f) { printf("cannot open %s\\n", argv[i]); continue; }
    while (fgets(line, sizeof line, f)) printf("%s: %s", argv[i], line);
    fclose(f);
  }
  FILE *w = fopen("/etc/app/new.txt", "w");
  printf("read-only volume write: %s\\n", w ? "succeeded" : "refused");
  return 0;
}
`;

/* eslint-disable @typescript-eslint/no-explicit-any */
type Obj = Record<string, any>;

describe.skipIf(reason !== undefined)('booting what KubeVirt attaches for named volumes', () => {
  let work: string;
  let reg: Registry;
  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'osv-kv-boot-'));
    reg = await startRegistry();
  }, 60_000);
  afterAll(async () => {
    await reg?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  /** The disk file of a registry image, as umoci unpacks it. */
  const unpack = (ref: string, name: string): string => {
    const layout = join(work, `${name}-layout`);
    execFileSync('skopeo', ['copy', '--src-tls-verify=false', `docker://${ref}`, `oci:${layout}:x`], { stdio: 'ignore' });
    const bundle = join(work, `${name}-bundle`);
    execFileSync('umoci', ['unpack', '--rootless', '--image', `${layout}:x`, bundle], { stdio: 'ignore' });
    return join(bundle, 'rootfs');
  };

  it('root qcow2 from the image, the seeded ext4 volume (as CDI imports it) and the read-only one, on q35 with the exported kernelArgs', { timeout: 300_000 }, () => {
    const app = join(work, 'show');
    volumeProject(app, { source: SHOW, cmd: '[./show, /data/hello.txt, /etc/app/app.conf]', seeded: 'seeded for the cluster', run: '  machine: q35\n' });
    const env = { ...process.env, OSV_KERNEL: kernel, HOME: join(work, 'home'), XDG_CACHE_HOME: join(work, 'cache'), XDG_DATA_HOME: join(work, 'data'), CI: '1' };
    const run = (args: string[]) => runOsv(args, { cwd: app, env, timeout: 200_000 });
    const p = run(['push', `${reg.host}/apps/show:1`, '--no-check', '-q']);
    expect(p.code, p.out).toBe(0);
    const e = run(['export', 'kubevirt']);
    expect(e.code, e.stderr).toBe(0);
    const vm = parseAllDocuments(e.stdout)[0]!.toJS() as Obj;
    const spec = vm['spec'].template.spec;
    const args = spec.domain.firmware.kernelBoot.kernelArgs as string;
    // The build machine's disk image was /dev/vblk1 there; the cluster attaches the volumes only.
    expect(args.match(/--mount-fs=\S+/g)).toEqual(['--mount-fs=ext,/dev/vblk1,/data', '--mount-fs=rofs,/dev/vblk2,/etc/app']);
    expect(spec.domain.devices.disks.map((d: Obj) => d['name'])).toEqual(['containerdisk', 'data', 'conf']);

    const root = unpack(spec.volumes[0].containerDisk.image, 'app');
    const elf = join(root, spec.domain.firmware.kernelBoot.container.kernelPath);
    const rootDisk = join(root, spec.volumes[0].containerDisk.path);
    const dataUrl = vm['spec'].dataVolumeTemplates[0].spec.source.registry.url as string;
    expect(dataUrl.startsWith('docker://')).toBe(true);
    const dataQcow2 = join(unpack(dataUrl.slice('docker://'.length), 'data'), 'disk', 'data.qcow2');
    // CDI converts the imported qcow2 to the raw disk.img of the claim.
    const dataRaw = join(work, 'disk.img');
    execFileSync('qemu-img', ['convert', '-f', 'qcow2', '-O', 'raw', dataQcow2, dataRaw]);
    const confDisk = join(unpack(spec.volumes[2].containerDisk.image, 'conf'), spec.volumes[2].containerDisk.path.slice(1));
    for (const f of [elf, rootDisk, dataRaw, confDisk]) expect(existsSync(f), f).toBe(true);

    const disks: Array<[string, string, boolean]> = [[rootDisk, 'qcow2', true], [dataRaw, 'raw', false], [confDisk, 'qcow2', true]];
    // TCG: the KVM of these machines cannot run OSv (facts doc §13; it aborts on an MSR).
    // -cpu max: KubeVirt's default CPU is the node's (host-model); QEMU's own default model lacks
    // features OSv needs (it stops after finding its disks). -nodefaults: no VGA, as osv-up runs.
    const qemu = ['-machine', 'q35', '-accel', 'tcg', '-cpu', 'max', '-nodefaults', '-m', '512M', '-smp', '1', '-display', 'none', '-serial', 'stdio', '-no-reboot', '-kernel', elf, '-append', args];
    disks.forEach(([file, format, snapshot], i) =>
      qemu.push(
        '-device', `pcie-root-port,id=port${i},bus=pcie.0,chassis=${i + 1},port=${i + 1}`,
        '-drive', `file=${file},format=${format},if=none,id=disk${i}${snapshot ? ',snapshot=on' : ''}`,
        '-device', `virtio-blk-pci,drive=disk${i},bus=port${i},disable-legacy=on`,
      ),
    );
    qemu.push('-device', 'pcie-root-port,id=portnet,bus=pcie.0,chassis=9,port=9', '-netdev', 'user,id=net0', '-device', 'virtio-net-pci,netdev=net0,bus=portnet,disable-legacy=on');
    const q = spawnSync('qemu-system-x86_64', qemu, { encoding: 'utf8', timeout: 150_000 });
    // OSv may print "random: device unblocked." in the middle of a program's line (bare QEMU: no console view).
    const out = `${q.stdout}\n${q.stderr}`.replace(/random: device unblocked\.\r?\n/g, '');
    expect(out).toContain('/data/hello.txt: seeded for the cluster');
    expect(out).toContain('/etc/app/app.conf: mode=ro');
    expect(out).toContain('read-only volume write: refused');
  });
});
