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
  /** The hypervisor's own stderr (its error messages). */
  stderr: string;
  /** The hypervisor could not be started at all. */
  spawnError?: string;
}

export type VerdictCode = 'interrupted' | 'guest-failure' | 'timeout' | 'expect-missing' | 'hypervisor-failed';

export type Verdict =
  | { ok: true; exitCode: typeof ExitCode.ok; reason: string }
  | {
      ok: false;
      exitCode: typeof ExitCode.guestFailed | typeof ExitCode.interrupted;
      code: VerdictCode;
      /** One line: what happened, quoting the deciding console line. */
      reason: string;
      hint?: string;
      finding?: ConsoleFinding;
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
    case 'exit-status':
      return undefined;
    default:
      return undefined;
  }
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

export function verdict(scan: ScanResult, exit: HypervisorExit, opts: VerdictOptions = {}): Verdict {
  const fail = (code: VerdictCode, reason: string, extra: { hint?: string; finding?: ConsoleFinding } = {}): Verdict => ({
    ok: false,
    exitCode: code === 'interrupted' ? ExitCode.interrupted : ExitCode.guestFailed,
    code,
    reason,
    ...(extra.hint ? { hint: extra.hint } : {}),
    ...(extra.finding ? { finding: extra.finding } : {}),
  });
  if (exit.stoppedBy === 'interrupt') return fail('interrupted', 'interrupted: the VM was stopped');
  const first = scan.failures[0];
  if (first) {
    const hint = hintFor(first, scan, opts);
    return fail('guest-failure', `${first.summary}: console line ${first.lineNo}: ${quote(first.line)}`, { finding: first, ...(hint ? { hint } : {}) });
  }
  if (exit.stoppedBy === 'timeout') {
    const what = scan.expect && !scan.expectMatch ? ` before /${scan.expect.source}/ appeared` : '';
    return fail('timeout', `timed out after ${seconds(exit.timeoutMs ?? 0)}${what}${lastLine(scan)}`, {
      hint: 'a halted or still-running guest: raise the timeout, or look for a hang; OSv halts after an abort unless --power-off-on-abort',
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
  const how = exit.stoppedBy === 'expect' ? 'the expected line appeared and the VM was stopped' : 'the guest powered off normally';
  return { ok: true, exitCode: ExitCode.ok, reason: `${how}${matched}` };
}
