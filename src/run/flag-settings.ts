// The VM flags that `osv run`, `osv up` and `osv test` share (-m, -c, -p, --accel, ...), parsed
// into the RunSettings they override. One parser for the flags and for osv.yaml's values,
// except that a bare memory number is MiB, as QEMU's -m reads it.

import type { Accel, Hypervisor, Machine, Network, PortForward, RunSettings } from '../config/types.js';
import { parseExpect, parseMemory, parsePort } from '../config/values.js';
import { ExitCode, OsvError } from '../diagnostics/error.js';
import { err, ok, unwrap, type Result } from '../diagnostics/result.js';
import { oneOf, optional, positive, seconds } from '../cli/flag-values.js';
import type { DebugDevices } from './runner.js';

/** A usage error of the VM flags (exit 2), as `osv run` reports them. */
export const usage = (message: string, hint?: string): OsvError => new OsvError({ code: 'run.usage', message, ...(hint ? { hint } : {}), exitCode: ExitCode.usage });

/** `512M`, `2G`, `1024` (MiB, like QEMU's -m). */
export function parseMemoryFlag(text: string): Result<number> {
  const t = text.trim();
  const r = parseMemory(/^[0-9]+(\.[0-9]+)?$/.test(t) ? `${t}M` : t);
  return r.ok ? ok(r.value) : err(usage(`invalid memory size "${text}": ${r.message}`, 'give MiB or a number with K, M, G (e.g. 512M, 2G)'));
}

/** `8080:80`, `8080:80/udp`, `0.0.0.0:8080:80`, `8080` (same both sides). */
export function parsePortFlag(text: string): Result<PortForward> {
  const r = parsePort(text.trim());
  return r.ok ? ok(r.value) : err(usage(`-p: ${r.message}`));
}

/** `user`, `none`, `tap:NAME`, `bridge:NAME`. */
export function parseNetworkFlag(text: string): Result<Network> {
  if (text === 'user' || text === 'none') return ok({ kind: text });
  const m = /^(tap|bridge):([A-Za-z0-9_.-]{1,15})$/.exec(text);
  if (m) return ok({ kind: m[1] as 'tap' | 'bridge', name: m[2]! });
  return err(usage(`invalid network "${text}"`, 'use user, none, tap:NAME or bridge:NAME'));
}

export interface VmFlags {
  gdb?: string;
  gdbWait?: boolean;
  vnc?: string;
  port?: string[];
  memory?: string;
  cpus?: string;
  accel?: string;
  hypervisor?: string;
  network?: string;
  machine?: string;
  timeout?: string;
  expect?: string;
  /** -e: the OSv command line (checked here, used by the caller). */
  exec?: string;
  /** --qemu (osv run): the QEMU binary (checked here, used by the caller). */
  qemu?: string;
}

/** The settings the flags set (absent flags leave theirs out), and the ports they add. Throws a usage error. */
export function settingsFromFlags(f: VmFlags): { set: Partial<RunSettings>; ports: PortForward[] } {
  const set: Partial<RunSettings> = {};
  // An empty command line would boot OSv with nothing to run, to fail only after the boot.
  if (f.exec !== undefined && f.exec.trim() === '') throw usage(`-e/--exec is ${f.exec === '' ? 'empty' : 'blank'}: OSv needs a command line to run`, 'give one, e.g. -e "--rootfs=rofs /hello", or leave -e out to boot the configured one');
  // An empty --qemu was taken as no --qemu at all.
  if (f.qemu !== undefined && f.qemu.trim() === '') throw usage(`--qemu is ${f.qemu === '' ? 'empty' : 'blank'}`, 'give the QEMU binary, a path or a name on PATH (qemu-system-x86_64), or leave --qemu out to use $OSV_QEMU or qemu-system-<arch> on PATH');
  if (f.memory !== undefined) set.memory = unwrap(parseMemoryFlag(f.memory));
  // What osv.yaml's run.cpus takes (the schema: an integer 1..255), in decimal digits only.
  const cpus = optional(f.cpus, (v) => intIn('--cpus', v, 1, 255));
  if (cpus !== undefined) set.cpus = cpus;
  const accel = optional(f.accel, (v) => oneOf<Accel>('--accel', v, ['auto', 'kvm', 'tcg']));
  if (accel) set.accel = accel;
  const hv = optional(f.hypervisor, (v) => oneOf<Hypervisor>('--hypervisor', v, ['qemu', 'firecracker']));
  if (hv) set.hypervisor = hv;
  if (f.network !== undefined) set.network = unwrap(parseNetworkFlag(f.network));
  const machine = optional(f.machine, (v) => oneOf<Machine>('--machine', v, ['pc', 'q35']));
  if (machine) set.machine = machine;
  const timeout = optional(f.timeout, (v) => seconds('--timeout', v));
  if (timeout !== undefined) set.timeout = timeout;
  if (f.expect !== undefined) {
    // Refused before anything is built, as osv.yaml's run.expect is when it is read.
    const re = parseExpect(f.expect);
    if (!re.ok) throw usage(`--expect: ${re.message}`, 'give a JavaScript regular expression for what the program prints');
    set.expect = f.expect;
  }
  return { set, ports: (f.port ?? []).map((p) => unwrap(parsePortFlag(p))) };
}

const hostSide = (p: PortForward): string => `${p.hostAddress ?? '127.0.0.1'}:${p.host}/${p.protocol}`;

/** An integer in [min, max], for a flag. */
function intIn(flag: string, value: string, min: number, max: number): Result<number> {
  const n = /^[0-9]{1,6}$/.test(value) ? Number(value) : NaN;
  return n >= min && n <= max ? ok(n) : err(usage(`${flag} must be an integer from ${min} to ${max}, got "${value}"`));
}

/** --gdb PORT [--gdb-wait] and --vnc DISPLAY: QEMU's debugging devices, on 127.0.0.1. */
export function debugFromFlags(f: VmFlags): DebugDevices {
  if (f.gdbWait && f.gdb === undefined) throw usage('--gdb-wait needs --gdb PORT');
  const gdb = optional(f.gdb, (v) => intIn('--gdb', v, 1, 65535));
  const vnc = optional(f.vnc, (v) => intIn('--vnc', v, 0, 99));
  return { ...(gdb !== undefined ? { gdb: { port: gdb, ...(f.gdbWait ? { waitForDebugger: true } : {}) } } : {}), ...(vnc !== undefined ? { vnc: { display: vnc } } : {}) };
}

/** `-P`: each port an image exposes (`80/tcp`, `53/udp`, `8080`) forwarded from the same host port. */
export function exposedForwards(exposed: readonly string[]): PortForward[] {
  return exposed.flatMap((e) => {
    const m = /^([0-9]{1,5})(?:\/(tcp|udp))?$/.exec(e);
    const port = m ? Number(m[1]) : 0;
    return m && port >= 1 && port <= 65535 ? [{ host: port, guest: port, protocol: (m[2] ?? 'tcp') as 'tcp' | 'udp' }] : [];
  });
}

/**
 * The flags over the configured settings: scalars replace; -p adds a forward, or replaces the
 * configured one of the same host address, port and protocol (so a forward can be remapped).
 */
export function applyFlags(base: RunSettings, flags: { set: Partial<RunSettings>; ports: PortForward[] }): RunSettings {
  const taken = new Set(flags.ports.map(hostSide));
  return { ...base, ...flags.set, ports: [...base.ports.filter((p) => !taken.has(hostSide(p))), ...flags.ports] };
}
