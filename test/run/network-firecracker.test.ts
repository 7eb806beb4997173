import { existsSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findFirecracker, findQemu } from '../../src/run/binaries.js';
import { firecrackerArgs, firecrackerBootArgs, firecrackerConfig, snapshotCopies } from '../../src/run/firecracker.js';
import { checkNetwork, gatherNetFacts, tapKernelOptions, type NetFacts } from '../../src/run/netcheck.js';
import { accelCacheKey } from '../../src/run/accel.js';
import { executeRun, prepareRun } from '../../src/run/runner.js';
import { rootDisk, type VmSpec } from '../../src/run/spec.js';
import { tempDir } from './helpers/fake-guest.js';

const MiB = 1024 * 1024;

const facts = (over: Partial<NetFacts> = {}, iface: Partial<NetFacts['iface']> = {}): NetFacts => ({
  uid: 1000,
  gids: [1000, 27],
  tunAccess: true,
  capNetAdmin: false,
  iface: { exists: true, isTap: true, isBridge: false, owner: 1000, group: -1, ...iface },
  bridgeAllowed: [],
  bridgeConf: '/etc/qemu/bridge.conf',
  ...over,
});

describe('tap and bridge privileges', () => {
  const tap = { kind: 'tap' as const, name: 'tap0' };
  const br = { kind: 'bridge' as const, name: 'br0' };
  const code = (e: ReturnType<typeof checkNetwork>): string | undefined => e?.code;

  it('a tap owned by the user works without privileges', () => {
    expect(checkNetwork(tap, facts())).toBeUndefined();
    expect(checkNetwork(tap, facts({}, { owner: -1, group: 27 }))).toBeUndefined();
  });

  it('explains each missing privilege with the command that fixes it', () => {
    const noTun = checkNetwork(tap, facts({ tunAccess: false }));
    expect(noTun?.code).toBe('run.tun-denied');
    expect(noTun?.message).toContain('/dev/net/tun');
    const missing = checkNetwork(tap, facts({}, { exists: false }));
    expect(missing?.code).toBe('run.tap-missing');
    expect(missing?.message).toBe("tap device 'tap0' does not exist, and creating one needs CAP_NET_ADMIN");
    expect(missing?.hint).toContain('sudo ip tuntap add dev tap0 mode tap user $(id -un)');
    expect(code(checkNetwork(tap, facts({}, { owner: 0 })))).toBe('run.tap-not-yours');
    expect(code(checkNetwork(tap, facts({}, { isTap: false })))).toBe('run.not-a-tap');
    expect(checkNetwork(tap, facts({ capNetAdmin: true }, { exists: false }))).toBeUndefined();
  });

  it('bridge: the bridge, the setuid helper and the ACL', () => {
    const helper = { path: '/usr/lib/qemu/qemu-bridge-helper', setuidRoot: true };
    const ok = facts({ bridgeHelper: helper, bridgeAllowed: ['br0'] }, { isTap: false, isBridge: true });
    expect(checkNetwork(br, ok)).toBeUndefined();
    expect(code(checkNetwork(br, { ...ok, iface: { ...ok.iface, exists: false } }))).toBe('run.bridge-missing');
    const { bridgeHelper: _unused, ...noHelper } = ok;
    expect(code(checkNetwork(br, noHelper))).toBe('run.bridge-helper-missing');
    const notSetuid = checkNetwork(br, { ...ok, bridgeHelper: { ...helper, setuidRoot: false } });
    expect(notSetuid?.code).toBe('run.bridge-helper-not-setuid');
    expect(notSetuid?.hint).toBe('sudo chmod u+s /usr/lib/qemu/qemu-bridge-helper');
    const acl = checkNetwork(br, { ...ok, bridgeAllowed: ['virbr0'] });
    expect(acl?.code).toBe('run.bridge-not-allowed');
    expect(acl?.hint).toContain("allow br0");
    expect(checkNetwork(br, { ...ok, bridgeAllowed: ['all'] })).toBeUndefined();
  });

  it('gathers the facts of this host (helper installed with QEMU here)', () => {
    const f = gatherNetFacts({ kind: 'bridge', name: 'nonexistent0' });
    expect(f.iface.exists).toBe(false);
    expect(typeof f.capNetAdmin).toBe('boolean');
    expect(code(checkNetwork({ kind: 'bridge', name: 'nonexistent0' }, f))).toBe('run.bridge-missing');
  });

  it('static addressing over a tap with an address: the next address, host as gateway and DNS', () => {
    const ifaces = { tap0: [{ address: '172.16.0.1', netmask: '255.255.255.252', family: 'IPv4', mac: '', internal: false, cidr: '172.16.0.1/30' }] } as never;
    expect(tapKernelOptions('tap0', ifaces)).toEqual(['--ip=eth0,172.16.0.2,255.255.255.252', '--defaultgw=172.16.0.1', '--nameserver=172.16.0.1']);
    const last = { tap0: [{ address: '172.16.0.2', netmask: '255.255.255.252', family: 'IPv4', mac: '', internal: false, cidr: '' }] } as never;
    expect(tapKernelOptions('tap0', last)).toEqual([]); // .3 is the broadcast address
    expect(tapKernelOptions('tap9', {})).toEqual([]);
  });
});

