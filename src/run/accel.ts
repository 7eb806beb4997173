// Deciding between KVM and TCG. `/dev/kvm` existing is not enough: nested or software KVM
// (this machine's kind, facts §13) either aborts QEMU on `-cpu host` ("failed to set MSR
// 0x10a") or dies in the guest ("KVM internal error ... emulation failure", no SSE). So `auto`
// boots a tiny probe guest under `-accel kvm -cpu host` that enables and executes SSE, then
// reports success through an isa-debug-exit port. The verdict is cached per host.

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { accessSync, constants, existsSync, readFileSync, realpathSync, rmSync, statSync } from 'node:fs';
import { release, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { makeDirs, writeFileAtomic } from '../atomic.js';
import { readOwnedJson } from '../owned-file.js';
import { cacheRoot } from '../kernel/cache.js';
import type { Accel, Arch } from '../config/types.js';
import { OsvError } from '../diagnostics/error.js';
import { err, ok, type Result } from '../diagnostics/result.js';

export type KvmProbe = { usable: true } | { usable: false; reason: string };

export interface AccelDecision {
  accel: 'kvm' | 'tcg';
  /** One line for the user when `auto` fell back to TCG, saying why. */
  note?: string;
  /** How the KVM verdict was reached. */
  how: 'requested' | 'precheck' | 'cache' | 'probe';
}

/** The value the probe guest writes to the debug-exit port; QEMU exits with (v << 1) | 1. */
const PROBE_EXIT_VALUE = 0x10;
export const PROBE_SUCCESS_STATUS = (PROBE_EXIT_VALUE << 1) | 1;

/**
 * A 64 KiB x86 BIOS image. At the reset vector (file offset 0xFFF0) a jump to 0xFF00, where
 * real-mode code enables SSE (CR0.EM=0, CR0.MP=1, CR4.OSFXSR|OSXMMEXCPT), runs xorps/addps
 * (what a software KVM's emulator cannot do), writes to port 0xF4 (isa-debug-exit), halts.
 */
export function x86ProbeRom(): Buffer {
  const rom = Buffer.alloc(0x10000);
  const code = [
    '0f20c0', // mov eax, cr0
    '6683e0fb', // and eax, ~4      (EM off)
    '6683c802', // or eax, 2        (MP on)
    '0f22c0', // mov cr0, eax
    '0f20e0', // mov eax, cr4
    '660d00060000', // or eax, 0x600  (OSFXSR | OSXMMEXCPT)
    '0f22e0', // mov cr4, eax
    '0f57c0', // xorps xmm0, xmm0
    '0f58c0', // addps xmm0, xmm0
    `b0${PROBE_EXIT_VALUE.toString(16).padStart(2, '0')}`, // mov al, PROBE_EXIT_VALUE
    'e6f4', // out 0xf4, al
    'f4', // hlt
    'ebfd', // jmp hlt
  ].join('');
  Buffer.from(code, 'hex').copy(rom, 0xff00);
  Buffer.from('e90dff', 'hex').copy(rom, 0xfff0); // jmp near 0xff00 (from ip 0xfff3)
  return rom;
}

/** An aarch64 raw kernel that calls PSCI SYSTEM_OFF (QEMU then exits 0). */
export function aarch64ProbeKernel(): Buffer {
  const words = [0x52800100 /* movz w0,#0x8 */, 0x72b08000 /* movk w0,#0x8400,lsl 16 */, 0xd4000002 /* hvc #0 */, 0x14000000 /* b . */];
  const buf = Buffer.alloc(words.length * 4);
  words.forEach((w, i) => buf.writeUInt32LE(w, i * 4));
  return buf;
}

/** The probe's QEMU arguments; `tcg` (with `-cpu max`) exists to check the probe guest itself. */
export function probeArgs(arch: Arch, guestFile: string, accel: 'kvm' | 'tcg' = 'kvm'): string[] {
  const common = ['-nodefaults', '-display', 'none', '-m', '32M', '-no-reboot', '-accel', accel];
  const cpu = accel === 'kvm' ? 'host' : arch === 'aarch64' ? 'cortex-a57' : 'max';
  if (arch === 'aarch64') return [...common, '-machine', 'virt,gic-version=max', '-cpu', cpu, '-kernel', guestFile];
  return [...common, '-cpu', cpu, '-bios', guestFile, '-device', 'isa-debug-exit,iobase=0xf4,iosize=0x04'];
}

export interface ProbeOutcome {
  exitCode: number | null;
  signal: string | null;
  stderr: string;
  timedOut: boolean;
}

/** The first stderr line that says what went wrong, without QEMU's program-name prefix. */
function telling(stderr: string, pattern: RegExp): string | undefined {
  const line = stderr.split(/\r?\n/).find((l) => pattern.test(l));
  return line?.replace(/^qemu-system-[\w-]+: /, '').trim();
}

/** Pure: what a probe run says about KVM on this host. */
export function classifyKvmProbe(o: ProbeOutcome, arch: Arch = 'x86_64'): KvmProbe {
  const success = arch === 'aarch64' ? 0 : PROBE_SUCCESS_STATUS;
  if (!o.timedOut && o.exitCode === success) return { usable: true };
  const known: Array<[RegExp, string]> = [
    [/failed to initialize kvm|Could not access KVM kernel module/i, 'QEMU cannot open KVM'],
    [/failed to set MSR/i, 'KVM rejects `-cpu host` (nested or software KVM)'],
    [/KVM internal error|emulation failure/i, 'KVM cannot emulate the guest (nested or software KVM)'],
    [/kvm/i, 'QEMU reported a KVM problem'],
  ];
  for (const [re, what] of known) {
    const line = telling(o.stderr, re);
    if (line) return { usable: false, reason: `${what}: ${line}` };
  }
  if (o.timedOut) return { usable: false, reason: 'a test guest under KVM did not finish (it hangs)' };
  const first = o.stderr.split(/\r?\n/).find((l) => l.trim() !== '')?.replace(/^qemu-system-[\w-]+: /, '').trim();
  const status = o.signal ? `was killed by ${o.signal}` : `exited with status ${o.exitCode}`;
  return { usable: false, reason: `a test guest under KVM ${status}${first ? `: ${first}` : ''}` };
}

/** Run the probe guest under KVM with a hard time limit. */
export async function probeKvm(qemu: string, arch: Arch, timeoutMs = 4000, accel: 'kvm' | 'tcg' = 'kvm'): Promise<KvmProbe> {
  const guest = join(tmpdir(), `osv-up-kvm-probe-${process.pid}-${randomBytes(4).toString('hex')}.bin`);
  writeFileAtomic(guest, arch === 'aarch64' ? aarch64ProbeKernel() : x86ProbeRom());
  try {
    const outcome = await new Promise<ProbeOutcome>((resolveOutcome) => {
      const child = spawn(qemu, probeArgs(arch, guest, accel), { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      let timedOut = false;
      child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
      const timer = setTimeout(() => {
        timedOut = true;
        child.kill('SIGKILL');
      }, timeoutMs);
      child.on('error', (e) => {
        clearTimeout(timer);
        resolveOutcome({ exitCode: null, signal: null, stderr: String(e.message), timedOut: false });
      });
      child.on('close', (exitCode, signal) => {
        clearTimeout(timer);
        resolveOutcome({ exitCode, signal, stderr, timedOut });
      });
    });
    return classifyKvmProbe(outcome, arch);
  } finally {
    rmSync(guest, { force: true });
  }
}

// ---- the per-host cache ---------------------------------------------------------------

export const accelCacheFile = (env: NodeJS.ProcessEnv = process.env): string => join(cacheRoot(env), 'accel.json');

function cpuModel(): string {
  try {
    const info = readFileSync('/proc/cpuinfo', 'utf8');
    const m = /^(?:model name|CPU part|Hardware)\s*:\s*(.+)$/m.exec(info);
    return m?.[1]?.trim() ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/**
 * What the verdict depends on: the host kernel, the CPU, and the QEMU build. The QEMU build is
 * identified by its resolved path, size and mtime (an upgrade changes them) instead of by
 * running `qemu --version`, which would cost a process spawn on every run.
 */
export function accelCacheKey(qemu: string, arch: Arch): string {
  let q = qemu;
  try {
    const real = realpathSync(qemu);
    const s = statSync(real);
    q = `${real}@${s.size}:${Math.trunc(s.mtimeMs)}`;
  } catch {
    /* keep the plain path */
  }
  return [`kernel=${release()}`, `cpu=${cpuModel()}`, `qemu=${q}`, `arch=${arch}`].join(' ');
}

interface CacheFile {
  version: 1;
  entries: Record<string, KvmProbe & { probedAt: string }>;
}

function readCache(file: string): CacheFile {
  // Absent, corrupt or another user's (owned-file.ts): start afresh.
  const parsed = readOwnedJson(file) as Partial<CacheFile> | null | undefined;
  if (typeof parsed === 'object' && parsed !== null && parsed.version === 1 && typeof parsed.entries === 'object' && parsed.entries !== null) return parsed as CacheFile;
  return { version: 1, entries: {} };
}

function writeCache(file: string, cache: CacheFile): void {
  try {
    makeDirs(dirname(file));
    writeFileAtomic(file, JSON.stringify(cache, null, 2) + '\n'); // concurrent runs never read half a file
  } catch {
    /* a cache we cannot write only costs a probe next time */
  }
}

// ---- the decision -----------------------------------------------------------------------

export interface AccelContext {
  qemu: string;
  arch: Arch;
  env?: NodeJS.ProcessEnv;
  /** Default /dev/kvm (tests point it elsewhere). */
  kvmDevice?: string;
  cacheFile?: string;
  /** Ignore a cached verdict and probe again. */
  refresh?: boolean;
  probeTimeoutMs?: number;
  /** Replaceable for tests of the decision logic; defaults to probeKvm. */
  probe?: (qemu: string, arch: Arch) => Promise<KvmProbe>;
}

const hostArch = (): Arch | undefined => (process.arch === 'x64' ? 'x86_64' : process.arch === 'arm64' ? 'aarch64' : undefined);

/** Cheap reasons KVM cannot work, checked before any probe; undefined when KVM may work. */
export function kvmPrecheck(ctx: Pick<AccelContext, 'arch' | 'kvmDevice'>): string | undefined {
  const host = hostArch();
  if (host !== ctx.arch) return `KVM cannot run an ${ctx.arch} guest on this ${process.arch} host`;
  const dev = ctx.kvmDevice ?? '/dev/kvm';
  if (!existsSync(dev)) return `${dev} does not exist`;
  try {
    accessSync(dev, constants.R_OK | constants.W_OK);
  } catch {
    return `no permission to use ${dev} (add your user to the 'kvm' group and log in again)`;
  }
  return undefined;
}

/** Can KVM run OSv here? Cheap checks, then the cached or fresh probe. */
export async function checkKvm(ctx: AccelContext): Promise<{ probe: KvmProbe; how: AccelDecision['how'] }> {
  const pre = kvmPrecheck(ctx);
  if (pre) return { probe: { usable: false, reason: pre }, how: 'precheck' };
  const file = ctx.cacheFile ?? accelCacheFile(ctx.env);
  const key = accelCacheKey(ctx.qemu, ctx.arch);
  const cache = readCache(file);
  const hit = cache.entries[key];
  if (hit && !ctx.refresh) return { probe: hit.usable ? { usable: true } : { usable: false, reason: hit.reason }, how: 'cache' };
  const probe = await (ctx.probe ?? ((q, a) => probeKvm(q, a, ctx.probeTimeoutMs)))(ctx.qemu, ctx.arch);
  cache.entries[key] = { ...probe, probedAt: new Date().toISOString() };
  writeCache(file, cache);
  return { probe, how: 'probe' };
}

/**
 * `tcg` as asked; `kvm` only if it works (else an error saying why); `auto` KVM when it works,
 * else TCG with a one-line note.
 */
export async function decideAccel(requested: Accel, ctx: AccelContext): Promise<Result<AccelDecision>> {
  if (requested === 'tcg') return ok({ accel: 'tcg', how: 'requested' });
  const { probe, how } = await checkKvm(ctx);
  if (probe.usable) return ok({ accel: 'kvm', how });
  if (requested === 'kvm') {
    return err(
      new OsvError({
        code: 'run.kvm-unusable',
        message: `KVM was requested but cannot run OSv here: ${probe.reason}`,
        hint: 'use `accel: auto` or `--accel tcg` (software emulation: slower, but works everywhere)',
      }),
    );
  }
  return ok({ accel: 'tcg', how, note: `KVM is not usable here: ${probe.reason}; using TCG software emulation (slower)` });
}
