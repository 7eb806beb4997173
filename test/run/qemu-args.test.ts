// The QEMU command line for every option: checked against the facts (doc §6.1, §13), then
// run by the real QEMU with a tiny real guest (a PVH kernel built with gcc) to prove QEMU
// accepts it and boots the kernel with our command line.

import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { which } from '../../src/run/binaries.js';
import { checkNetwork, gatherNetFacts } from '../../src/run/netcheck.js';
import { qemuArgs, validateVmSpec } from '../../src/run/qemu-args.js';
import { rootDisk, type VmSpec } from '../../src/run/spec.js';
import { buildBootDisk, buildFakeKernel, hasGcc, tempDir } from './helpers/fake-guest.js';
import { freePort } from '../helpers/net.js';

const MiB = 1024 * 1024;
const base = (over: Partial<VmSpec> = {}): VmSpec => ({
  arch: 'x86_64',
  boot: { kind: 'kernel', kernel: '/k/loader-stripped.elf', cmdline: '--rootfs=rofs /hello', disk: { path: '/i/app.img', format: 'raw' } },
  memory: 512 * MiB,
  cpus: 2,
  network: { kind: 'user' },
  ports: [],
  volumes: [],
  accel: 'tcg',
  ...over,
});

/** The value after a flag, for every occurrence. */
const values = (args: string[], flag: string): string[] => args.flatMap((a, i) => (a === flag ? [args[i + 1]!] : []));

