// `osv run [IMAGE]`: boot an image that is already built. Finds the image and the kernel,
// builds the RunRequest from the flags, and renders the verdict. src/cli/commands/run.ts
// imports this lazily.

import { readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Accel, Arch, Hypervisor, Network, PortForward } from '../config/types.js';
import { ExitCode, OsvError } from '../diagnostics/error.js';
import { err, ok, unwrap, type Result } from '../diagnostics/result.js';
import { readDiskInfo, type DiskInfo } from './disk-info.js';
import { parsePort, parseSize } from '../config/values.js';
import { readRecord } from '../image/record.js';
import { diskOf, executeRun, prepareRun, type PreparedRun, type RunReport } from './runner.js';
import type { Boot, Disk } from './spec.js';
import { oneOf, positive } from '../cli/flag-values.js';

export interface RunCliOptions {
  kernel?: string;
  exec?: string;
  port?: string[];
  memory: string;
  cpus: string;
  accel: string;
  hypervisor: string;
  network: string;
  volume?: string[];
  boot?: string;
  arch: string;
  qemu?: string;
  ci?: boolean;
  timeout?: string;
  expect?: string;
  dryRun?: boolean;
  json?: boolean;
}

const usage = (message: string, hint?: string): OsvError => new OsvError({ code: 'run.usage', message, ...(hint ? { hint } : {}), exitCode: ExitCode.usage });

// ---- flag values -------------------------------------------------------------------------

// The flags take the same syntax as osv.yaml (one parser for both), except that a bare
// number of memory is MiB, as QEMU's -m reads it.

/** `512M`, `2G`, `1024` (MiB, like QEMU's -m). */
export function parseMemoryFlag(text: string): Result<number> {
  const t = text.trim();
  const r = parseSize(/^[0-9]+(\.[0-9]+)?$/.test(t) ? `${t}M` : t);
  return r.ok ? ok(r.value) : err(usage(`invalid memory size "${text}"`, 'give MiB or a number with K, M, G (e.g. 512M, 2G)'));
}

/** `8080:80`, `8080:80/udp`, `0.0.0.0:8080:80`, `8080` (same both sides). */
export function parsePortFlag(text: string): Result<PortForward> {
  const r = parsePort(text.trim());
  return r.ok ? ok(r.value) : err(usage(`-p: ${r.message}`));
}

/** `user`, `none`, `tap:NAME`, `bridge:NAME`. */
export function parseNetworkFlag(text: string): Result<Network> {
  if (text === 'user' || text === 'none') return ok({ kind: text });
  const m = /^(tap|bridge):([A-Za-z0-9_.-]{1,15})$/.exec(text);
  if (m) return ok({ kind: m[1] as 'tap' | 'bridge', name: m[2]! });
  return err(usage(`invalid network "${text}"`, 'use user, none, tap:NAME or bridge:NAME'));
}

// ---- image and kernel ---------------------------------------------------------------------

/** The newest *.img / *.qcow2 / *.raw under .osv/ (two levels deep), for `osv run` without IMAGE. */
export function newestImage(projectDir: string): string | undefined {
  let best: { path: string; mtime: number } | undefined;
  const visit = (dir: string, depth: number): void => {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return;
    }
    for (const name of names) {
      const p = join(dir, name);
      let s;
      try {
        s = statSync(p);
      } catch {
        continue;
      }
      if (s.isDirectory() && depth < 2) visit(p, depth + 1);
      else if (s.isFile() && /\.(img|qcow2|raw)$/.test(name) && (!best || s.mtimeMs > best.mtime)) best = { path: p, mtime: s.mtimeMs };
    }
  };
  visit(join(projectDir, '.osv'), 0);
  return best?.path;
}

function chooseBoot(info: DiskInfo, opts: RunCliOptions, env: NodeJS.ProcessEnv): Result<Boot> {
  // A `disk` image carries neither kernel nor command line: `osv build` recorded both beside it.
  const record = readRecord(info.path);
  const kernel = opts.kernel ?? env['OSV_KERNEL'] ?? record?.kernel.elf;
  const disk: Disk = { path: info.path, format: info.format };
  const mode = opts.boot ?? (kernel ? 'kernel' : info.bootable === false ? 'kernel' : 'image');
  if (mode === 'image') {
    if (info.bootable === false) return err(usage(`${info.path} has no kernel inside (a \`disk\` image), so it cannot boot by itself`, 'boot it directly: --kernel loader-stripped.elf (or set OSV_KERNEL)'));
    if (opts.exec !== undefined) {
      return err(usage('a bootable image runs the command line written inside it; -e needs direct kernel boot', 'add --kernel loader-stripped.elf (or set OSV_KERNEL) to boot with another command line'));
    }
    return ok({ kind: 'image', disk });
  }
  if (mode !== 'kernel') return err(usage(`--boot must be kernel or image, got "${mode}"`));
  if (!kernel) {
    const why = info.bootable === false ? `${info.path} has no kernel inside (a \`disk\` image), so ` : '';
    return err(usage(`${why}direct kernel boot needs the OSv kernel (loader-stripped.elf)`, 'pass --kernel PATH or set OSV_KERNEL'));
  }
  const cmdline = opts.exec ?? info.cmdline ?? record?.cmdline;
  if (cmdline === undefined) return err(usage(`no command line: ${info.path} does not carry one`, 'pass -e "--rootfs=rofs /program args"'));
  return ok({ kind: 'kernel', kernel: resolve(kernel), cmdline, disk });
}