const spec = (over: Partial<VmSpec> = {}): VmSpec => ({
  arch: 'x86_64',
  boot: { kind: 'kernel', kernel: '/k/loader-stripped.elf', cmdline: '--rootfs=rofs /hello', disk: { path: '/i/app.raw', format: 'raw' } },
  memory: 256 * MiB,
  cpus: 2,
  network: { kind: 'tap', name: 'fc_tap0' },
  ports: [],
  volumes: [],
  accel: 'kvm',
  ...over,
});

describe('Firecracker configuration (facts §6.2)', () => {
  it('kernel + --nopci boot args, raw rootfs not root device, machine config, tap interface', () => {
    const c = firecrackerConfig(spec({ volumes: [{ path: '/v/data.raw', format: 'raw', readonly: true }] }));
    expect(c).toEqual({
      ok: true,
      value: {
        'boot-source': { kernel_image_path: '/k/loader-stripped.elf', boot_args: '--nopci --rootfs=rofs /hello' },
        drives: [
          { drive_id: 'rootfs', path_on_host: '/i/app.raw', is_root_device: false, is_read_only: false },
          { drive_id: 'vol1', path_on_host: '/v/data.raw', is_root_device: false, is_read_only: true },
        ],
        'machine-config': { vcpu_count: 2, mem_size_mib: 256 },
        'network-interfaces': [{ iface_id: 'eth0', host_dev_name: 'fc_tap0', guest_mac: '52:54:00:12:34:56' }],
      },
    });
    expect(firecrackerArgs('/tmp/fc.json')).toEqual(['--no-api', '--config-file', '/tmp/fc.json']);
  });

  it('a disk whose writes the run throws away boots from a temporary copy; a read-only one as it is', () => {
    const s = spec({ boot: { kind: 'kernel', kernel: '/k', cmdline: 'x', disk: rootDisk('/i/app.raw', 'raw', 'ext') }, volumes: [{ path: '/v/seed.raw', format: 'raw', snapshot: true }, { path: '/v/data.raw', format: 'raw' }] });
    const copies = snapshotCopies(s, '/tmp', '7-ab');
    expect(copies).toEqual([
      { from: '/i/app.raw', to: '/tmp/osv-up-7-ab-disk0-app.raw' },
      { from: '/v/seed.raw', to: '/tmp/osv-up-7-ab-disk1-seed.raw' },
    ]);
    const c = firecrackerConfig(s, copies);
    expect(c.ok && c.value.drives.map((d) => [d.path_on_host, d.is_read_only])).toEqual([
      ['/tmp/osv-up-7-ab-disk0-app.raw', false],
      ['/tmp/osv-up-7-ab-disk1-seed.raw', false],
      ['/v/data.raw', false],
    ]);
    const rofs = spec({ boot: { kind: 'kernel', kernel: '/k', cmdline: 'x', disk: rootDisk('/i/app.raw', 'raw', 'rofs') } });
    expect(snapshotCopies(rofs, '/tmp', 't')).toEqual([]);
    const r = firecrackerConfig(rofs);
    expect(r.ok && r.value.drives[0]).toMatchObject({ path_on_host: '/i/app.raw', is_read_only: true });
  });

  it('boot args: --nopci once; aarch64 also console=tty', () => {
    expect(firecrackerBootArgs('--nopci --rootfs=rofs /x', 'x86_64')).toBe('--nopci --rootfs=rofs /x');
    expect(firecrackerBootArgs('--rootfs=rofs /x', 'aarch64')).toBe('console=tty --nopci --rootfs=rofs /x');
  });

  it('no network interface without a tap', () => {
    const c = firecrackerConfig(spec({ network: { kind: 'none' } }));
    expect(c.ok && c.value['network-interfaces']).toEqual([]);
  });

  it('rejects what Firecracker cannot do, saying what to do instead', () => {
    const code = (s: VmSpec): string | undefined => {
      const r = firecrackerConfig(s);
      return r.ok ? undefined : r.error.code;
    };
    expect(code(spec({ boot: { kind: 'image', disk: { path: '/i', format: 'raw' } } }))).toBe('run.fc-needs-kernel');
    expect(code(spec({ boot: { kind: 'kernel', kernel: '/k', cmdline: 'x', disk: { path: '/i.qcow2', format: 'qcow2' } } }))).toBe('run.fc-needs-raw');
    expect(code(spec({ network: { kind: 'user' }, ports: [{ host: 8080, guest: 80, protocol: 'tcp' }] }))).toBe('run.fc-no-user-net');
    expect(code(spec({ network: { kind: 'bridge', name: 'br0' } }))).toBe('run.fc-no-bridge');
    expect(code(spec({ cpus: 33 }))).toBe('run.fc-too-many-cpus');
    expect(code(spec({ gdb: { port: 1 } }))).toBe('run.fc-no-debug');
  });
});

