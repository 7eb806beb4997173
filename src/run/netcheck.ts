// tap and bridge networking need privileges most users lack. Check them before starting the
// hypervisor, so the user reads what to do instead of QEMU's "could not configure /dev/net/tun".
// gatherNetFacts() reads the host; checkNetwork() is pure over those facts.

import { accessSync, constants, existsSync, readFileSync, statSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { dirname, join } from 'node:path';
import type { Network } from '../config/types.js';
import { OsvError } from '../diagnostics/error.js';

export interface IfaceFacts {
  exists: boolean;
  /** A tun/tap device (has tun_flags). */
  isTap: boolean;
  /** A bridge (has a bridge/ directory). */
  isBridge: boolean;
  /** tap owner uid / group gid; -1 = none. */
  owner: number;
  group: number;
}

export interface NetFacts {
  uid: number;
  gids: number[];
  tunAccess: boolean;
  capNetAdmin: boolean;
  iface: IfaceFacts;
  /** QEMU's bridge helper, when one is installed. */
  bridgeHelper?: { path: string; setuidRoot: boolean };
  /** Bridge names allowed by /etc/qemu/bridge.conf (and its includes); 'all' allows any. */
  bridgeAllowed: string[];
  bridgeConf: string;
}

const CAP_NET_ADMIN = 12;

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

function hasCapNetAdmin(): boolean {
  const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(readText('/proc/self/status') ?? '');
  return m ? ((BigInt(`0x${m[1]}`) >> BigInt(CAP_NET_ADMIN)) & 1n) === 1n : false;
}

function ifaceFacts(name: string): IfaceFacts {
  const dir = join('/sys/class/net', name);
  const num = (f: string): number => {
    const t = readText(join(dir, f));
    return t === undefined ? -1 : Number.parseInt(t.trim(), 10);
  };
  return {
    exists: existsSync(dir),
    isTap: existsSync(join(dir, 'tun_flags')),
    isBridge: existsSync(join(dir, 'bridge')),
    owner: num('owner'),
    group: num('group'),
  };
}

/** `allow NAME` lines of bridge.conf, following `include FILE` one level deep. */
function bridgeAcl(conf: string): string[] {
  const allowed: string[] = [];
  const visit = (file: string, depth: number): void => {
    for (const raw of (readText(file) ?? '').split('\n')) {
      const [word, arg] = raw.trim().split(/\s+/);
      if (word === 'allow' && arg) allowed.push(arg);
      if (word === 'include' && arg && depth < 2) visit(arg, depth + 1);
    }
  };
  visit(conf, 0);
  return allowed;
}

function findBridgeHelper(qemu: string | undefined): NetFacts['bridgeHelper'] {
  const candidates = [
    ...(qemu ? [join(dirname(qemu), '..', 'lib', 'qemu', 'qemu-bridge-helper'), join(dirname(qemu), '..', 'libexec', 'qemu-bridge-helper')] : []),
    '/usr/lib/qemu/qemu-bridge-helper',
    '/usr/libexec/qemu-bridge-helper',
  ];
  for (const path of candidates) {
    try {
      const s = statSync(path);
      return { path, setuidRoot: s.uid === 0 && (s.mode & 0o4000) !== 0 };
    } catch {
      /* next */
    }
  }
  return undefined;
}

/** Read what checkNetwork needs from this host. */
export function gatherNetFacts(net: Network, qemu?: string): NetFacts {
  let tunAccess = false;
  try {
    accessSync('/dev/net/tun', constants.R_OK | constants.W_OK);
    tunAccess = true;
  } catch {
    tunAccess = false;
  }
  const name = net.kind === 'tap' || net.kind === 'bridge' ? net.name : '';
  const bridgeConf = '/etc/qemu/bridge.conf';
  const helper = net.kind === 'bridge' ? findBridgeHelper(qemu) : undefined;
  return {
    uid: process.getuid?.() ?? -1,
    gids: process.getgroups?.() ?? [],
    tunAccess,
    capNetAdmin: hasCapNetAdmin(),
    iface: name ? ifaceFacts(name) : { exists: false, isTap: false, isBridge: false, owner: -1, group: -1 },
    ...(helper ? { bridgeHelper: helper } : {}),
    bridgeAllowed: net.kind === 'bridge' ? bridgeAcl(bridgeConf) : [],
    bridgeConf,
  };
}

const netError = (code: string, message: string, hint: string): OsvError => new OsvError({ code: `run.${code}`, message, hint });

function checkTap(name: string, f: NetFacts): OsvError | undefined {
  const create = `sudo ip tuntap add dev ${name} mode tap user $(id -un) && sudo ip link set ${name} up`;
  if (!f.tunAccess) {
    return netError('tun-denied', `tap networking needs /dev/net/tun, which this user cannot open`, 'ask an administrator to make /dev/net/tun accessible (mode 0666 is the usual default), or use `network: user`');
  }
  if (f.capNetAdmin) return undefined;
  if (!f.iface.exists) {
    return netError('tap-missing', `tap device '${name}' does not exist, and creating one needs CAP_NET_ADMIN`, `create it once, owned by you: ${create}`);
  }
  if (!f.iface.isTap) return netError('not-a-tap', `network interface '${name}' exists but is not a tap device`, 'name a tap device, or use `network: user`');
  const mine = (f.iface.owner !== -1 && f.iface.owner === f.uid) || (f.iface.group !== -1 && f.gids.includes(f.iface.group));
  if (!mine) {
    const who = f.iface.owner === -1 ? 'has no owner' : `belongs to uid ${f.iface.owner}`;
    return netError('tap-not-yours', `tap device '${name}' ${who}, so attaching to it needs CAP_NET_ADMIN`, `recreate it owned by you: sudo ip tuntap del dev ${name} mode tap && ${create}`);
  }
  return undefined;
}

function checkBridge(name: string, f: NetFacts): OsvError | undefined {
  if (!f.iface.exists || !f.iface.isBridge) {
    return netError('bridge-missing', `bridge '${name}' does not exist`, `create it: sudo ip link add ${name} type bridge && sudo ip link set ${name} up (libvirt's default bridge is virbr0)`);
  }
  if (!f.bridgeHelper) {
    return netError('bridge-helper-missing', 'bridge networking needs qemu-bridge-helper, which is not installed', 'install QEMU\'s helper (Debian: it ships in qemu-system-common), or use `network: tap:NAME`');
  }
  if (!f.capNetAdmin && !f.bridgeHelper.setuidRoot) {
    return netError('bridge-helper-not-setuid', `${f.bridgeHelper.path} is not setuid root, so it cannot attach a tap to '${name}' for this user`, `sudo chmod u+s ${f.bridgeHelper.path}`);
  }
  if (!f.bridgeAllowed.includes(name) && !f.bridgeAllowed.includes('all')) {
    return netError('bridge-not-allowed', `${f.bridgeConf} does not allow bridge '${name}'`, `add the line 'allow ${name}' to ${f.bridgeConf}: echo 'allow ${name}' | sudo tee -a ${f.bridgeConf}`);
  }
  return undefined;
}

/** Pure: can this host give the guest this network? (Firecracker's own limits: firecracker.ts.) */
export function checkNetwork(net: Network, f: NetFacts): OsvError | undefined {
  if (net.kind === 'tap') return checkTap(net.name, f);
  if (net.kind === 'bridge') return checkBridge(net.name, f);
  return undefined;
}

/**
 * Static addressing over a tap that has an IPv4 address on the host, as OSv's scripts do: the
 * guest takes the next address, the host side is gateway and DNS. Nothing when the tap has no
 * address (the guest then asks for DHCP).
 */
export function tapKernelOptions(name: string, ifaces: ReturnType<typeof networkInterfaces> = networkInterfaces()): string[] {
  const v4 = ifaces[name]?.find((a) => a.family === 'IPv4');
  if (!v4) return [];
  const toInt = (ip: string): number => ip.split('.').reduce((n, o) => n * 256 + Number(o), 0);
  const toIp = (n: number): string => [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
  const addr = toInt(v4.address);
  const mask = toInt(v4.netmask);
  const guest = addr + 1;
  const size = 2 ** 32 - mask; // addresses in the subnet
  // The next address must be in the same subnet and not its broadcast address.
  if (guest % size === size - 1 || Math.floor(guest / size) !== Math.floor(addr / size)) return [];
  return [`--ip=eth0,${toIp(guest)},${v4.netmask}`, `--defaultgw=${v4.address}`, `--nameserver=${v4.address}`];
}
