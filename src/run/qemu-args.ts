// VmSpec -> QEMU argv (without the binary). Pure: every fact it encodes is in the facts doc
// §6.1 and §13; validateVmSpec() rejects the specs QEMU or OSv cannot run.

import { OsvError } from '../diagnostics/error.js';
import { MIN_MEMORY } from '../config/values.js';
import type { Disk, VmSpec } from './spec.js';
import { memoryMiB } from './spec.js';

/** QEMU option values use ',' as separator; a literal comma is written ',,'. */
const optValue = (s: string): string => s.replace(/,/g, ',,');

/** The user-mode network OSv's own scripts use; the guest gets 192.168.122.15 by DHCP. */
export const USER_NET = 'net=192.168.122.0/24,host=192.168.122.1';

function acceleration(spec: VmSpec): string[] {
  if (spec.arch === 'aarch64') {
    return ['-machine', 'virt,gic-version=max', '-accel', spec.accel, '-cpu', spec.accel === 'kvm' ? 'host' : 'cortex-a57'];
  }
  // `-cpu max` under TCG gives OSv the SSE/AVX and x2apic it expects; under KVM the host CPU.
  return spec.accel === 'kvm' ? ['-accel', 'kvm', '-cpu', 'host,+x2apic'] : ['-accel', 'tcg', '-cpu', 'max'];
}

/**
 * Where virtio devices go. On `pc` they sit on the legacy PCI bus as QEMU makes them
 * (transitional). On `q35`, as KubeVirt's virt-launcher lays a VM out, each gets a PCIe root
 * port of its own and is modern-only (virtio 1.0, no legacy I/O ports).
 */
class Slots {
  private next = 1;
  readonly args: string[] = [];
  constructor(private readonly q35: boolean) {}
  /** The `-device` value for a virtio PCI device, with its port when on q35. */
  device(model: string, props: string): string {
    if (!this.q35) return props ? `${model},${props}` : model;
    const port = `rp${this.next}`;
    this.args.push('-device', `pcie-root-port,id=${port},bus=pcie.0,chassis=${this.next},port=${this.next}`);
    this.next++;
    return `${model},bus=${port},disable-legacy=on${props ? `,${props}` : ''}`;
  }
}

/**
 * A disk path as -drive file= takes it: QEMU reads "NAME:REST" as protocol NAME (nbd:, ssh:,
 * json:...) unless a slash comes first, so a relative path is written ./PATH.
 */
const drivePath = (path: string): string => optValue(path.startsWith('/') ? path : `./${path}`);

function drive(d: Disk, index: number, cache: string, bootindex: boolean, slots: Slots): string[] {
  const ro = d.readonly ? ',readonly=on' : d.snapshot ? ',snapshot=on' : '';
  return [
    '-drive',
    `file=${drivePath(d.path)},if=none,id=hd${index},format=${d.format},cache=${cache}${ro}`,
    '-device',
    slots.device('virtio-blk-pci', `id=blk${index},drive=hd${index}${bootindex ? ',bootindex=0' : ''}`),
  ];
}

/** `romfile=` leaves out the iPXE option ROM: OSv never boots from the network, and the ROM
 * costs boot time and prints its banner on the console. */
const nic = (netdev: string, slots: Slots): string[] => ['-device', slots.device('virtio-net-pci', `netdev=${netdev},romfile=`)];

function network(spec: VmSpec, slots: Slots): string[] {
  const net = spec.network;
  switch (net.kind) {
    case 'none':
      return ['-nic', 'none'];
    case 'user': {
      const fwd = spec.ports.map((p) => `,hostfwd=${p.protocol}:${p.hostAddress ?? '127.0.0.1'}:${p.host}-:${p.guest}`);
      return ['-netdev', `user,id=un0,${USER_NET}${fwd.join('')}`, ...nic('un0', slots)];
    }
    case 'tap':
      return ['-netdev', `tap,id=hn0,ifname=${optValue(net.name)},script=no,downscript=no`, ...nic('hn0', slots)];
    case 'bridge':
      return ['-netdev', `bridge,id=hn0,br=${optValue(net.name)}`, ...nic('hn0', slots)];
  }
}

/**
 * The QEMU arguments for a spec. The serial console is `-serial stdio`: QEMU's stdin is a pipe
 * from us, never the terminal, so QEMU leaves the terminal's modes alone, Ctrl-C stays a
 * SIGINT that we handle (stop the VM, exit 130), and the same command pasted from --dry-run
 * into a terminal still stops on Ctrl-C (`signal=off` would send it to the guest instead).
 */
