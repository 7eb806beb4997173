// Watching OSv's console. OSv does not pass the program's exit status to the hypervisor, and
// a zero QEMU exit follows many failures (facts §6.1, §13): the console lines are the only
// evidence. The scanner is fed chunks as they arrive, strips escape sequences, and records
// OSv's failure lines and whether the expected pattern appeared. verdict() (verdict.ts) turns
// that plus the hypervisor's exit into pass/fail.

import { StringDecoder } from 'node:string_decoder';
import { isKernelLogLine } from './kernel-log.js';

export type FailureKind =
  | 'load-failed'
  | 'missing-symbol'
  | 'abort'
  | 'assertion'
  | 'bad-option'
  | 'page-fault'
  | 'empty-cmdline'
  | 'exit-status'
  | 'bad-console'
  | 'bad-cmdline'
  | 'not-bootable'
  | 'kvm-error';

export interface ConsoleFinding {
  kind: FailureKind;
  /** The console line as the user saw it, escape sequences stripped. */
  line: string;
  /** 1-based line number within its stream, as the user sees it (OSv's hidden debug lines not counted). */
  lineNo: number;
  /** What it means, in a few words. */
  summary: string;
  symbol?: string;
  object?: string;
  status?: number;
}

export type ConsoleStream = 'console' | 'stderr';

interface Rule {
  stream: ConsoleStream;
  re: RegExp;
  /** undefined: the line matched but is not a failure (e.g. "exited with status 0"). */
  make(m: RegExpExecArray): Omit<ConsoleFinding, 'line' | 'lineNo'> | undefined;
}

const exitStatus = (status: number, what: string): Omit<ConsoleFinding, 'line' | 'lineNo'> | undefined =>
  status === 0 ? undefined : { kind: 'exit-status', status, summary: `${what} with status ${status}` };

// What OSv prints on failure (facts §5.2-§6.1, §13 and the transcripts). Order matters only
// within one line; across lines the first failure decides.
const RULES: Rule[] = [
  {
    stream: 'console',
    re: /^Failed to load object: (.+?)(?:\. Powering off\.)?$/,
    make: (m) => ({ kind: 'load-failed', object: m[1]!, summary: `OSv could not load ${m[1]} (missing from the image, or not a loadable ELF)` }),
  },
  {
    stream: 'console',
    re: /^(?:(.+?): )?failed looking up symbol (.+)/i,
    make: (m) => ({
      kind: 'missing-symbol',
      symbol: m[2]!,
      ...(m[1] ? { object: m[1] } : {}),
      summary: `symbol ${m[2]} is not provided by the kernel or any library in the image${m[1] ? ` (needed by ${m[1]})` : ''}`,
    }),
  },
  { stream: 'console', re: /^unrecognized option:?\s*(.*)/, make: (m) => ({ kind: 'bad-option', summary: `OSv does not accept the option --${m[1]}` }) },
  { stream: 'console', re: /This image has an empty command line/, make: () => ({ kind: 'empty-cmdline', summary: 'the image has no command to run' }) },
  { stream: 'console', re: /^program exited with status (-?\d+)/, make: (m) => exitStatus(Number(m[1]), 'the program exited') },
  { stream: 'console', re: /^program (\S+) returned (-?\d+)/, make: (m) => exitStatus(Number(m[2]), `${m[1]} returned`) },
  { stream: 'console', re: /^page fault\b/i, make: () => ({ kind: 'page-fault', summary: 'the guest hit a page fault' }) },
  // glibc's form ("prog: file:line: fn: Assertion `x' failed."); [^`]* keeps the match linear
  // on a long line full of "Assertion `" (each attempt stops at the next backtick).
  { stream: 'console', re: /^Assertion failed\b|Assertion `[^`]*' failed\.?$/, make: () => ({ kind: 'assertion', summary: 'an assertion failed in the guest' }) },
  {
    stream: 'console',
    re: /^Failed to parse command line\.?$/,
    make: () => ({ kind: 'bad-cmdline', summary: 'OSv could not parse its command line (a character it cannot take, or unbalanced quotes)' }),
  },
  { stream: 'console', re: /^Unknown console/, make: () => ({ kind: 'bad-console', summary: 'OSv does not know the --console value' }) },
  { stream: 'console', re: /^Aborted\b|^\[backtrace\]$/, make: () => ({ kind: 'abort', summary: 'the guest aborted' }) },
  { stream: 'console', re: /^No bootable device|^Boot failed: /, make: () => ({ kind: 'not-bootable', summary: 'the disk is not bootable (no boot sector): boot the kernel directly' }) },
  { stream: 'stderr', re: /KVM internal error|emulation failure/, make: () => ({ kind: 'kvm-error', summary: 'KVM could not run the guest (nested or software KVM?): use --accel tcg' }) },
];