describe('missing hypervisor binaries', () => {
  it('firecracker not on PATH (it is not installed here): a clear error with where to get it', () => {
    const r = findFirecracker({ env: { PATH: '/nonexistent' } });
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.message).toBe('firecracker is not installed (not found on PATH)');
      expect(r.error.hint).toContain('https://github.com/firecracker-microvm/firecracker/releases');
    }
    const explicit = findFirecracker({ env: { FIRECRACKER_PATH: '/opt/fc/firecracker' } });
    expect(!explicit.ok && explicit.error.message).toBe("Firecracker binary '/opt/fc/firecracker' does not exist or is not executable");
  });

  it('QEMU missing names the Debian package; OSV_QEMU and run.qemu are honoured', () => {
    const x = findQemu('x86_64', { env: { PATH: '/nonexistent' } });
    expect(!x.ok && x.error.hint).toContain('sudo apt-get install qemu-system-x86');
    const a = findQemu('aarch64', { env: { PATH: '/nonexistent' } });
    expect(!a.ok && a.error.message).toBe('qemu-system-aarch64 is not installed (not found on PATH)');
    expect(!a.ok && a.error.hint).toContain('qemu-system-arm');
    const env = findQemu('x86_64', { env: { OSV_QEMU: '/no/such/qemu', PATH: process.env['PATH'] } });
    expect(!env.ok && env.error.message).toBe("QEMU binary '/no/such/qemu' (from OSV_QEMU) does not exist or is not executable");
    // run.qemu wins over OSV_QEMU. Found on PATH, never run: a stand-in file is enough, so this
    // holds on a machine without QEMU too (issue #14).
    const bin = tempDir();
    writeFileSync(join(bin, 'qemu-system-x86_64'), '#!/bin/sh\nexit 1\n', { mode: 0o755 });
    const conf = findQemu('x86_64', { configured: 'qemu-system-x86_64', env: { OSV_QEMU: '/no', PATH: bin } });
    expect(conf.ok && conf.value).toBe(join(bin, 'qemu-system-x86_64'));
  });

  it('prepareRun with hypervisor firecracker and no firecracker fails before anything starts', async () => {
    const dir = tempDir();
    const k = join(dir, 'k.elf');
    writeFileSync(k, 'x');
    const r = await prepareRun({
      hypervisor: 'firecracker',
      vm: { ...spec({ boot: { kind: 'kernel', kernel: k, cmdline: '/x' } }) },
      accel: 'auto',
      env: { PATH: '/nonexistent' },
    });
    expect(r.ok).toBe(false);
    if (!r.ok) expect((r.error as { code: string }).code).toBe('run.firecracker-not-found');
  });

  it('Firecracker found, but KVM cannot run OSv here: a clear error before starting it', async () => {
    const dir = tempDir();
    const k = join(dir, 'k.elf');
    writeFileSync(k, 'x');
    // Only found on PATH, never run: prepareRun stops at the KVM check on this machine.
    writeFileSync(join(dir, 'firecracker'), '#!/bin/sh\nexit 1\n', { mode: 0o755 });
    const r = await prepareRun({
      hypervisor: 'firecracker',
      vm: { ...spec({ boot: { kind: 'kernel', kernel: k, cmdline: '/x' }, network: { kind: 'none' } }) },
      accel: 'auto',
      env: { PATH: `${dir}:${process.env['PATH']}` },
      kvmDevice: join(dir, 'no-kvm'),
    });
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect((r.error as { code: string }).code).toBe('run.fc-needs-kvm');
      expect(r.error.message).toBe(`Firecracker needs KVM, and it cannot run OSv here: ${join(dir, 'no-kvm')} does not exist`);
    }
  });
});

