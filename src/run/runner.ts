// The runner: prepareRun() turns a request into the exact hypervisor command (binary found,
// acceleration decided, network privileges checked, CI options added) without starting
// anything; executeRun() starts it, streams the console, watches it, and returns the verdict.
// `osv run`, `osv up` and `osv test` share both.

import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { constants as fsConstants, copyFileSync, existsSync, rmSync } from 'node:fs';
import { writeFileAtomic } from '../atomic.js';
import { parseExpect } from '../config/values.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Accel, Hypervisor, RunSettings } from '../config/types.js';
import { DEFAULTS } from '../config/defaults.js';
import { OsvError, OsvErrors } from '../diagnostics/error.js';
import { err, ok, type Result } from '../diagnostics/result.js';
import { checkKvm, decideAccel, kvmPrecheck, type AccelContext, type AccelDecision } from './accel.js';
import { findFirecracker, findQemu, which } from './binaries.js';
import { addKernelOptions, hasKernelOption } from './cmdline.js';
import { externalFilesError } from '../image/qcow2.js';
import { maskText } from '../secrets.js';
import { firecrackerArgs, firecrackerConfig, snapshotCopies, type DiskCopy, type FirecrackerConfig } from './firecracker.js';
import { checkNetwork, gatherNetFacts, tapKernelOptions } from './netcheck.js';
import { qemuArgs, validateVmSpec } from './qemu-args.js';
import { ConsoleScanner, type ScanEvent, type ScanResult } from './scanner.js';
import { shellQuote } from './shell-quote.js';
import type { Boot, Disk, VmSpec } from './spec.js';
import { supervise, type ChildExit } from './supervisor.js';
import { ConsoleView } from './console-view.js';
import { verdict, type Verdict, type VerdictOptions } from './verdict.js';

/** A VM whose acceleration is still to be decided. */
export type VmDraft = Omit<VmSpec, 'accel'>;

/** A gdb stub and a VNC display: only when asked for (--gdb, --vnc). */
export type DebugDevices = Pick<VmSpec, 'gdb' | 'vnc'>;

export interface RunRequest {
  hypervisor: Hypervisor;
  vm: VmDraft;
  accel: Accel;
  /** `run.qemu` (explicit QEMU binary). */
  qemu?: string;
  /** Where `qemu` came from, for messages: run.qemu unless said (--qemu). */
  qemuFrom?: string;
  /** Loader options the run needs whatever the command line (the named volumes' --mount-fs). */
  kernelOptions?: string[];
  /** CI mode: `--power-off-on-abort` is added to the kernel options. */
  ci?: boolean;
  /** Seconds. */
  timeout?: number;
  /** The timeout is CI's default, not one the user set (the failure says so). */
  defaultTimeout?: boolean;
  /** A regular expression (source) some console line must match. */
  expect?: string;
  env?: NodeJS.ProcessEnv;
  /** Values to show as *** in what is printed of the run (src/secrets.ts). */
  secrets?: string[];
  /** Overrides for tests: the KVM device and the accel cache file. */
  kvmDevice?: string;
  accelCacheFile?: string;
}

export interface PreparedRun {
  hypervisor: Hypervisor;
  /** The exact command: [binary, ...args]. */
  argv: string[];
  /** The same, shell-quoted, for --dry-run and messages, with the secrets masked. */
  commandLine: string;
  /** argv with the secrets masked, for printing. */
  shownArgv: string[];
  secrets: string[];
  /** The VM as it will run (acceleration decided, CI options in the command line). */
  spec: VmSpec;
  accel?: AccelDecision;
  /**
   * Firecracker: the configuration, written to configFile when the run starts, and the
   * temporary copies of the disks whose writes the run throws away (made then, removed after).
   */
  firecracker?: { config: FirecrackerConfig; configFile: string; copies: DiskCopy[] };
  expect?: RegExp;
  timeoutMs?: number;
  defaultTimeout?: boolean;
  ci: boolean;
  /** One-line notes for the user (e.g. why TCG was chosen). */
  notes: string[];
}

const runError = (code: string, message: string, hint?: string): OsvError => new OsvError({ code: `run.${code}`, message, ...(hint ? { hint } : {}) });

export function compileExpect(source: string): Result<RegExp> {
  const r = parseExpect(source);
  return r.ok ? ok(r.value) : err(runError('bad-expect', `expect: ${r.message}`, 'write a JavaScript regular expression for what the program prints, e.g. "Hello|listening on"'));
}

