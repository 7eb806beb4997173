// How task progress reaches the user: listr2's live renderer on a terminal, plain lines when
// not a TTY or under CI, JSON lines (one event per line, on stdout) for machines.

import { formatBytes } from '../units.js';
import { maskText } from '../secrets.js';
import type { BuildOutcome } from './build.js';
import { writeStdout } from '../output.js';
import { downloadProgress, type ProgressView } from '../kernel/progress.js';

export type ReportMode = 'tty' | 'plain' | 'json' | 'quiet';

export interface BuildEvent {
  event: 'task' | 'progress' | 'download' | 'result' | 'note' | 'pull';
  [k: string]: unknown;
}

export interface Reporter {
  mode: ReportMode;
  listrOptions: Record<string, unknown>;
  progress?(done: number, total: number): void;
  /** How a kernel download shows (none when quiet). */
  download?(): ProgressView;
  emit(e: BuildEvent): void;
}

/** The mode a command should use: --json wins, then CI or a non-terminal gets plain lines. */
export function reportMode(opts: { json?: boolean; quiet?: boolean }, env: NodeJS.ProcessEnv = process.env): ReportMode {
  if (opts.json) return 'json';
  if (opts.quiet) return 'quiet';
  if (env['CI'] || !process.stderr.isTTY) return 'plain';
  return 'tty';
}

export function progressReporter(mode: ReportMode, out: { write(s: string): unknown } = process.stdout): Reporter {
  const emit = (e: BuildEvent): void => {
    if (mode === 'json') out.write(JSON.stringify({ ...e, time: Date.now() }) + '\n');
  };
  let lastPct = -1;
  switch (mode) {
    case 'tty':
      // Progress goes to stderr so that a command's own output (stdout) stays clean.
      return { mode, emit, download: () => downloadProgress(process.stderr, true), listrOptions: { renderer: 'default', rendererOptions: { outputBar: 1, persistentOutput: false }, stdout: process.stderr } };
    case 'plain':
      return { mode, emit, download: () => downloadProgress(process.stderr, false), listrOptions: { renderer: 'simple', rendererOptions: { timestamp: false } } };
    case 'json':
      return {
        mode,
        emit,
        listrOptions: { renderer: 'silent' },
        download: () => ({ onProgress: jsonDownload(emit), done: () => undefined }),
        progress(done, total) {
          const pct = total > 0 ? Math.floor((done / total) * 100) : 100;
          if (pct >= lastPct + 10 || done === total) {
            lastPct = pct;
            emit({ event: 'progress', bytes: done, total });
          }
        },
      };
    case 'quiet':
      return { mode, emit, listrOptions: { renderer: 'silent' } };
  }
}

/** Download events, one per asset per tenth. */
function jsonDownload(emit: (e: BuildEvent) => void): ProgressView['onProgress'] {
  const last = new Map<string, number>();
  return (bytes, total, asset) => {
    const tenth = total ? Math.floor((bytes / total) * 10) : 0;
    if (last.get(asset) === tenth) return;
    last.set(asset, tenth);
    emit({ event: 'download', asset, bytes, ...(total ? { total } : {}) });
  };
}

/**
 * The plan's warnings (a runtime without its template's essentials, a link that copies a whole
 * directory), before the image boots: stderr lines for people, events for --json.
 */
export function printPlanWarnings(outcome: BuildOutcome, mode: ReportMode, write: (s: string) => unknown = (s) => process.stderr.write(s)): void {
  const warnings = outcome.plan?.warnings ?? [];
  if (mode === 'quiet') return;
  for (const w of warnings) {
    const text = maskText(w, outcome.secrets);
    if (mode === 'json') process.stdout.write(JSON.stringify({ event: 'warning', message: text, time: Date.now() }) + '\n');
    else write(`warning: ${text}\n`);
  }
}

/** `osv build`'s last word: the outcome as JSON, or one line for people (none when quiet). */
export function printBuildOutcome(
  outcome: BuildOutcome,
  opts: { json?: boolean },
  mode: ReportMode,
  write: (s: string) => unknown = writeStdout,
): void {
  const cmdline = maskText(outcome.cmdline, outcome.secrets);
  if (opts.json) {
    const { plan: _plan, check, secrets: _secrets, ...rest } = outcome;
    write(JSON.stringify({ ok: true, ...rest, cmdline, ...(check ? { check: { summary: check.summary, totals: check.totals } } : {}) }, null, 2) + '\n');
    return;
  }
  if (mode === 'quiet') return;
  const what = outcome.upToDate ? 'up to date' : 'built';
  write(
    `${outcome.image}: ${what} (${outcome.output}, ${outcome.format}; ${outcome.totals.files} files, ${formatBytes(outcome.totals.bytes)}) in ${outcome.ms} ms\n` +
      `command line: ${cmdline}\n` +
      // Said on every build, up to date or not: how the kernel was (not) checked.
      (outcome.kernel.note ? `kernel: ${outcome.kernel.note}\n` : ''),
  );
}
