// Runs the one program the user named, on the host, under the loader's own tracing and (when
// installed) strace, and collects the raw logs. Stops when the program exits, after the
// duration, or on Ctrl-C; stopping ends the whole process tree it started, nothing else.

import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { OsvError, ExitCode } from '../diagnostics/error.js';

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

const isExecutableFile = (p: string): boolean => {
  try {
    const s = fs.statSync(p);
    if (!s.isFile()) return false;
    fs.accessSync(p, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
};

/** Find the program as a shell would: a name with a slash is a path, anything else is looked up on PATH. */
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
  for (const dir of path.split(delimiter)) {
    if (!dir) continue;
    const p = join(dir, name);
    if (isExecutableFile(p)) return p;
  }
  throw new OsvError({
    code: 'trace.not-found',
    message: `${name}: not found on PATH`,
    hint: 'give the program a path (e.g. /usr/bin/python3) or fix PATH',
    exitCode: ExitCode.usage,
  });
}

/** An executable strace, or undefined. */
export function findStrace(path = process.env['PATH'] ?? ''): string | undefined {
  for (const dir of [...path.split(delimiter), '/usr/bin', '/bin']) {
    if (dir && isExecutableFile(join(dir, 'strace'))) return join(dir, 'strace');
  }
  return undefined;
}

/** Every descendant of `root` (children first found through /proc/<pid>/stat's parent field). */
function descendants(root: number): number[] {
  const parent = new Map<number, number[]>();
  let names: string[] = [];
  try {
    names = fs.readdirSync('/proc');
  } catch {
    return [];
  }
  for (const n of names) {
    if (!/^\d+$/.test(n)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${n}/stat`, 'latin1');
      // The command name is in parentheses and may contain spaces: the ppid follows the last ')'.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const list = parent.get(ppid) ?? [];
      list.push(Number(n));
      parent.set(ppid, list);
    } catch {
      // the process ended while we looked
    }
  }
  const out: number[] = [];
  const walk = (p: number): void => {
    for (const c of parent.get(p) ?? []) {
      out.push(c);
      walk(c);
    }
  };
  walk(root);
  return out;
}

function signalAll(pids: number[], signal: NodeJS.Signals): void {
  for (const pid of pids) {
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
  // Only the processes this run started: our child and its descendants, looked up while it lives.
  const tree = (): number[] => (running() ? [...descendants(child.pid!), child.pid!] : []);
  const stop = (why: RawTrace['stoppedBy']): void => {
    if (!running()) return;
    stoppedBy = why;
    // strace blocks fatal signals when it started the program with -o, so SIGTERM ends the
    // program and strace then finishes writing its log; SIGKILL after the grace period ends all.
    signalAll(tree(), 'SIGTERM');
    setTimeout(() => signalAll(tree(), 'SIGKILL'), grace).unref();
  };
  const timer = opts.duration !== undefined ? setTimeout(() => stop('duration'), opts.duration * 1000) : undefined;
  const onInt = (): void => stop('interrupt');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onInt);
  try {
    const exit = await new Promise<RawTrace['exit']>((res, rej) => {
      child.once('error', rej);
      child.once('exit', (code, signal) => res({ code, signal }));
    });
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
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onInt);
    fs.rmSync(workDir, { recursive: true, force: true });
  }
}
