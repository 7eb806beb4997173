// What the user sees of the guest console: the bytes as they come, minus SeaBIOS's terminal
// resets (TerminalFilter), minus OSv's debug lines (kernel-log.ts) unless asked for, and with
// QEMU's CR LF line endings turned into LF when the output is a pipe or a file (so that
// `osv up | grep '^42$'` works).
//
// Lines are judged whole. A line is passed on as soon as its beginning shows it cannot be a
// kernel line; a beginning that could be one is held until its line ends or until the runner
// calls release() (a prompt without a newline must not wait forever). Bytes are handled as
// latin1, so nothing but the dropped lines and CRs changes.

import { stripAnsi } from './scanner.js';
import { isKernelLogLine, mayBeKernelLogLine } from './kernel-log.js';
import { TerminalFilter } from './terminal.js';

export interface ConsoleViewOptions {
  /** Hide OSv's debug lines (default true; `--kernel-log` turns it off). */
  hideKernelLog?: boolean;
  /** Write LF for CR LF (the output is not a terminal). */
  plainNewlines?: boolean;
  /** Every kernel line, as it is recognised (shown or not), for --json reports. */
  onKernelLine?(line: string): void;
}

/** A held beginning never grows past this (kernel lines are short; see mayBeKernelLogLine). */
const MAX_HELD = 512;

const clean = (raw: string): string => stripAnsi(raw.replace(/\r$/, '')).trimEnd();

export class ConsoleView {
  private readonly terminal = new TerminalFilter();
  private readonly hide: boolean;
  private readonly plain: boolean;
  private readonly onKernelLine: ((line: string) => void) | undefined;
  /** The start of the current line, held back while it may be a kernel line. */
  private held = '';
  /** Part of the current line has been passed on already. */
  private midLine = false;
  /** A CR written last, whose LF may be in the next chunk. */
  private pendingCr = false;

  constructor(opts: ConsoleViewOptions = {}) {
    this.hide = opts.hideKernelLog ?? true;
    this.plain = opts.plainNewlines ?? false;
    this.onKernelLine = opts.onKernelLine;
  }

  /** Whether a line beginning is being held (the runner then schedules release()). */
  get holding(): boolean {
    return this.held !== '';
  }

  /** The held beginning is already a whole kernel line that only lacks its newline: worth a longer wait. */
  get holdingKernelLine(): boolean {
    return this.held !== '' && isKernelLogLine(clean(this.held));
  }

  write(chunk: Buffer): Buffer {
    return this.out(this.lines(this.terminal.write(chunk).toString('latin1')));
  }

  /** Pass on a held line beginning: its line has taken too long to end. */
  release(): Buffer {
    const s = this.held;
    this.held = '';
    if (s !== '') this.midLine = true;
    return this.out(s);
  }

  /** End of output. */
  flush(): Buffer {
    const rest = this.lines(this.terminal.flush().toString('latin1'));
    const held = this.held;
    this.held = '';
    // A last line without its newline: judged as it stands.
    const last = held !== '' && this.isHidden(clean(held)) ? '' : held;
    return this.out(rest + last, true);
  }

  private isHidden(line: string): boolean {
    if (!isKernelLogLine(line)) return false;
    this.onKernelLine?.(line);
    return this.hide;
  }

  /** The part of `text` to show, holding back a line beginning that may be a kernel line. */
  private lines(text: string): string {
    let shown = '';
    let from = 0;
    let s = this.held + text;
    this.held = '';
    for (;;) {
      const nl = s.indexOf('\n', from);
      if (nl < 0) break;
      const line = s.slice(from, nl + 1);
      if (this.midLine) shown += line;
      else if (!this.isHidden(clean(line.slice(0, -1)))) shown += line;
      this.midLine = false;
      from = nl + 1;
    }
    s = s.slice(from);
    if (s === '') return shown;
    if (!this.midLine && s.length <= MAX_HELD && mayBeKernelLogLine(clean(s))) this.held = s;
    else {
      shown += s;
      this.midLine = true;
    }
    return shown;
  }

  private out(s: string, last = false): Buffer {
    if (!this.plain) return Buffer.from(s, 'latin1');
    let t = (this.pendingCr ? '\r' : '') + s;
    this.pendingCr = !last && t.endsWith('\r');
    if (this.pendingCr) t = t.slice(0, -1);
    return Buffer.from(t.replace(/\r\n/g, '\n'), 'latin1');
  }
}