export function qemuArgs(spec: VmSpec): string[] {
  const q35 = spec.arch === 'x86_64' && spec.machine === 'q35';
  const slots = new Slots(q35);
  const args: string[] = [...(q35 ? ['-machine', 'q35'] : []), ...acceleration(spec)];
  args.push('-m', `${memoryMiB(spec.memory)}M`, '-smp', String(spec.cpus));
  args.push(...(spec.vnc ? ['-display', 'none'] : ['-nographic']), '-nodefaults', '-serial', 'stdio');
  // A guest reset (OSv's fallback power-off, a triple fault) ends QEMU instead of rebooting.
  args.push('-no-reboot');
  const cache = spec.diskCache ?? 'writeback';
  const boot = spec.boot;
  const devices: string[] = [];
  if (boot.kind === 'kernel') {
    args.push('-kernel', boot.kernel, '-append', boot.cmdline);
    if (boot.disk) devices.push(...drive(boot.disk, 0, cache, false, slots));
  } else {
    devices.push(...drive(boot.disk, 0, cache, true, slots));
  }
  spec.volumes.forEach((v, i) => devices.push(...drive(v, i + 1, cache, false, slots)));
  devices.push(...network(spec, slots));
  devices.push('-device', slots.device('virtio-rng-pci', ''));
  // The root ports first, then the devices plugged into them.
  args.push(...slots.args.splice(0), ...devices);
  if (spec.gdb) {
    args.push('-gdb', `tcp:${spec.gdb.host ?? '127.0.0.1'}:${spec.gdb.port}`);
    if (spec.gdb.waitForDebugger) args.push('-S');
  }
  if (spec.vnc) {
    args.push('-vnc', `${spec.vnc.host ?? '127.0.0.1'}:${spec.vnc.display}`);
    if (spec.arch === 'x86_64') args.push('-device', 'VGA');
  }
  args.push(...(spec.extraArgs ?? []));
  return args;
}

/** Specs that would make QEMU or OSv fail in a confusing way; empty when the spec is fine. */
export function validateVmSpec(spec: VmSpec): OsvError[] {
  const errors: OsvError[] = [];
  const bad = (code: string, message: string, hint?: string): void => {
    errors.push(new OsvError({ code: `run.${code}`, message, ...(hint ? { hint } : {}) }));
  };
  if (!Number.isInteger(spec.cpus) || spec.cpus < 1) bad('bad-cpus', `cpus must be a positive integer, got ${spec.cpus}`);
  if (!(spec.memory >= MIN_MEMORY)) bad('bad-memory', `memory must be at least 16 MiB, got ${spec.memory} bytes`);
  if (spec.ports.length > 0 && spec.network.kind !== 'user') {
    bad(
      'ports-need-user-net',
      `port forwards need user networking, but network is ${spec.network.kind}`,
      'remove `ports`, or use `network: user`; with tap/bridge the guest is reachable at its own address',
    );
  }
  const seen = new Map<string, number>();
  for (const p of spec.ports) {
    const key = `${p.protocol}:${p.hostAddress ?? '127.0.0.1'}:${p.host}`;
    if (seen.has(key)) bad('duplicate-port', `host port ${p.host}/${p.protocol} is forwarded twice`);
    seen.set(key, p.guest);
    for (const n of [p.host, p.guest]) {
      if (!Number.isInteger(n) || n < 1 || n > 65535) bad('bad-port', `port ${n} is not in 1-65535`);
    }
  }
  const disks = [...(spec.boot.disk ? [spec.boot.disk.path] : []), ...spec.volumes.map((v) => v.path)];
  const twice = disks.find((p, i) => disks.indexOf(p) !== i);
  if (twice) bad('disk-twice', `${twice} is attached twice`, 'attach each disk image once (QEMU locks the file)');
  if (spec.machine === 'q35' && spec.arch !== 'x86_64') bad('machine-arch', `machine q35 is an x86 machine; an ${spec.arch} guest runs on QEMU's virt machine`, 'leave out machine (or --machine) for aarch64');
  if (spec.vnc && spec.arch !== 'x86_64') bad('vnc-aarch64', 'a VNC display is only offered for x86_64 guests (OSv has no display driver on aarch64)', 'leave out --vnc; the console is on the terminal');
  if (spec.boot.kind === 'image' && spec.arch === 'aarch64') {
    bad('image-boot-aarch64', 'aarch64 images cannot boot from a boot sector under QEMU', 'boot the kernel directly (give the kernel: loader.img)');
  }
  return errors;
}
