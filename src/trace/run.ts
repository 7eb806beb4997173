// Runs the one program the user named, on the host, under the loader's own tracing and (when
// installed) strace, and collects the raw logs. Stops when the program exits, after the
// duration, or on Ctrl-C; stopping ends the whole process tree it started, nothing else.

import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { OsvError, ExitCode } from '../diagnostics/error.js';
import { isExecutableFile, which } from '../which.js';

/** The system calls that name a file the program uses (opens) or a program it starts. */
const TRACED_CALLS = 'open,openat,openat2,creat,execve,execveat';

export interface RunOptions {
  /** Absolute path of the program (see findProgram). */
  program: string;
  args: string[];
  cwd: string;
  /** Seconds; undefined = until the program exits. */
  duration?: number;
  /** strace binary; undefined = loader tracing only. */
  strace?: string;
  /** Where the program's stdout goes: ours, or our stderr (keeps --json output clean). */
  stdout: 'inherit' | 'stderr';
  /** Grace period between SIGTERM and SIGKILL when stopping, in ms. */
  graceMs?: number;
}

export interface RawTrace {
  /** Contents of each LD_DEBUG output file (one per process). */
  loaderLogs: string[];
  /** The strace log, when strace ran. */
  straceLog?: string;
  exit: { code: number | null; signal: string | null };
  stoppedBy: 'exit' | 'duration' | 'interrupt';
  /** Milliseconds the program ran. */
  elapsedMs: number;
  /** Where the logs were written (removed before returning; excluded from findings). */
  workDir: string;
}

/**
 * Find the program as a shell would, except that relative PATH entries are skipped (as for every
 * program osv-up runs): a name with a slash is a path, anything else is looked up on PATH.
 */
export function findProgram(name: string, cwd: string, path = process.env['PATH'] ?? ''): string {
  if (name.includes('/')) {
    const p = resolve(cwd, name);
    if (isExecutableFile(p)) return p;
    throw new OsvError({
      code: 'trace.not-found',
      message: `${name}: ${fs.existsSync(p) ? 'not an executable file' : 'no such file'}`,
      hint: 'name the program to trace after `--`, e.g. `osv trace -- ./server --port 8080`',
      exitCode: ExitCode.usage,
    });
  }
  const found = which(name, path);
  if (found) return found;
  throw new OsvError({
    code: 'trace.not-found',
    message: `${name}: not found on PATH`,
    hint: 'give the program a path (e.g. /usr/bin/python3, or ./NAME: relative PATH entries such as "." are not searched) or fix PATH',
    exitCode: ExitCode.usage,
  });
}

/** An executable strace (PATH's absolute entries, then /usr/bin and /bin), or undefined. */
export function findStrace(path = process.env['PATH'] ?? ''): string | undefined {
  return which('strace', [path, '/usr/bin', '/bin'].join(delimiter));
}

/** pid -> start time (in clock ticks since boot) of every process, and each one's parent. */
function processTable(): Map<number, { ppid: number; start: string }> {
  const table = new Map<number, { ppid: number; start: string }>();
  let names: string[] = [];
  try {
    names = fs.readdirSync('/proc');
  } catch {
    return table;
  }
  for (const n of names) {
    if (!/^\d+$/.test(n)) continue;
    const st = procStat(Number(n));
    if (st) table.set(Number(n), st);
  }
  return table;
}

/** Parent and start time from /proc/PID/stat; the command name is in parentheses and may hold spaces. */
function procStat(pid: number): { ppid: number; start: string } | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // After the name: state, ppid, ... starttime is field 22 of the whole line, 20th here.
    return { ppid: Number(fields[1]), start: fields[19] ?? '' };
  } catch {
    return undefined; // the process ended while we looked
  }
}

/** `root` and every descendant of it, each with its start time (which tells it from a later process reusing the pid). */
function processTree(root: number): Map<number, string> {
  const table = processTable();
  const children = new Map<number, number[]>();
  for (const [pid, { ppid }] of table) children.set(ppid, [...(children.get(ppid) ?? []), pid]);
  const out = new Map<number, string>();
  const walk = (p: number): void => {
    const st = table.get(p);
    if (!st || out.has(p)) return;
    out.set(p, st.start);
    for (const c of children.get(p) ?? []) walk(c);
  };
  walk(root);
  return out;
}