describe('qemuArgs: the facts', () => {
  it('default: direct boot, TCG, serial on stdio, virtio disk, user net, rng, no reboot', () => {
    expect(qemuArgs(base())).toEqual([
      '-accel', 'tcg', '-cpu', 'max',
      '-m', '512M', '-smp', '2',
      '-nographic', '-nodefaults', '-serial', 'stdio',
      '-no-reboot',
      '-kernel', '/k/loader-stripped.elf', '-append', '--rootfs=rofs /hello',
      '-drive', 'file=/i/app.img,if=none,id=hd0,format=raw,cache=writeback',
      '-device', 'virtio-blk-pci,id=blk0,drive=hd0',
      '-netdev', 'user,id=un0,net=192.168.122.0/24,host=192.168.122.1',
      '-device', 'virtio-net-pci,netdev=un0,romfile=',
      '-device', 'virtio-rng-pci',
    ]);
  });

  it('q35 (KubeVirt\'s machine): each virtio device behind its own PCIe root port, modern-only; a snapshot disk', () => {
    const args = qemuArgs(base({ machine: 'q35', boot: { kind: 'kernel', kernel: '/k/loader-stripped.elf', cmdline: '--rootfs=rofs /hello', disk: { path: '/i/app.qcow2', format: 'qcow2', snapshot: true } }, volumes: [{ path: '/v/data.img', format: 'raw' }] }));
    expect(args.slice(0, 2)).toEqual(['-machine', 'q35']);
    expect(values(args, '-device')).toEqual([
      'pcie-root-port,id=rp1,bus=pcie.0,chassis=1,port=1',
      'pcie-root-port,id=rp2,bus=pcie.0,chassis=2,port=2',
      'pcie-root-port,id=rp3,bus=pcie.0,chassis=3,port=3',
      'pcie-root-port,id=rp4,bus=pcie.0,chassis=4,port=4',
      'virtio-blk-pci,bus=rp1,disable-legacy=on,id=blk0,drive=hd0',
      'virtio-blk-pci,bus=rp2,disable-legacy=on,id=blk1,drive=hd1',
      'virtio-net-pci,bus=rp3,disable-legacy=on,netdev=un0,romfile=',
      'virtio-rng-pci,bus=rp4,disable-legacy=on',
    ]);
    expect(values(args, '-drive')[0]).toBe('file=/i/app.qcow2,if=none,id=hd0,format=qcow2,cache=writeback,snapshot=on');
    // The ports come before the devices plugged into them (QEMU needs the bus to exist).
    expect(args.indexOf('pcie-root-port,id=rp1,bus=pcie.0,chassis=1,port=1')).toBeLessThan(args.indexOf('virtio-blk-pci,bus=rp1,disable-legacy=on,id=blk0,drive=hd0'));
    expect(validateVmSpec(base({ arch: 'aarch64', machine: 'q35' })).map((e) => e.code)).toContain('run.machine-arch');
  });

  it('refuses a VNC display for an aarch64 guest', () => {
    const errs = validateVmSpec(base({ arch: 'aarch64', vnc: { display: 1 } }));
    expect(errs.map((e) => e.code)).toContain('run.vnc-aarch64');
  });

  it('no gdb stub and no VNC unless asked', () => {
    const args = qemuArgs(base());
    expect(args).not.toContain('-gdb');
    expect(args).not.toContain('-vnc');
    const asked = qemuArgs(base({ gdb: { port: 1234, waitForDebugger: true }, vnc: { display: 3 } }));
    expect(values(asked, '-gdb')).toEqual(['tcp:127.0.0.1:1234']);
    expect(asked).toContain('-S');
    expect(values(asked, '-vnc')).toEqual(['127.0.0.1:3']);
    expect(asked).not.toContain('-nographic');
    expect(values(asked, '-display')).toEqual(['none']);
  });

  it('KVM: -accel kvm -cpu host,+x2apic', () => {
    expect(qemuArgs(base({ accel: 'kvm' })).slice(0, 4)).toEqual(['-accel', 'kvm', '-cpu', 'host,+x2apic']);
  });

  it('memory in MiB (rounded up), cpus', () => {
    const args = qemuArgs(base({ memory: 2 * 1024 * MiB + 1, cpus: 4 }));
    expect(values(args, '-m')).toEqual(['2049M']);
    expect(values(args, '-smp')).toEqual(['4']);
  });

  it('one hostfwd per port, tcp and udp, 127.0.0.1 unless another address is given', () => {
    const args = qemuArgs(base({ ports: [{ host: 8080, guest: 80, protocol: 'tcp' }, { host: 5353, guest: 53, protocol: 'udp', hostAddress: '0.0.0.0' }] }));
    expect(values(args, '-netdev')).toEqual(['user,id=un0,net=192.168.122.0/24,host=192.168.122.1,hostfwd=tcp:127.0.0.1:8080-:80,hostfwd=udp:0.0.0.0:5353-:53']);
  });

  it('tap, bridge and none networking', () => {
    expect(values(qemuArgs(base({ network: { kind: 'tap', name: 'tap0' } })), '-netdev')).toEqual(['tap,id=hn0,ifname=tap0,script=no,downscript=no']);
    const br = qemuArgs(base({ network: { kind: 'bridge', name: 'virbr0' } }));
    expect(values(br, '-netdev')).toEqual(['bridge,id=hn0,br=virbr0']);
    expect(values(br, '-device')).toContain('virtio-net-pci,netdev=hn0,romfile=');
    const none = qemuArgs(base({ network: { kind: 'none' } }));
    expect(values(none, '-nic')).toEqual(['none']);
    expect(none).not.toContain('-netdev');
  });

  it('volumes are further virtio-blk devices, in order, with their format and read-only flag', () => {
    const args = qemuArgs(base({ volumes: [{ path: '/v/data.qcow2', format: 'qcow2' }, { path: '/v/ro.img', format: 'raw', readonly: true }], diskCache: 'unsafe' }));
    expect(values(args, '-drive')).toEqual([
      'file=/i/app.img,if=none,id=hd0,format=raw,cache=unsafe',
      'file=/v/data.qcow2,if=none,id=hd1,format=qcow2,cache=unsafe',
      'file=/v/ro.img,if=none,id=hd2,format=raw,cache=unsafe,readonly=on',
    ]);
    expect(values(args, '-device').filter((d) => d.startsWith('virtio-blk'))).toEqual(['virtio-blk-pci,id=blk0,drive=hd0', 'virtio-blk-pci,id=blk1,drive=hd1', 'virtio-blk-pci,id=blk2,drive=hd2']);
  });

  it('a relative disk path with a colon is a file, not a QEMU protocol (issue #20)', () => {
    const args = qemuArgs(base({ boot: { kind: 'image', disk: { path: 'nbd:evil:10809', format: 'raw' } }, volumes: [{ path: 'json:{}', format: 'raw' }] }));
    expect(values(args, '-drive')).toEqual([
      'file=./nbd:evil:10809,if=none,id=hd0,format=raw,cache=writeback',
      'file=./json:{},if=none,id=hd1,format=raw,cache=writeback',
    ]);
  });

  it('the root disk is never written: a ROFS root read-only, an ext root (or one of unknown kind) through a throwaway overlay', () => {
    const drive = (fs?: 'rofs' | 'ext'): string[] => values(qemuArgs(base({ boot: { kind: 'kernel', kernel: '/k', cmdline: 'x', disk: rootDisk('/i/app.img', 'raw', fs) } })), '-drive');
    expect(drive('rofs')).toEqual(['file=/i/app.img,if=none,id=hd0,format=raw,cache=writeback,readonly=on']);
    expect(drive('ext')).toEqual(['file=/i/app.img,if=none,id=hd0,format=raw,cache=writeback,snapshot=on']);
    expect(drive(undefined)).toEqual(['file=/i/app.img,if=none,id=hd0,format=raw,cache=writeback,snapshot=on']);
    const image = qemuArgs(base({ boot: { kind: 'image', disk: rootDisk('/i/app.qcow2', 'qcow2', 'ext') } }));
    expect(values(image, '-drive')).toEqual(['file=/i/app.qcow2,if=none,id=hd0,format=qcow2,cache=writeback,snapshot=on']);
  });

  it('image boot: no -kernel, the disk is the boot device', () => {
    const args = qemuArgs(base({ boot: { kind: 'image', disk: { path: '/i/app.img', format: 'qcow2' } } }));
    expect(args).not.toContain('-kernel');
    expect(args).not.toContain('-append');
    expect(values(args, '-device')).toContain('virtio-blk-pci,id=blk0,drive=hd0,bootindex=0');
  });

  it('a comma in a path is escaped the QEMU way', () => {
    expect(values(qemuArgs(base({ boot: { kind: 'kernel', kernel: '/k', cmdline: 'x', disk: { path: '/a,b.img', format: 'raw' } } })), '-drive')).toEqual([
      'file=/a,,b.img,if=none,id=hd0,format=raw,cache=writeback',
    ]);
  });

  it('aarch64: virt machine, GIC max, cortex-a57 under TCG, host under KVM', () => {
    expect(qemuArgs(base({ arch: 'aarch64' })).slice(0, 6)).toEqual(['-machine', 'virt,gic-version=max', '-accel', 'tcg', '-cpu', 'cortex-a57']);
    expect(qemuArgs(base({ arch: 'aarch64', accel: 'kvm' })).slice(4, 6)).toEqual(['-cpu', 'host']);
  });

  it('validateVmSpec rejects what cannot run', () => {
    const codes = (s: VmSpec): string[] => validateVmSpec(s).map((e) => e.code);
    expect(codes(base())).toEqual([]);
    expect(codes(base({ network: { kind: 'none' }, ports: [{ host: 1, guest: 2, protocol: 'tcp' }] }))).toEqual(['run.ports-need-user-net']);
    expect(codes(base({ ports: [{ host: 80, guest: 1, protocol: 'tcp' }, { host: 80, guest: 2, protocol: 'tcp' }] }))).toEqual(['run.duplicate-port']);
    expect(codes(base({ ports: [{ host: 70000, guest: 1, protocol: 'tcp' }] }))).toEqual(['run.bad-port']);
    expect(codes(base({ cpus: 0, memory: 1 }))).toEqual(['run.bad-cpus', 'run.bad-memory']);
    expect(codes(base({ arch: 'aarch64', boot: { kind: 'image', disk: { path: '/x', format: 'raw' } } }))).toEqual(['run.image-boot-aarch64']);
    expect(codes(base({ volumes: [{ path: '/i/app.img', format: 'raw' }] }))).toEqual(['run.disk-twice']);
  });
});

