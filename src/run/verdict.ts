// Pass or fail, with one line saying why. A run passes only when the guest powered off by
// itself (the hypervisor exited 0), no failure line appeared on the console and every
// expectation held; the reason quotes the console line that decided it.

import { ExitCode } from '../diagnostics/error.js';
import type { ConsoleFinding, ScanResult } from './scanner.js';

export interface HypervisorExit {
  hypervisor: 'qemu' | 'firecracker';
  exitCode: number | null;
  signal: string | null;
  /** Set when we stopped the VM ourselves. */
  stoppedBy?: 'timeout' | 'interrupt' | 'failure' | 'expect';
  timeoutMs?: number;
  /** The timeout was CI's default (osv test, --ci), not one the user set. */
  defaultTimeout?: boolean;
  /** The hypervisor's own stderr (its error messages). */
  stderr: string;
  /** The hypervisor could not be started at all. */
  spawnError?: string;
}

export type VerdictCode = 'interrupted' | 'guest-failure' | 'exit-status' | 'status-unknown' | 'timeout' | 'expect-missing' | 'hypervisor-failed';

/**
 * What the program itself returned. Known only from OSv's own report (its --verbose lines);
 * never assumed: a run whose end OSv did not report has an unknown status, not 0.
 */
export type ProgramStatus =
  | { known: true; status: number; /** The console line that told, or how a 0 was inferred. */ evidence: string }
  | { known: false; /** Why OSv did not tell. */ why: string };

export type Verdict =
  | { ok: true; exitCode: typeof ExitCode.ok; reason: string; status: ProgramStatus }
  | {
      ok: false;
      exitCode: typeof ExitCode.guestFailed | typeof ExitCode.interrupted;
      code: VerdictCode;
      /** One line: what happened, quoting the deciding console line. */
      reason: string;
      hint?: string;
      finding?: ConsoleFinding;
      status: ProgramStatus;
    };

export interface VerdictOptions {
  /** Maps a symbol OSv could not find to the image file that needed it (from `osv check`). */
  explainSymbol?: (symbol: string) => string | undefined;
}

const quote = (line: string): string => JSON.stringify(line.length > 200 ? `${line.slice(0, 197)}...` : line);
const seconds = (ms: number): string => `${Math.round(ms / 100) / 10} s`;
const lastLine = (scan: ScanResult): string => (scan.lastLine ? `; last console line: ${quote(scan.lastLine)}` : '; the console stayed silent');

/** Failures whose backtrace names a known OSv problem, and what avoids it. */
const KNOWN_BACKTRACES: Array<{ frame: RegExp; hint: string }> = [
  {
    // Seen with OSv v0.57.0-398: the first reader of /proc/self/maps after a System V shared
    // memory segment was mapped (node's OpenSSL maps one) trips an assertion.
    frame: /^mmu::procfs_maps\b/,
    hint: 'OSv failed while writing /proc/self/maps (a kernel bug once the program maps shared memory); leave procfs out with `image: {mounts: {/proc: false}}` (template:node does: see docs/templates.md)',
  },
];

const hintFor = (f: ConsoleFinding, scan: ScanResult, opts: VerdictOptions): string | undefined => {
  const known = KNOWN_BACKTRACES.find((k) => scan.backtrace.some((fn) => k.frame.test(fn)));
  if (known && (f.kind === 'assertion' || f.kind === 'abort' || f.kind === 'page-fault')) return known.hint;
  switch (f.kind) {
    case 'missing-symbol': {
      if (scan.unloadedLibraries.length > 0)
        return `OSv could not load ${scan.unloadedLibraries.join(', ')}, which the program needs: ship ${scan.unloadedLibraries.length === 1 ? 'it' : 'them'} (\`osv plan\` shows what is in the image; a file copied with \`resolve: false\` gets no libraries)`;
      const who = f.symbol ? opts.explainSymbol?.(f.symbol) : undefined;
      return who
        ? `${f.symbol} is needed by ${who}; ship the library that defines it, or avoid the call (OSv lacks some Linux functions)`
        : 'ship the library that defines it (`osv check` lists unresolved symbols), or avoid the call';
    }
    case 'load-failed':
      return 'check the command line path and `osv plan` (is the file, and every library it needs, in the image?)';
    case 'bad-option':
      return 'fix the kernel options before the program in the command line';
    case 'empty-cmdline':
      return 'set `cmd` in osv.yaml, or pass -e';
    case 'bad-cmdline':
      return 'OSv takes printable ASCII only: `osv plan` refuses other characters in cmd, env and cwd; check -e';
  }
  // exit-status, and the failures whose line says enough.
  return undefined;
};

/** The hypervisor's first error line (not a warning), without its program-name prefix. */
export function hypervisorError(stderr: string): string | undefined {
  const lines = stderr.split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '' && !/terminating on signal/.test(l));
  const line = lines.find((l) => !/\bwarning:/i.test(l)) ?? lines[0];
  return line?.replace(/^(?:qemu-system-[\w-]+|qemu|firecracker): /i, '');
}