/** Signal the processes of a snapshot that are still the same processes (same start time). */
function signalTree(tree: Map<number, string>, signal: NodeJS.Signals): void {
  for (const [pid, start] of tree) {
    if (procStat(pid)?.start !== start) continue;
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}

export async function runTraced(opts: RunOptions): Promise<RawTrace> {
  const workDir = fs.mkdtempSync(join(tmpdir(), 'osv-trace-'));
  const loaderPrefix = join(workDir, 'ld');
  const straceLog = join(workDir, 'strace.log');
  const loaderEnv = { LD_DEBUG: 'libs,files', LD_DEBUG_OUTPUT: loaderPrefix };
  // Under strace the loader variables go to the traced program only (-E), not to strace itself.
  const [file, argv, env] = opts.strace
    ? [
        opts.strace,
        ['-f', '-qq', '-y', '--seccomp-bpf', '-e', 'signal=none', '-e', `trace=${TRACED_CALLS}`, '-o', straceLog,
          ...Object.entries(loaderEnv).flatMap(([k, v]) => ['-E', `${k}=${v}`]), '--', opts.program, ...opts.args],
        process.env,
      ]
    : [opts.program, opts.args, { ...process.env, ...loaderEnv }];

  const started = Date.now();
  // The same process group as ours, so an interactive program can still read the terminal and
  // Ctrl-C reaches it directly; we catch SIGINT ourselves to print the report afterwards.
  const child = spawn(file, argv, {
    cwd: opts.cwd,
    env,
    stdio: ['inherit', opts.stdout === 'stderr' ? 2 : 'inherit', 'inherit'],
  });
  let stoppedBy: RawTrace['stoppedBy'] = 'exit';
  const grace = opts.graceMs ?? 2000;
  const running = (): boolean => child.exitCode === null && child.signalCode === null && child.pid !== undefined;
  // Only the processes this run started: our child and its descendants. The tree is noted when
  // stopping begins, so that a process that outlives its parent (re-parented away from our
  // tree) or ignores SIGTERM still gets the SIGKILL.
  let noted = new Map<number, string>();
  const stop = (why: RawTrace['stoppedBy']): void => {
    if (!running()) return;
    stoppedBy = why;
    noted = processTree(child.pid!);
    // strace blocks fatal signals when it started the program with -o, so SIGTERM ends the
    // program and strace then finishes writing its log; SIGKILL after the grace period ends all.
    signalTree(noted, 'SIGTERM');
    killTimer = setTimeout(() => {
      if (running()) for (const [pid, start] of processTree(child.pid!)) noted.set(pid, start);
      signalTree(noted, 'SIGKILL');
    }, grace);
  };
  let killTimer: NodeJS.Timeout | undefined;
  const timer = opts.duration !== undefined ? setTimeout(() => stop('duration'), opts.duration * 1000) : undefined;
  // A closed terminal (SIGHUP) stops the run like Ctrl-C: nothing is left running or in /tmp.
  const onInt = (): void => stop('interrupt');
  const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
  for (const s of STOP_SIGNALS) process.on(s, onInt);
  try {
    const exit = await new Promise<RawTrace['exit']>((res, rej) => {
      child.once('error', rej);
      child.once('exit', (code, signal) => res({ code, signal }));
    });
    // Stopped, and the child went first: what it left behind still gets the SIGKILL, now.
    if (killTimer) {
      clearTimeout(killTimer);
      if ([...noted].some(([pid, start]) => procStat(pid)?.start === start)) {
        await new Promise((r) => setTimeout(r, Math.min(grace, 500)));
        signalTree(noted, 'SIGKILL');
      }
    }
    const elapsedMs = Date.now() - started;
    const loaderLogs = fs
      .readdirSync(workDir)
      .filter((n) => n.startsWith('ld.'))
      .sort()
      .map((n) => fs.readFileSync(join(workDir, n), 'utf8'));
    const log = opts.strace && fs.existsSync(straceLog) ? fs.readFileSync(straceLog, 'utf8') : undefined;
    return { loaderLogs, ...(log !== undefined ? { straceLog: log } : {}), exit, stoppedBy, elapsedMs, workDir };
  } catch (e) {
    throw new OsvError({
      code: 'trace.spawn',
      message: `could not start ${file}: ${(e as Error).message}`,
      exitCode: ExitCode.buildFailed,
      cause: e,
    });
  } finally {
    if (timer) clearTimeout(timer);
    for (const s of STOP_SIGNALS) process.off(s, onInt);
    fs.rmSync(workDir, { recursive: true, force: true });
  }
}