async function prepareFromFlags(image: string | undefined, opts: RunCliOptions, env: NodeJS.ProcessEnv): Promise<PreparedRun> {
  const path = image ? resolve(image) : newestImage(process.cwd());
  if (!path) throw usage('no image given and none found under .osv/', 'build one with `osv build`, or pass the image path: osv run IMAGE');
  const info = unwrap(readDiskInfo(path));
  const boot = unwrap(chooseBoot(info, opts, env));
  const volumes = (opts.volume ?? []).map((v) => {
    const [p, flag] = v.split(/:(?=ro$)/);
    return unwrap(diskOf(resolve(p!), undefined, flag === 'ro'));
  });
  const prepared = await prepareRun({
    hypervisor: unwrap(oneOf<Hypervisor>('--hypervisor', opts.hypervisor, ['qemu', 'firecracker'])),
    vm: {
      arch: unwrap(oneOf<Arch>('--arch', opts.arch, ['x86_64', 'aarch64'])),
      boot,
      memory: unwrap(parseMemoryFlag(opts.memory)),
      cpus: unwrap(positive('--cpus', opts.cpus)),
      network: unwrap(parseNetworkFlag(opts.network)),
      ports: (opts.port ?? []).map((p) => unwrap(parsePortFlag(p))),
      volumes,
    },
    accel: unwrap(oneOf<Accel>('--accel', opts.accel, ['auto', 'kvm', 'tcg'])),
    ...(opts.qemu ? { qemu: opts.qemu } : {}),
    ...(opts.ci ? { ci: true } : {}),
    ...(opts.timeout !== undefined ? { timeout: unwrap(positive('--timeout', opts.timeout)) } : {}),
    ...(opts.expect !== undefined ? { expect: opts.expect } : {}),
    env,
  });
  return unwrap(prepared);
}

function reportJson(prep: PreparedRun, report?: RunReport): string {
  return JSON.stringify(
    {
      ok: report ? report.verdict.ok : true,
      command: prep.argv,
      commandLine: prep.commandLine,
      hypervisor: prep.hypervisor,
      ...(prep.accel ? { accel: prep.accel.accel } : {}),
      ...(prep.firecracker ? { firecrackerConfig: prep.firecracker.config } : {}),
      notes: prep.notes,
      ...(report
        ? {
            verdict: report.verdict,
            exit: report.exit,
            ...(report.firstProgramLineMs !== undefined ? { firstProgramLineMs: report.firstProgramLineMs } : {}),
            ignoredSymbols: report.scan.ignoredSymbols,
          }
        : {}),
    },
    null,
    2,
  );
}

export async function runRunCommand(image: string | undefined, opts: RunCliOptions): Promise<void> {
  const env = process.env;
  const prep = await prepareFromFlags(image, opts, env);
  if (opts.dryRun) {
    if (opts.json) process.stdout.write(reportJson(prep) + '\n');
    else {
      for (const n of prep.notes) process.stderr.write(`osv: note: ${n}\n`);
      if (prep.firecracker) process.stdout.write(`# ${prep.firecracker.configFile}:\n${JSON.stringify(prep.firecracker.config, null, 2)}\n`);
      process.stdout.write(prep.commandLine + '\n');
    }
    return;
  }
  for (const n of prep.notes) process.stderr.write(`osv: note: ${n}\n`);
  const report = await executeRun(prep, {
    // With --json the console goes to stderr so that stdout is one JSON document.
    ...(opts.json ? { stdout: process.stderr } : {}),
    handleSignals: true,
    forwardStdin: Boolean(process.stdin.isTTY),
  });
  if (opts.json) process.stdout.write(reportJson(prep, report) + '\n');
  const v = report.verdict;
  if (v.ok) {
    if (opts.ci && !opts.json) process.stderr.write(`osv: passed: ${v.reason}\n`);
    return;
  }
  if (v.code === 'interrupted') {
    if (!opts.json) process.stderr.write('osv: interrupted\n');
    process.exitCode = ExitCode.interrupted;
    return;
  }
  if (opts.json) {
    process.exitCode = v.exitCode;
    return;
  }
  throw new OsvError({ code: `run.${v.code}`, message: v.reason, ...(v.hint ? { hint: v.hint } : {}), exitCode: v.exitCode });
}
