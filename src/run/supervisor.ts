// Running the hypervisor as a child that never outlives us. It stays in our process group (a
// signal to the job reaches it too), is started through `setpriv --pdeathsig KILL` when
// setpriv exists (so even a SIGKILLed CLI takes the VM with it), is killed on process exit,
// and is always reaped. SIGINT/SIGTERM/SIGHUP stop it (SIGTERM, then SIGKILL after a grace
// period; a second Ctrl-C kills at once) and the run ends as `interrupt` (exit 130).

import { spawn, type ChildProcess } from 'node:child_process';
import { which } from './binaries.js';

export type StopReason = 'timeout' | 'interrupt' | 'failure' | 'expect';

export interface ChildExit {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** Why we stopped it; undefined when it ended by itself. */
  stoppedBy?: StopReason;
  /** It could not be started (ENOENT, EACCES). */
  spawnError?: string;
  pid?: number;
  /** From spawn to reaped. */
  durationMs: number;
}

export interface SuperviseOptions {
  /** [file, ...args]. */
  argv: readonly string[];
  onStdout(chunk: Buffer): void;
  onStderr(chunk: Buffer): void;
  onSpawn?(pid: number): void;
  /** Pass our stdin to the guest console (interactive use); otherwise the child reads an idle pipe. */
  forwardStdin?: boolean;
  timeoutMs?: number;
  /** Install SIGINT/SIGTERM/SIGHUP handlers while the child runs (the CLI wants this). */
  handleSignals?: boolean;
  /** How long the child gets to exit after SIGTERM before SIGKILL. */
  killGraceMs?: number;
  /** Start it under `setpriv --pdeathsig KILL` when available (default true). */
  dieWithParent?: boolean;
  env?: NodeJS.ProcessEnv;
}

export interface Supervised {
  readonly pid: number | undefined;
  /** Stop the VM; the first reason given is the one reported. */
  stop(reason: StopReason): void;
  readonly done: Promise<ChildExit>;
}

let setprivPath: string | null | undefined;
function setpriv(): string | undefined {
  if (setprivPath === undefined) setprivPath = process.platform === 'linux' ? (which('setpriv') ?? null) : null;
  return setprivPath ?? undefined;
}

/** The argv actually spawned: the command, wrapped so that it dies with us. */
export function wrappedArgv(argv: readonly string[], dieWithParent = true): string[] {
  const sp = dieWithParent ? setpriv() : undefined;
  return sp ? [sp, '--pdeathsig', 'KILL', '--', ...argv] : [...argv];
}

export function supervise(opts: SuperviseOptions): Supervised {
  const [file, ...args] = wrappedArgv(opts.argv, opts.dieWithParent ?? true);
  const started = Date.now();
  const grace = opts.killGraceMs ?? 2000;
  let stoppedBy: StopReason | undefined;
  let exited = false;
  let killTimer: NodeJS.Timeout | undefined;

  const child: ChildProcess = spawn(file!, args, {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: opts.env ?? process.env,
    // Same process group as ours (detached: false): a signal to the whole job reaches the VM.
    detached: false,
  });

  const kill = (sig: NodeJS.Signals): void => {
    if (!exited) child.kill(sig);
  };
  const stop = (reason: StopReason): void => {
    if (exited) return;
    if (stoppedBy !== undefined) {
      if (reason === 'interrupt') kill('SIGKILL'); // impatient second Ctrl-C
      return;
    }
    stoppedBy = reason;
    kill('SIGTERM');
    killTimer = setTimeout(() => kill('SIGKILL'), grace);
  };

  // Never leave a VM behind, even when the process exits abruptly (uncaught error, process.exit).
  const onExit = (): void => kill('SIGKILL');
  process.on('exit', onExit);
  const onSignal = (): void => stop('interrupt');
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  if (opts.handleSignals) for (const s of signals) process.on(s, onSignal);

  const timeout = opts.timeoutMs !== undefined ? setTimeout(() => stop('timeout'), opts.timeoutMs) : undefined;

  child.stdout?.on('data', (c: Buffer) => opts.onStdout(c));
  child.stderr?.on('data', (c: Buffer) => opts.onStderr(c));
  child.stdin?.on('error', () => undefined); // EPIPE when the VM is gone: nothing to do
  const stdin = process.stdin;
  if (opts.forwardStdin && child.stdin) stdin.pipe(child.stdin);
  if (child.pid !== undefined) opts.onSpawn?.(child.pid);

  const done = new Promise<ChildExit>((resolveDone) => {
    let spawnError: string | undefined;
    let finished = false;
    const finish = (exitCode: number | null, signal: NodeJS.Signals | null): void => {
      if (finished) return; // a failed spawn may report both 'error' and 'close'
      finished = true;
      exited = true;
      clearTimeout(timeout);
      clearTimeout(killTimer);
      process.removeListener('exit', onExit);
      if (opts.handleSignals) for (const s of signals) process.removeListener(s, onSignal);
      if (opts.forwardStdin && child.stdin) {
        stdin.unpipe(child.stdin);
        stdin.pause();
      }
      resolveDone({
        exitCode,
        signal,
        ...(stoppedBy ? { stoppedBy } : {}),
        ...(spawnError ? { spawnError } : {}),
        ...(child.pid !== undefined ? { pid: child.pid } : {}),
        durationMs: Date.now() - started,
      });
    };
    child.on('error', (e: NodeJS.ErrnoException) => {
      spawnError = e.code === 'ENOENT' ? `${file}: not found` : e.message;
      if (child.pid === undefined) finish(null, null);
    });
    // 'close' comes after 'exit' once the pipes are drained: every console byte is delivered.
    child.on('close', (code, signal) => finish(code, signal));
  });

  return { pid: child.pid, stop, done };
}