/** The command line after the options the run itself needs (CI, static tap addressing). */
function finalBoot(boot: Boot, req: RunRequest, notes: string[]): Boot {
  if (boot.kind !== 'kernel') {
    if (req.ci) notes.push('the image boots with the command line stored in it; failures are still caught on the console');
    return boot;
  }
  // OSv reports the program's exit status only with --verbose (facts §13); the plan puts it in
  // every command line, and a command line given with -e or recorded by an older osv-up gets it here.
  let cmdline = addKernelOptions(boot.cmdline, ['--verbose', ...(req.kernelOptions ?? [])]);
  // Without it an aborted OSv halts and the hypervisor never exits (facts §13).
  if (req.ci) cmdline = addKernelOptions(cmdline, ['--power-off-on-abort']);
  const net = req.vm.network;
  if (net.kind === 'tap' && !hasKernelOption(cmdline, 'ip')) cmdline = addKernelOptions(cmdline, tapKernelOptions(net.name));
  return { ...boot, cmdline };
}

function missingFiles(vm: VmDraft): OsvError[] {
  const files: Array<[string, string]> = [];
  if (vm.boot.kind === 'kernel') files.push(['kernel', vm.boot.kernel]);
  const disk = vm.boot.disk;
  if (disk) files.push(['image', disk.path]);
  for (const v of vm.volumes) if (!v.pending) files.push(['volume', v.path]);
  return files
    .filter(([, p]) => !existsSync(p))
    .map(([what, p]) => runError(`${what}-missing`, `${what} ${p} does not exist`, what === 'kernel' ? 'give the kernel ELF with --kernel or OSV_KERNEL' : undefined));
}

/** qcow2 disks that would let the guest read other host files (backing or data files). */
function externalFiles(vm: VmDraft): OsvError[] {
  const disks: Array<[string, Disk]> = [...(vm.boot.disk ? [['image', vm.boot.disk] as [string, Disk]] : []), ...vm.volumes.map((v): [string, Disk] => ['volume', v])];
  return disks.flatMap(([what, d]) => (d.format === 'qcow2' && existsSync(d.path) ? [externalFilesError(d.path, what)].filter((e): e is OsvError => e !== undefined) : []));
}

type Base = Pick<PreparedRun, 'expect' | 'ci' | 'notes' | 'timeoutMs' | 'defaultTimeout' | 'secrets'>;

/** The command as printed: shell-quoted, secrets masked. */
const shown = (argv: string[], base: Base): Pick<PreparedRun, 'commandLine' | 'shownArgv'> => ({
  commandLine: maskText(shellQuote(argv), base.secrets),
  shownArgv: argv.map((a) => maskText(a, base.secrets)),
});

export async function prepareRun(req: RunRequest): Promise<Result<PreparedRun, OsvError | OsvErrors>> {
  const notes: string[] = [];
  let expect: RegExp | undefined;
  if (req.expect !== undefined) {
    const r = compileExpect(req.expect);
    if (!r.ok) return r;
    expect = r.value;
  }
  if (req.timeout !== undefined && !(req.timeout > 0)) return err(runError('bad-timeout', `timeout must be a positive number of seconds, got ${req.timeout}`));
  const draft: VmDraft = { ...req.vm, boot: finalBoot(req.vm.boot, req, notes) };
  const problems = [...missingFiles(draft), ...externalFiles(draft), ...validateVmSpec({ ...draft, accel: 'tcg' })];
  if (problems.length > 0) return err(problems.length === 1 ? problems[0]! : new OsvErrors(problems));
  // A guest paused for a debugger would be stopped by the timeout while someone steps through it.
  const timeout = req.timeout !== undefined && draft.gdb?.waitForDebugger ? undefined : req.timeout;
  if (timeout === undefined && req.timeout !== undefined) notes.push(`--gdb-wait: no timeout (it would stop the guest while the debugger holds it; ${req.timeout} s was set)`);
  const base: Base = { ...(expect ? { expect } : {}), ci: Boolean(req.ci), notes, secrets: req.secrets ?? [], ...(timeout !== undefined ? { timeoutMs: Math.round(timeout * 1000), ...(req.defaultTimeout ? { defaultTimeout: true } : {}) } : {}) };
  const env = req.env ?? process.env;
  const qemu = findQemu(draft.arch, { ...(req.qemu ? { configured: req.qemu, ...(req.qemuFrom ? { configuredFrom: req.qemuFrom } : {}) } : {}), env });
  const accelCtx = (binary: string): AccelContext => ({
    qemu: binary,
    arch: draft.arch,
    env,
    ...(req.kvmDevice ? { kvmDevice: req.kvmDevice } : {}),
    ...(req.accelCacheFile ? { cacheFile: req.accelCacheFile } : {}),
  });
  if (req.hypervisor === 'firecracker') return prepareFirecracker(draft, base, env, qemu.ok ? accelCtx(qemu.value) : undefined, accelCtx(''));
  if (!qemu.ok) return qemu;
  return prepareQemu(draft, base, req.accel, accelCtx(qemu.value));
}

