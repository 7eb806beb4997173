// Host tools the image stage drives (mke2fs, debugfs, e2fsck, qemu-img): found on PATH or in
// the sbin directories that a non-root user's PATH lacks on Debian, run without a shell, and
// reported by name and Debian package when missing.

import { spawn } from 'node:child_process';
import { delimiter } from 'node:path';
import { which } from '../which.js';
import { err, ok, type Result } from '../diagnostics/result.js';
import { ExitCode, OsvError } from '../diagnostics/error.js';

export interface ToolSpec {
  name: string;
  /** Debian package that ships it. */
  pkg: string;
}

export const TOOLS = {
  mke2fs: { name: 'mke2fs', pkg: 'e2fsprogs' },
  debugfs: { name: 'debugfs', pkg: 'e2fsprogs' },
  e2fsck: { name: 'e2fsck', pkg: 'e2fsprogs' },
  qemuImg: { name: 'qemu-img', pkg: 'qemu-utils' },
  qemuIo: { name: 'qemu-io', pkg: 'qemu-utils' },
} as const satisfies Record<string, ToolSpec>;

const SBIN = ['/usr/local/sbin', '/usr/sbin', '/sbin'];

/** Absolute path of a tool (PATH's absolute entries, then the sbin directories), or undefined. */
export function findTool(name: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  return which(name, [env['PATH'] ?? '', ...SBIN].join(delimiter));
}

export function missingTool(t: ToolSpec, why: string): OsvError {
  return new OsvError({
    code: 'tool.missing',
    message: `${t.name} is needed ${why} but was not found on PATH or in /usr/sbin`,
    hint: `install the Debian package ${t.pkg}: sudo apt-get install ${t.pkg}`,
    exitCode: ExitCode.buildFailed,
  });
}

export interface ToolRun {
  stdout: string;
  stderr: string;
  exitCode: number;
}

export interface RunToolOptions {
  /** Why the tool runs, for the missing-tool message ("to make an ext4 image"). */
  why: string;
  env?: NodeJS.ProcessEnv;
  input?: string;
  signal?: AbortSignal;
  /** Error code when the tool exits non-zero. */
  failCode?: string;
  /** Exit codes besides 0 that are results, not failures (e2fsck -n: 4 = problems found). */
  okExit?: number[];
}

/** Run a tool to completion, capturing output. Non-zero exit is an OsvError with its stderr. */
export function runTool(t: ToolSpec, args: string[], opts: RunToolOptions): Promise<Result<ToolRun, OsvError>> {
  const bin = findTool(t.name);
  if (!bin) return Promise.resolve(err(missingTool(t, opts.why)));
  return new Promise((resolve) => {
    const child = spawn(bin, args, {
      env: { ...process.env, LC_ALL: 'C', ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe'],
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
    const out: Buffer[] = [];
    const errs: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => errs.push(b));
    child.stdin.on('error', () => undefined); // a tool that ignores stdin closes it early
    child.stdin.end(opts.input ?? '');
    child.on('error', (e) => {
      const aborted = (e as { name?: string }).name === 'AbortError';
      resolve(
        err(
          new OsvError({
            code: aborted ? 'image.interrupted' : 'tool.failed',
            message: aborted ? `${t.name} was interrupted` : `cannot run ${bin}: ${e.message}`,
            exitCode: aborted ? ExitCode.interrupted : ExitCode.buildFailed,
          }),
        ),
      );
    });
    child.on('close', (code, sig) => {
      const stdout = Buffer.concat(out).toString();
      const stderr = Buffer.concat(errs).toString();
      if (code === 0 || (code !== null && opts.okExit?.includes(code))) return resolve(ok({ stdout, stderr, exitCode: code }));
      if (opts.signal?.aborted) return; // the 'error' handler reports it
      const lines = stderr.trim().split('\n').filter(Boolean).slice(-8);
      resolve(
        err(
          new OsvError({
            code: opts.failCode ?? 'tool.failed',
            message: `${t.name} failed (${sig ? `signal ${sig}` : `exit ${code}`}) ${opts.why}`,
            details: [`${bin} ${args.join(' ')}`, ...lines],
            exitCode: ExitCode.buildFailed,
          }),
        ),
      );
    });
  });
}