/** ESC sequences: CSI, OSC, and two-byte ones such as ESC c (reset), then other controls. */
const ANSI = /\x1b(?:\[[0-?]{0,64}[ -/]{0,8}[@-~]|\][^\x07\x1b]{0,512}(?:\x07|\x1b\\)|[ -/]{0,8}[0-~])/g;
const CONTROLS = /[\x00-\x08\x0b-\x1f\x7f]/g;

export function stripAnsi(s: string): string {
  return s.replace(ANSI, '').replace(CONTROLS, '');
}

export interface ScannerOptions {
  /** A pattern some console line must match (run.expect). */
  expect?: RegExp;
}

export interface ExpectMatch {
  line: string;
  lineNo: number;
}

export interface ExitStatusLine {
  status: number;
  line: string;
  lineNo: number;
}

export type ScanEvent = { type: 'failure'; finding: ConsoleFinding } | { type: 'expect'; match: ExpectMatch };

/** The state of a scan; a snapshot of it is what verdict() reads. */
export interface ScanResult {
  /** Every failure line, in order; the first one decides. */
  failures: ConsoleFinding[];
  expect?: RegExp;
  expectMatch?: ExpectMatch;
  /** "PATH: ignoring missing symbol NAME" lines (--verbose): not failures, but worth a note. */
  ignoredSymbols: Array<{ object: string; symbol: string }>;
  /** The last non-blank console line that is not OSv's debug log, for timeout and expectation messages. */
  lastLine?: string;
  consoleLines: number;
  /** Non-blank console lines after OSv's "Cmdline:" echo, OSv's debug lines left out: the program's output. */
  programLines: number;
  /** "could not load NAME" (--verbose): a DT_NEEDED library OSv did not find; the first symbol from it fails. */
  unloadedLibraries: string[];
  /** OSv's debug log was on (a line only --verbose prints appeared): OSv will report the exit status. */
  kernelLog: boolean;
  /** Each "program exited with status N" / "program PATH returned N", in order. */
  exitStatuses: ExitStatusLine[];
  /** The functions of the first `[backtrace]` OSv printed, innermost first (`mmu::procfs_maps[abi:cxx11]()`). */
  backtrace: string[];
}

/** OSv's report of the program's end (--verbose): exit() called, or main returned nonzero. */
const EXIT_STATUS = /^program exited with status (-?\d+)$|^program \S+ returned (-?\d+)$/;

/** A frame of OSv's backtrace: `0x00000000402b5806 <mmu::procfs_maps[abi:cxx11]()+726>`. */
const FRAME = /^0x[0-9a-f]+ <(.+?)(?:\+\d+)?>$/;
const MAX_FRAMES = 32;

/**
 * Only this much of a line is kept and scanned. OSv's own lines are short; a guest that prints
 * megabytes without a newline (a progress bar, a binary dump) must cost linear time and
 * bounded memory, so the rest of such a line is counted past, not stored.
 */
export const MAX_SCANNED_LINE = 4096;

class LineSplitter {
  private readonly decoder = new StringDecoder('utf8');
  /** The current line so far, at most MAX_SCANNED_LINE characters of it. */
  private partial = '';
  lineNo = 0;
  /** Complete lines in the chunk (without their terminators). */
  push(chunk: string | Buffer): string[] {
    // A string passes through the decoder as it is; a Buffer's cut UTF-8 sequence waits there.
    const text = this.decoder.write(chunk);
    const lines: string[] = [];
    let from = 0;
    for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', from)) {
      lines.push(this.take(text.slice(from, nl)));
      this.partial = '';
      from = nl + 1;
    }
    this.partial = this.take(text.slice(from));
    return lines;
  }
  flush(): string[] {
    const rest = this.take(this.decoder.end());
    this.partial = '';
    return rest === '' ? [] : [rest];
  }
  /** The current line with `more` appended, cut at the limit. */
  private take(more: string): string {
    return this.partial + more.slice(0, MAX_SCANNED_LINE - this.partial.length);
  }
}

export class ConsoleScanner {
  private readonly streams: Record<ConsoleStream, LineSplitter> = { console: new LineSplitter(), stderr: new LineSplitter() };
  private sawCmdlineEcho = false;
  /** Inside the first `[backtrace]` block. */
  private inBacktrace = false;
  private readonly state: ScanResult;