async function prepareQemu(draft: VmDraft, base: Base, accel: Accel, ctx: AccelContext): Promise<Result<PreparedRun>> {
  const decision = await decideAccel(accel, ctx);
  if (!decision.ok) return decision;
  if (decision.value.note) base.notes.push(decision.value.note);
  const netProblem = checkNetwork(draft.network, gatherNetFacts(draft.network, ctx.qemu));
  if (netProblem) return err(netProblem);
  const spec: VmSpec = { ...draft, accel: decision.value.accel };
  const argv = [ctx.qemu, ...qemuArgs(spec)];
  return ok({ ...base, hypervisor: 'qemu', argv, ...shown(argv, base), spec, accel: decision.value });
}

/** `probeCtx` when QEMU is installed (to probe KVM with it), else only the cheap KVM checks. */
async function prepareFirecracker(draft: VmDraft, base: Base, env: NodeJS.ProcessEnv, probeCtx: AccelContext | undefined, plainCtx: AccelContext): Promise<Result<PreparedRun>> {
  const fc = findFirecracker({ env });
  if (!fc.ok) return fc;
  const spec: VmSpec = { ...draft, accel: 'kvm' };
  const tag = `${process.pid}-${randomBytes(4).toString('hex')}`;
  const copies = snapshotCopies(spec, tmpdir(), tag);
  const config = firecrackerConfig(spec, copies);
  if (!config.ok) return config;
  for (const c of copies) base.notes.push(`Firecracker has no disk overlays: it boots a copy of ${c.from} (${c.to}), removed after the run`);
  const netProblem = checkNetwork(draft.network, gatherNetFacts(draft.network));
  if (netProblem) return err(netProblem);
  // Firecracker is KVM only: make sure KVM can run OSv.
  const noKvm = probeCtx ? await kvmProblem(probeCtx) : kvmPrecheck(plainCtx);
  if (noKvm) return err(runError('fc-needs-kvm', `Firecracker needs KVM, and it cannot run OSv here: ${noKvm}`, 'use `hypervisor: qemu` (it falls back to software emulation)'));
  const configFile = join(tmpdir(), `osv-up-firecracker-${tag}.json`);
  const argv = [fc.value, ...firecrackerArgs(configFile)];
  return ok({ ...base, hypervisor: 'firecracker', argv, ...shown(argv, base), spec, firecracker: { config: config.value, configFile, copies } });
}

/** Why KVM cannot run OSv here, or undefined when it can. */
async function kvmProblem(ctx: AccelContext): Promise<string | undefined> {
  const { probe } = await checkKvm(ctx);
  return probe.usable ? undefined : probe.reason;
}

// ---- execution ----------------------------------------------------------------------------

export interface RunIo extends VerdictOptions {
  /** The terminal (default process.stdout / process.stderr). */
  stdout?: { write(chunk: Buffer | string): unknown; on?(ev: 'error', f: (e: NodeJS.ErrnoException) => void): unknown; removeListener?(ev: 'error', f: (e: NodeJS.ErrnoException) => void): unknown };
  stderr?: { write(chunk: Buffer | string): unknown };
  /** Pass the terminal's input to the guest console. */
  forwardStdin?: boolean;
  /** Stop the VM on SIGINT/SIGTERM/SIGHUP (the CLI sets this). */
  handleSignals?: boolean;
  /** After a failure line, how long the guest gets to power off by itself before it is stopped. */
  failureGraceMs?: number;
  /** Stop the VM (and pass) as soon as the expected line appears, e.g. for servers in CI. */
  stopOnExpect?: boolean;
  /** Show OSv's debug lines on the console too (`--kernel-log`); they are hidden by default. */
  kernelLog?: boolean;
  /** Write LF for the console's CR LF (default: when stdout is not a terminal). */
  plainNewlines?: boolean;
  onSpawn?(pid: number): void;
  onEvent?(e: ScanEvent): void;
}

export interface RunReport {
  verdict: Verdict;
  exit: ChildExit;
  scan: ScanResult;
  /** Milliseconds from spawn to the first console line after OSv's command-line echo (the program's first output). */
  firstProgramLineMs?: number;
  /** Milliseconds from spawn to the expected line. */
  expectMs?: number;
  /** OSv's debug lines (shown or not), the last MAX_KERNEL_LOG_LINES of them. */
  kernelLog: string[];
}