const qemu = which('qemu-system-x86_64');
const canRun = Boolean(qemu) && hasGcc;
if (!canRun) console.warn(`skipped: real-QEMU command-line tests need qemu-system-x86_64 and gcc (qemu: ${qemu ?? 'missing'}, gcc: ${hasGcc})`);

describe.skipIf(!canRun)('qemuArgs: the real QEMU accepts every option and boots the kernel with our command line', () => {
  let dir = '';
  let kernel = '';
  let disk = '';
  beforeAll(() => {
    dir = tempDir();
    kernel = buildFakeKernel(dir, 'k', { head: 'OSv fake\n', echo: true, tail: 'Hello from C code\n', end: 'reset' });
    disk = join(dir, 'a,b.img'); // a comma: escaping must work
    writeFileSync(disk, Buffer.alloc(MiB));
    execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', join(dir, 'vol.qcow2'), '16M']);
    writeFileSync(join(dir, 'ro.img'), Buffer.alloc(MiB));
  });

  const boot = (over: Partial<VmSpec> = {}): { status: number | null; stdout: string; stderr: string } => {
    const spec = base({ boot: { kind: 'kernel', kernel, cmdline: '--rootfs=rofs --power-off-on-abort /hello', disk: rootDisk(disk, 'raw', 'rofs') }, memory: 64 * MiB, ...over });
    const r = spawnSync(qemu!, qemuArgs(spec), { encoding: 'utf8', timeout: 45_000, input: '' });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  };

  it('default options; the root disk read-only', () => {
    const r = boot();
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('Cmdline: --rootfs=rofs --power-off-on-abort /hello\r\n');
    expect(r.stdout).toContain('Hello from C code');
    expect(r.stdout).not.toContain('iPXE'); // no NIC option ROM
  });

  it('port forwards (tcp and udp), a qcow2 and a read-only volume, another cache mode', async () => {
    const [a, b] = [await freePort(), await freePort()];
    const r = boot({
      ports: [{ host: a, guest: 80, protocol: 'tcp' }, { host: b, guest: 53, protocol: 'udp' }],
      volumes: [{ path: join(dir, 'vol.qcow2'), format: 'qcow2' }, { path: join(dir, 'ro.img'), format: 'raw', readonly: true }],
      diskCache: 'unsafe',
      cpus: 1,
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('Hello from C code');
  });

  it('no network; a gdb stub and a VNC display when asked', async () => {
    expect(boot({ network: { kind: 'none' } })).toMatchObject({ status: 0, stderr: '' });
    const r = boot({ gdb: { port: await freePort() }, vnc: { display: (await freePort()) - 5900 } });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('kernel boot without a disk', () => {
    const r = boot({ boot: { kind: 'kernel', kernel, cmdline: '--nomount /x' } });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('Cmdline: --nomount /x');
  });

  it('image boot from the disk\'s own boot sector, through a throwaway overlay', () => {
    const img = buildBootDisk(dir, 'bootable', 'booted from the boot sector\n');
    const r = boot({ boot: { kind: 'image', disk: rootDisk(img, 'raw', 'ext') } });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('Booting from Hard Disk'); // SeaBIOS prints a timing-dependent number of dots
    expect(r.stdout).toContain('booted from the boot sector');
  });

  const net = { kind: 'tap' as const, name: `osvt${process.pid % 100000}` };
  const tapOk = existsSync('/dev/net/tun') && checkNetwork(net, gatherNetFacts(net)) === undefined;
  if (!tapOk) console.warn('skipped: tap networking test needs /dev/net/tun access and CAP_NET_ADMIN');
  it.runIf(tapOk)('tap networking (QEMU creates the tap as we may; it goes away with QEMU)', () => {
    const r = boot({ network: net });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(existsSync(`/sys/class/net/${net.name}`)).toBe(false);
  });
});