  constructor(opts: ScannerOptions = {}) {
    this.state = {
      failures: [],
      ignoredSymbols: [],
      consoleLines: 0,
      programLines: 0,
      kernelLog: false,
      exitStatuses: [],
      unloadedLibraries: [],
      backtrace: [],
      ...(opts.expect ? { expect: opts.expect } : {}),
    };
  }

  /** Feed output as it arrives; returns what the new complete lines revealed. */
  feed(chunk: string | Buffer, stream: ConsoleStream = 'console'): ScanEvent[] {
    return this.lines(this.streams[stream].push(chunk), stream);
  }

  /** End of output: scan an unterminated last line. */
  end(): ScanEvent[] {
    return [...this.lines(this.streams.console.flush(), 'console'), ...this.lines(this.streams.stderr.flush(), 'stderr')];
  }

  /** Cheap: how many lines the program has printed so far (see ScanResult.programLines). */
  get programLines(): number {
    return this.state.programLines;
  }

  get result(): ScanResult {
    const s = this.state;
    return { ...s, failures: [...s.failures], ignoredSymbols: [...s.ignoredSymbols], exitStatuses: [...s.exitStatuses], unloadedLibraries: [...s.unloadedLibraries], backtrace: [...s.backtrace] };
  }

  private lines(raw: string[], stream: ConsoleStream): ScanEvent[] {
    const events: ScanEvent[] = [];
    const splitter = this.streams[stream];
    for (const r of raw) {
      splitter.lineNo++;
      const line = stripAnsi(r).trimEnd();
      if (line === '') continue;
      if (stream === 'console') {
        const kernel = isKernelLogLine(line);
        if (kernel) {
          this.state.kernelLog = true;
          // Line numbers count the lines the user sees, and OSv's debug lines are hidden.
          splitter.lineNo--;
        } else this.state.lastLine = line;
        this.state.consoleLines = splitter.lineNo;
        // OSv echoes its command line once at boot; a pattern must not match the echo of the
        // program's own arguments, nor an "Aborted" that is only an argument.
        if (!this.sawCmdlineEcho && line.startsWith('Cmdline: ')) {
          this.sawCmdlineEcho = true;
          continue;
        }
        if (this.sawCmdlineEcho && !kernel) this.state.programLines++;
        const status = EXIT_STATUS.exec(line);
        if (status) this.state.exitStatuses.push({ status: Number(status[1] ?? status[2]), line, lineNo: splitter.lineNo });
        if (line === '[backtrace]') this.inBacktrace = this.state.backtrace.length === 0;
        else if (this.inBacktrace) {
          const frame = FRAME.exec(line);
          if (frame && this.state.backtrace.length < MAX_FRAMES) this.state.backtrace.push(frame[1]!);
          else if (!frame) this.inBacktrace = false;
        }
        const unloaded = /^could not load (\S+)$/.exec(line);
        if (unloaded) this.state.unloadedLibraries.push(unloaded[1]!);
        const ignored = /^(.+?): ignoring missing symbol (.+)/.exec(line);
        if (ignored) this.state.ignoredSymbols.push({ object: ignored[1]!, symbol: ignored[2]! });
        // The expected line is the program's: firmware and OSv's own lines (its banner, its
        // debug log) before or around it never pass a run (`--expect OSv` would have matched
        // the banner, and --stop-on-expect stopped the VM before the program started).
        const ex = this.state.expect;
        if (ex && this.sawCmdlineEcho && !kernel && !this.state.expectMatch && ex.test(line)) {
          this.state.expectMatch = { line, lineNo: splitter.lineNo };
          events.push({ type: 'expect', match: this.state.expectMatch });
        }
      }
      for (const rule of RULES) {
        if (rule.stream !== stream) continue;
        const m = rule.re.exec(line);
        if (!m) continue;
        const made = rule.make(m);
        if (made) {
          const finding: ConsoleFinding = { ...made, line, lineNo: splitter.lineNo };
          this.state.failures.push(finding);
          events.push({ type: 'failure', finding });
        }
        break;
      }
    }
    return events;
  }
}

/** Scan a whole recorded output at once. */
export function scanConsole(text: string | Buffer, opts: ScannerOptions = {}, stderr?: string): ScanResult {
  const s = new ConsoleScanner(opts);
  s.feed(text);
  if (stderr !== undefined) s.feed(stderr, 'stderr');
  s.end();
  return s.result;
}