const MAX_KERNEL_LOG_LINES = 2000;
/** How long a line beginning that may be a kernel line is held back before it is shown anyway. */
const HOLD_MS = 100;
/**
 * How long a held beginning that already reads as a whole kernel line waits for its newline: a
 * loaded host under TCG can split OSv's write of one line by more than HOLD_MS (seen in the suite).
 */
const HOLD_KERNEL_LINE_MS = 2000;

/** Passes the hypervisor's stderr through line by line, minus its own "terminating on signal" note. */
class StderrRelay {
  private partial = '';
  text = '';
  constructor(private readonly out: { write(chunk: string): unknown }) {}
  push(chunk: Buffer, last = false): void {
    const s = this.partial + chunk.toString('utf8');
    if (this.text.length < 65536) this.text += chunk.toString('utf8');
    const lines = s.split('\n');
    this.partial = last ? '' : (lines.pop() ?? '');
    // An endless line is passed on in pieces rather than kept whole.
    if (this.partial.length > 65536) {
      lines.push(this.partial);
      this.partial = '';
    }
    for (const l of lines) if (l !== '' && !/terminating on signal/.test(l)) this.out.write(`${l}\n`);
  }
}

const SIGNALLED = /terminating on signal (1|2|15)\b/;

/**
 * A disk copy for Firecracker: a reflink where the file system offers one, and holes kept
 * otherwise. coreutils' cp does both (`--reflink=auto --sparse=always`: a 1 GiB volume, 49 MiB
 * of it written, copies in 0.1 s into 0.4 MiB here); Node's copyFile fills the holes (9 s, 1 GiB).
 */
function copyDisk(c: DiskCopy): void {
  const cp = which('cp');
  const r = cp ? spawnSync(cp, ['--reflink=auto', '--sparse=always', '--', c.from, c.to], { encoding: 'utf8' }) : undefined;
  if (r?.status === 0) return;
  try {
    copyFileSync(c.from, c.to, fsConstants.COPYFILE_FICLONE);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? String(e);
    throw runError('disk-copy-failed', `cannot copy ${c.from} to ${c.to} for Firecracker: ${code}`, code === 'ENOSPC' ? `free space in ${tmpdir()} (or set TMPDIR to a larger file system)` : r?.stderr.trim() || undefined);
  }
}