function hypervisorFailure(exit: HypervisorExit): { reason: string; hint?: string } {
  const name = exit.hypervisor === 'qemu' ? 'QEMU' : 'Firecracker';
  if (exit.spawnError) return { reason: `${name} could not be started: ${exit.spawnError}` };
  const line = hypervisorError(exit.stderr);
  const fwd = line && /Could not set up host forwarding rule '(\w+):([^:]*):(\d+)-/.exec(line);
  if (fwd) {
    return { reason: `host port ${fwd[3]}/${fwd[1]} on ${fwd[2] || 'all addresses'} is already in use (${name}: ${quote(line)})`, hint: 'free the port or forward a different host port (-p HOST:GUEST)' };
  }
  const how = exit.signal ? `was killed by ${exit.signal}` : `exited with status ${exit.exitCode}`;
  return { reason: `${name} ${how}${line ? `: ${quote(line)}` : ''}` };
}

/** Why QEMU's end says nothing about the program. */
function unknownWhy(scan: ScanResult, exit: HypervisorExit): string {
  if (exit.stoppedBy === 'timeout') return 'the run was stopped by the timeout before the program ended';
  if (exit.stoppedBy === 'interrupt') return 'the run was interrupted';
  if (exit.stoppedBy === 'expect') return 'the VM was stopped once the expected line appeared';
  if (exit.spawnError || exit.exitCode !== 0) return `${exit.hypervisor === 'qemu' ? 'QEMU' : 'Firecracker'} did not end normally`;
  if (scan.failures.length > 0) return 'the guest failed before the program ended';
  return "OSv printed no exit status: the kernel's command line lacks --verbose (an image built by an older osv-up, or -e without it)";
}

/** The program's status: OSv's status line, else 0 when a --verbose guest powered off cleanly without one. */
export function programStatus(scan: ScanResult, exit: HypervisorExit): ProgramStatus {
  const reported = scan.exitStatuses.find((s) => s.status !== 0) ?? scan.exitStatuses[0];
  if (reported) return { known: true, status: reported.status, evidence: reported.line };
  // OSv prints nothing when main returns 0 (only a nonzero return or exit() is reported): a
  // guest whose debug log was on, that powered off by itself with no failure, returned 0.
  const clean = exit.stoppedBy === undefined && !exit.spawnError && exit.exitCode === 0 && scan.failures.length === 0;
  if (clean && scan.kernelLog) return { known: true, status: 0, evidence: 'the guest powered off after the program returned, and OSv (--verbose) reported no other status' };
  return { known: false, why: unknownWhy(scan, exit) };
}

export function verdict(scan: ScanResult, exit: HypervisorExit, opts: VerdictOptions = {}): Verdict {
  const status = programStatus(scan, exit);
  const fail = (code: VerdictCode, reason: string, extra: { hint?: string; finding?: ConsoleFinding } = {}): Verdict => ({
    ok: false,
    exitCode: code === 'interrupted' ? ExitCode.interrupted : ExitCode.guestFailed,
    code,
    reason,
    ...(extra.hint ? { hint: extra.hint } : {}),
    ...(extra.finding ? { finding: extra.finding } : {}),
    status,
  });
  if (exit.stoppedBy === 'interrupt') return fail('interrupted', 'interrupted: the VM was stopped');
  const first = scan.failures[0];
  if (first) {
    const hint = hintFor(first, scan, opts);
    return fail(first.kind === 'exit-status' ? 'exit-status' : 'guest-failure', `${first.summary}: console line ${first.lineNo}: ${quote(first.line)}`, {
      finding: first,
      ...(hint ? { hint } : {}),
    });
  }
  if (exit.stoppedBy === 'timeout') {
    const what = scan.expect && !scan.expectMatch ? ` before /${scan.expect.source}/ appeared` : '';
    const limit = `${seconds(exit.timeoutMs ?? 0)}${exit.defaultTimeout ? " (osv test's default timeout)" : ''}`;
    return fail('timeout', `timed out after ${limit}${what}${lastLine(scan)}`, {
      hint: 'a halted or still-running guest: raise the timeout (--timeout, run.timeout), or look for a hang; a server that never powers off wants --stop-on-expect',
    });
  }
  if (exit.stoppedBy !== 'expect' && (exit.spawnError || exit.exitCode !== 0)) {
    const { reason, hint } = hypervisorFailure(exit);
    return fail('hypervisor-failed', reason, hint ? { hint } : {});
  }
  if (scan.expect && !scan.expectMatch) {
    return fail('expect-missing', `the guest powered off, but no console line matched /${scan.expect.source}/${lastLine(scan)}`);
  }
  const matched = scan.expectMatch ? `; /${scan.expect?.source}/ matched ${quote(scan.expectMatch.line)}` : '';
  if (exit.stoppedBy === 'expect') return { ok: true, exitCode: ExitCode.ok, reason: `the expected line appeared and the VM was stopped${matched}`, status };
  if (!status.known) {
    return fail('status-unknown', `the guest powered off, but the program's exit status is unknown: ${status.why}`, {
      hint: 'rebuild the image with this osv-up (it adds --verbose), or add --verbose to the -e command line',
    });
  }
  return { ok: true, exitCode: ExitCode.ok, reason: `the program exited with status 0${matched}`, status };
}

/**
 * The exit code of `osv up` and `osv run` (without --ci), like `docker run`: the program's own
 * status when OSv reported it, else one of the codes osv-up keeps for itself (README).
 */
export function programExitCode(v: Verdict): number {
  if (!v.ok && v.code === 'interrupted') return ExitCode.interrupted;
  if (v.status.known) return v.status.status & 0xff;
  if (v.ok) return ExitCode.ok; // stopped by us once the expected line appeared
  if (v.code === 'hypervisor-failed') return ExitCode.osvFailed;
  if (v.finding?.kind === 'load-failed') return ExitCode.programNotLoaded;
  return ExitCode.noStatus;
}