// Firecracker itself cannot run here (it is not packaged, and this machine has no usable
// KVM). A stand-in binary on PATH takes its place: it checks the arguments, keeps the JSON
// configuration it was given, prints an OSv-like console and exits 0, as Firecracker does when
// OSv powers off. The KVM check is satisfied by a stand-in device file and a cached verdict.
describe('a Firecracker run, with a stand-in firecracker binary', () => {
  /** The stand-in (a shell script) on PATH, a stand-in KVM device and a cached verdict that KVM runs OSv. */
  const standIn = (dir: string, script: string[]): { env: NodeJS.ProcessEnv; kvmDevice: string; accelCacheFile: string } => {
    writeFileSync(join(dir, 'firecracker'), ['#!/bin/sh', ...script, 'exit 0', ''].join('\n'), { mode: 0o755 });
    const kvmDevice = join(dir, 'kvm');
    writeFileSync(kvmDevice, '');
    const accelCacheFile = join(dir, 'accel.json');
    const qemu = findQemu('x86_64', { env: { PATH: process.env['PATH'] } });
    if (qemu.ok) writeFileSync(accelCacheFile, JSON.stringify({ version: 1, entries: { [accelCacheKey(qemu.value, 'x86_64')]: { usable: true, probedAt: new Date().toISOString() } } }));
    return { env: { PATH: `${dir}:${process.env['PATH']}` }, kvmDevice, accelCacheFile };
  };

  it('writes the configuration, runs `firecracker --no-api --config-file`, streams the console, then removes the file', async () => {
    const dir = tempDir();
    const k = join(dir, 'loader-stripped.elf');
    writeFileSync(k, 'x');
    const disk = join(dir, 'app.img');
    writeFileSync(disk, Buffer.alloc(MiB));
    const fc = standIn(dir, [
      '[ "$1" = --no-api ] && [ "$2" = --config-file ] && [ $# -eq 3 ] || { echo "bad arguments: $*" >&2; exit 2; }',
      `cp "$3" ${join(dir, 'seen.json')}`,
      'echo "OSv v0.57.0 (stand-in)"',
      'echo "VFS: mounting rofs at /rofs"',
      'sed -n \'s/.*"boot_args": "\\(.*\\)".*/Cmdline: \\1/p\' "$3"',
      'echo "Hello from C code"',
      'echo "Powering off."',
    ]);
    const prep = await prepareRun({
      hypervisor: 'firecracker',
      vm: { ...spec({ boot: { kind: 'kernel', kernel: k, cmdline: '--rootfs=rofs /hello', disk: { path: disk, format: 'raw' } }, network: { kind: 'none' }, memory: 256 * MiB, cpus: 2 }) },
      accel: 'auto',
      ci: true,
      expect: '^Hello from C code$',
      ...fc,
    });
    if (!prep.ok) throw prep.error;
    expect(prep.value.argv).toEqual([join(dir, 'firecracker'), '--no-api', '--config-file', prep.value.firecracker!.configFile]);
    let out = '';
    const report = await executeRun(prep.value, { stdout: { write: (c: Buffer | string) => ((out += c.toString()), true) }, stderr: { write: () => true } });
    expect(report.verdict).toMatchObject({ ok: true, exitCode: 0 });
    expect(out).toContain('Cmdline: --nopci --rootfs=rofs --verbose --power-off-on-abort /hello');
    expect(out).not.toContain('Powering off.');
    expect(JSON.parse(readFileSync(join(dir, 'seen.json'), 'utf8'))).toEqual({
      'boot-source': { kernel_image_path: k, boot_args: '--nopci --rootfs=rofs --verbose --power-off-on-abort /hello' },
      drives: [{ drive_id: 'rootfs', path_on_host: disk, is_root_device: false, is_read_only: false }],
      'machine-config': { vcpu_count: 2, mem_size_mib: 256 },
      'network-interfaces': [],
    });
    expect(existsSync(prep.value.firecracker!.configFile)).toBe(false);
  });

  it('an ext root boots from a temporary copy: the guest writes into the copy, the image stays as built, the copy is removed', async () => {
    const dir = tempDir();
    const k = join(dir, 'loader-stripped.elf');
    writeFileSync(k, 'x');
    const disk = join(dir, 'app.img');
    writeFileSync(disk, Buffer.alloc(MiB, 7));
    truncateSync(disk, 64 * MiB); // 63 MiB of hole, as an ext image has
    // The stand-in "guest" writes over the start of the disk it was given, and keeps a copy of what it saw.
    const fc = standIn(dir, [
      `p=$(sed -n 's/.*"path_on_host": "\\(.*\\)",$/\\1/p' "$3" | head -1)`,
      `stat -c %b "$p" > ${join(dir, 'blocks.txt')}`,
      `echo "$p" > ${join(dir, 'path.txt')}`,
      'printf "written by the guest" | dd of="$p" conv=notrunc 2>/dev/null',
      `head -c 20 "$p" > ${join(dir, 'seen.txt')}`,
      'echo "Hello from C code"',
    ]);
    const prep = await prepareRun({
      hypervisor: 'firecracker',
      vm: { ...spec({ boot: { kind: 'kernel', kernel: k, cmdline: '--rootfs=ext /hello', disk: rootDisk(disk, 'raw', 'ext') }, network: { kind: 'none' } }) },
      accel: 'auto',
      ...fc,
    });
    if (!prep.ok) throw prep.error;
    const copy = prep.value.firecracker!.copies[0]!;
    expect(copy.from).toBe(disk);
    expect(prep.value.notes).toContain(`Firecracker has no disk overlays: it boots a copy of ${disk} (${copy.to}), removed after the run`);
    const report = await executeRun(prep.value, { stdout: { write: () => true }, stderr: { write: () => true } });
    expect(report.exit.exitCode).toBe(0);
    expect(readFileSync(join(dir, 'path.txt'), 'utf8').trim()).toBe(copy.to);
    expect(readFileSync(join(dir, 'seen.txt'), 'utf8')).toBe('written by the guest');
    // The copy kept the holes (512-byte blocks allocated: the written MiB, not 64).
    expect(Number(readFileSync(join(dir, 'blocks.txt'), 'utf8')) * 512).toBeLessThan(2 * MiB);
    expect(readFileSync(disk).subarray(0, MiB).equals(Buffer.alloc(MiB, 7))).toBe(true);
    expect(existsSync(copy.to)).toBe(false);
  });
});