export async function executeRun(prep: PreparedRun, io: RunIo = {}): Promise<RunReport> {
  const stdout = io.stdout ?? process.stdout;
  const stderr = io.stderr ?? process.stderr;
  const scanner = new ConsoleScanner(prep.expect ? { expect: prep.expect } : {});
  const kernelLog: string[] = [];
  const view = new ConsoleView({
    hideKernelLog: !io.kernelLog,
    plainNewlines: io.plainNewlines ?? !(stdout as { isTTY?: boolean }).isTTY,
    onKernelLine: (line) => {
      if (kernelLog.push(line) > MAX_KERNEL_LOG_LINES) kernelLog.shift();
    },
  });
  let holdTimer: NodeJS.Timeout | undefined;
  const relay = new StderrRelay(stderr);
  let lastByte = 0x0a;
  let start = Date.now();
  let firstProgramLineMs: number | undefined;
  let expectMs: number | undefined;
  let failureTimer: NodeJS.Timeout | undefined;
  let outputClosed = false;
  let onOutputError = (_e: NodeJS.ErrnoException): void => undefined;

  try {
    if (prep.firecracker) {
      // 0600, created exclusively: the config holds the boot command line, and with it the environment.
      writeFileAtomic(prep.firecracker.configFile, JSON.stringify(prep.firecracker.config, null, 2) + '\n', { mode: 0o600 });
      // A reflink where the file system offers one (btrfs, xfs), else a full copy.
      for (const c of prep.firecracker.copies) copyDisk(c);
    }
    const child = supervise({
      argv: prep.argv,
      ...(prep.timeoutMs !== undefined ? { timeoutMs: prep.timeoutMs } : {}),
      handleSignals: Boolean(io.handleSignals),
      forwardStdin: Boolean(io.forwardStdin),
      onSpawn: (pid) => {
        start = Date.now();
        io.onSpawn?.(pid);
      },
      onStdout: (chunk) => {
        clearTimeout(holdTimer);
        show(view.write(chunk));
        if (view.holding) holdTimer = setTimeout(() => show(view.release()), view.holdingKernelLine ? HOLD_KERNEL_LINE_MS : HOLD_MS);
        handle(scanner.feed(chunk));
        if (firstProgramLineMs === undefined && scanner.programLines > 0) firstProgramLineMs = Date.now() - start;
      },
      onStderr: (chunk) => {
        relay.push(chunk);
        handle(scanner.feed(chunk, 'stderr'));
      },
    });
    function show(out: Buffer): void {
      if (out.length === 0) return;
      if (!outputClosed) stdout.write(out);
      lastByte = out[out.length - 1]!;
    }
    function handle(events: ScanEvent[]): void {
      for (const e of events) {
        io.onEvent?.(e);
        if (e.type === 'failure' && failureTimer === undefined) {
          // OSv halts after an abort unless --power-off-on-abort: give it a moment, then stop it.
          failureTimer = setTimeout(() => child.stop('failure'), io.failureGraceMs ?? 1500);
        }
        if (e.type === 'expect') {
          expectMs = Date.now() - start;
          if (io.stopOnExpect) child.stop('expect');
        }
      }
    }
    // `osv run | head`: when the reader goes away, stop the VM like Ctrl-C instead of dying on EPIPE.
    onOutputError = (e: NodeJS.ErrnoException): void => {
      outputClosed = true;
      if (e.code === 'EPIPE') child.stop('interrupt');
    };
    stdout.on?.('error', onOutputError);
    const exit = await child.done;
    clearTimeout(failureTimer);
    clearTimeout(holdTimer);
    handle(scanner.end());
    relay.push(Buffer.alloc(0), true);
    const tail = view.flush();
    stdout.removeListener?.('error', onOutputError);
    if (!outputClosed && tail.length > 0) stdout.write(tail);
    if (!outputClosed && lastByte !== 0x0a && tail.length === 0) stdout.write('\n'); // the verdict starts on its own line
    // Ctrl-C on the terminal reaches QEMU too (same process group); it exits 0 saying so.
    const finalExit: ChildExit = exit.stoppedBy === undefined && SIGNALLED.test(relay.text) ? { ...exit, stoppedBy: 'interrupt' } : exit;
    const scan = scanner.result;
    const v = verdict(
      scan,
      {
        hypervisor: prep.hypervisor,
        exitCode: finalExit.exitCode,
        signal: finalExit.signal,
        stderr: relay.text,
        ...(finalExit.stoppedBy ? { stoppedBy: finalExit.stoppedBy } : {}),
        ...(prep.timeoutMs !== undefined ? { timeoutMs: prep.timeoutMs } : {}),
        ...(prep.defaultTimeout ? { defaultTimeout: true } : {}),
        ...(finalExit.spawnError ? { spawnError: finalExit.spawnError } : {}),
      },
      io,
    );
    return { verdict: v, exit: finalExit, scan, kernelLog, ...(firstProgramLineMs !== undefined ? { firstProgramLineMs } : {}), ...(expectMs !== undefined ? { expectMs } : {}) };
  } finally {
    if (prep.firecracker) for (const f of [prep.firecracker.configFile, ...prep.firecracker.copies.map((c) => c.to)]) rmSync(f, { force: true });
  }
}

// ---- building a request from osv.yaml settings ---------------------------------------------

/** RunSettings (from osv.yaml, after CLI overrides) + how to boot -> a RunRequest. */
export function requestFromSettings(
  arch: VmSpec['arch'],
  boot: Boot,
  run: RunSettings,
  opts: { ci?: boolean; env?: NodeJS.ProcessEnv; debug?: DebugDevices; volumes?: { disks: Disk[]; kernelOptions: string[] }; secrets?: string[]; qemuFrom?: string } = {},
): RunRequest {
  return {
    hypervisor: run.hypervisor,
    vm: { arch, boot, memory: run.memory, cpus: run.cpus, network: run.network, ports: run.ports, volumes: opts.volumes?.disks ?? [], ...(run.machine ? { machine: run.machine } : {}), ...opts.debug },
    ...(opts.volumes?.kernelOptions.length ? { kernelOptions: opts.volumes.kernelOptions } : {}),
    accel: run.accel,
    ...(run.qemu ? { qemu: run.qemu, ...(opts.qemuFrom ? { qemuFrom: opts.qemuFrom } : {}) } : {}),
    // In CI a run that never ends must fail, so it always has a limit.
    ...(run.timeout !== undefined ? { timeout: run.timeout } : opts.ci ? { timeout: DEFAULTS.ciTimeoutSeconds, defaultTimeout: true } : {}),
    ...(run.expect !== undefined ? { expect: run.expect } : {}),
    ...(opts.ci ? { ci: true } : {}),
    ...(opts.env ? { env: opts.env } : {}),
    ...(opts.secrets?.length ? { secrets: opts.secrets } : {}),
  };
}
