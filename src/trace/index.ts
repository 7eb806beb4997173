// `osv trace`: run the one program the user named under the loader's tracing (and strace),
// and report what it used at run time that the plan lacks.

import { parseLoaderTrace, type LoaderTrace } from './ld-debug.js';
import { analyze, type PlannedPaths, type TraceFindings } from './report.js';
import { findProgram, findStrace, runTraced } from './run.js';
import { parseSyscallTrace } from './strace.js';
import * as fs from 'node:fs';

export type { Finding, PlannedPaths, Addition } from './report.js';
export { EMPTY_PLAN } from './report.js';

export interface TraceOptions {
  /** The program and its arguments, exactly as the user gave them. */
  argv: [string, ...string[]];
  cwd: string;
  /** Seconds; undefined = until the program exits. */
  duration?: number;
  /** Use strace when it is installed (default true). */
  useStrace?: boolean;
  stdout: 'inherit' | 'stderr';
  plan: PlannedPaths;
  kernelSonames: ReadonlySet<string>;
}

export interface TraceReport extends TraceFindings {
  program: string;
  args: string[];
  exit: { code: number | null; signal: string | null };
  stoppedBy: 'exit' | 'duration' | 'interrupt';
  elapsedMs: number;
  /** The strace binary used, or null when only the loader was traced. */
  strace: string | null;
  /** Non-fatal notes about the trace itself (a script, a setuid program, no strace). */
  notes: string[];
}

/** The first line of a script (`#!...`), or undefined for anything else. */
function shebang(path: string): string | undefined {
  try {
    const fd = fs.openSync(path, 'r');
    try {
      const buf = Buffer.alloc(256);
      const n = fs.readSync(fd, buf, 0, 256, 0);
      const head = buf.subarray(0, n).toString('latin1');
      return head.startsWith('#!') ? head.slice(2).split('\n')[0]!.trim() : undefined;
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return undefined;
  }
}

export async function trace(opts: TraceOptions): Promise<TraceReport> {
  const [name, ...args] = opts.argv;
  const program = findProgram(name, opts.cwd);
  const strace = opts.useStrace === false ? undefined : findStrace();
  const notes: string[] = [];
  const interp = shebang(program);
  if (opts.useStrace === false) notes.push('--no-strace: only libraries were traced, not data files');
  else if (!strace) notes.push('strace is not installed: only libraries were traced, not data files (install strace for a full report)');
  const st = fs.statSync(program);
  if (st.mode & 0o6000) notes.push(`${program} is setuid/setgid: the loader ignores LD_DEBUG_OUTPUT for it, so its libraries may be missing`);

  const raw = await runTraced({
    program,
    args,
    cwd: opts.cwd,
    ...(opts.duration !== undefined ? { duration: opts.duration } : {}),
    ...(strace ? { strace } : {}),
    stdout: opts.stdout,
  });
  const loader: LoaderTrace = { libraries: [], programs: [] };
  for (const log of raw.loaderLogs) {
    const t = parseLoaderTrace(log);
    loader.libraries.push(...t.libraries);
    loader.programs.push(...t.programs);
  }
  const syscalls = raw.straceLog !== undefined ? parseSyscallTrace(raw.straceLog) : undefined;
  if (interp !== undefined) {
    // The program that process ran in the end (a shim execs the real one) is what cmd needs.
    const rootPid = syscalls?.executed[0]?.pid;
    const last = syscalls?.executed.filter((e) => e.pid === rootPid).at(-1)?.path;
    const real = last !== undefined && last !== program && shebang(last) === undefined ? last : undefined;
    notes.push(
      `${program} is a script (#!${interp}); OSv runs ELF programs only, so cmd must name the real program` +
        (real ? `: this one ended up running ${real}` : ' (for a pyenv or asdf shim, the interpreter it runs)'),
    );
  }
  const findings = analyze({ program, loader, ...(syscalls ? { syscalls } : {}), plan: opts.plan, kernelSonames: opts.kernelSonames, workDir: raw.workDir, cwd: opts.cwd });
  return {
    program,
    args,
    exit: raw.exit,
    stoppedBy: raw.stoppedBy,
    elapsedMs: raw.elapsedMs,
    strace: strace ?? null,
    notes,
    ...findings,
  };
}
