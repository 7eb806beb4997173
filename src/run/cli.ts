// `osv run [IMAGE]`: boot an image that is already built. Finds the image and the kernel,
// builds the RunRequest from the flags, and renders the verdict. src/cli/commands/run.ts
// imports this lazily.

import { readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Arch } from '../config/types.js';
import { ExitCode, OsvError } from '../diagnostics/error.js';
import { err, ok, unwrap, type Result } from '../diagnostics/result.js';
import { readDiskInfo, type DiskInfo } from './disk-info.js';
import { readRecord, recordPath, type BuildRecord, type RecordedRun } from '../image/record.js';
import { resolveKernelPath } from '../kernel/local.js';
import { executeRun, prepareRun, requestFromSettings, type PreparedRun, type RunReport } from './runner.js';
import type { Boot, Disk } from './spec.js';
import { oneOf } from '../cli/flag-values.js';
import { applyFlags, settingsFromFlags, type VmFlags } from './flag-settings.js';

export interface RunCliOptions extends VmFlags {
  kernel?: string;
  exec?: string;
  run?: string;
  volume?: string[];
  boot?: string;
  arch?: string;
  qemu?: string;
  ci?: boolean;
  dryRun?: boolean;
  json?: boolean;
}

const usage = (message: string, hint?: string): OsvError => new OsvError({ code: 'run.usage', message, ...(hint ? { hint } : {}), exitCode: ExitCode.usage });

/** What `osv run` boots with when neither the build record nor a flag says otherwise. */
const FALLBACK: RecordedRun['settings'] = { hypervisor: 'qemu', memory: 512 * 2 ** 20, cpus: 2, ports: [], accel: 'auto', network: { kind: 'user' }, volumes: [] };

// ---- image, run and kernel ---------------------------------------------------------------

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

/** The recorded run to boot: --run NAME, else the one the image was built for. */
function chooseRun(image: string, record: BuildRecord | undefined, name: string | undefined): Result<RecordedRun | undefined> {
  if (name === undefined) return ok(record?.runs.find((r) => r.name === record.run));
  if (!record) return err(usage(`--run needs the build record of ${image} (${recordPath(image)}), which is missing or from another osv version`, 'rebuild the image with `osv build`'));
  const run = record.runs.find((r) => r.name === name);
  return run ? ok(run) : err(usage(`${image} was built from a configuration without a run named "${name}"`, `runs: ${record.runs.map((r) => r.name).join(', ')}`));
}

/**
 * --kernel or OSV_KERNEL, else the kernel the image was built with. A file is booted as given;
 * a directory (an OSv build directory, as OSV_KERNEL may name) yields its loader-stripped.elf.
 */
function chooseKernel(opts: RunCliOptions, env: NodeJS.ProcessEnv, arch: Arch, record: BuildRecord | undefined): Result<string | undefined> {
  const given = opts.kernel ?? env['OSV_KERNEL'];
  if (given === undefined) return ok(record?.kernel.elf);
  if (!statSync(given, { throwIfNoEntry: false })?.isDirectory()) return ok(resolve(given));
  const files = resolveKernelPath(resolve(given), arch, opts.kernel !== undefined ? '--kernel' : 'OSV_KERNEL');
  if (!files.ok) return files;
  if (!files.value.elf) return err(usage(`direct kernel boot needs loader-stripped.elf, and ${given} has only loader.img`, 'point at an OSv build directory, or boot a bootable image with --boot image'));
  return ok(files.value.elf);
}

function chooseBoot(info: DiskInfo, kernel: string | undefined, cmdline: string | undefined, opts: RunCliOptions, chosenRun: boolean): Result<Boot> {
  const disk: Disk = { path: info.path, format: info.format };
  const mode = opts.boot ?? (kernel ? 'kernel' : info.bootable === false ? 'kernel' : 'image');
  if (mode === 'image') {
    if (info.bootable === false) return err(usage(`${info.path} has no kernel inside (a \`disk\` image), so it cannot boot by itself`, 'boot it directly: --kernel loader-stripped.elf (or set OSV_KERNEL)'));
    if (opts.exec !== undefined || chosenRun) {
      return err(usage(`a bootable image runs the command line written inside it; ${opts.exec !== undefined ? '-e' : '--run'} needs direct kernel boot`, 'add --kernel loader-stripped.elf (or set OSV_KERNEL) to boot with another command line'));
    }
    return ok({ kind: 'image', disk });
  }
  if (mode !== 'kernel') return err(usage(`--boot must be kernel or image, got "${mode}"`));
  if (!kernel) {
    const why = info.bootable === false ? `${info.path} has no kernel inside (a \`disk\` image), so ` : '';
    return err(usage(`${why}direct kernel boot needs the OSv kernel (loader-stripped.elf)`, 'pass --kernel PATH or set OSV_KERNEL'));
  }
  if (cmdline === undefined) return err(usage(`no command line: ${info.path} does not carry one`, 'pass -e "--rootfs=rofs /program args"'));
  return ok({ kind: 'kernel', kernel, cmdline, disk });
}

async function prepareFromFlags(image: string | undefined, opts: RunCliOptions, env: NodeJS.ProcessEnv): Promise<PreparedRun> {
  const path = image ? resolve(image) : newestImage(process.cwd());
  if (!path) throw usage('no image given and none found under .osv/', 'build one with `osv build`, or pass the image path: osv run IMAGE');
  const flags = settingsFromFlags(opts);
  const info = unwrap(readDiskInfo(path));
  // A `disk` image carries neither kernel nor command line: `osv build` recorded both beside
  // it, with every run's command line and VM settings.
  const record = readRecord(path);
  const run = unwrap(chooseRun(path, record, opts.run));
  const arch = opts.arch !== undefined ? unwrap(oneOf<Arch>('--arch', opts.arch, ['x86_64', 'aarch64'])) : (record?.arch ?? 'x86_64');
  const kernel = unwrap(chooseKernel(opts, env, arch, record));
  const cmdline = opts.exec ?? run?.cmdline ?? info.cmdline ?? record?.cmdline;
  const boot = unwrap(chooseBoot(info, kernel, cmdline, opts, opts.run !== undefined));
  const base = run?.settings ?? FALLBACK;
  const volumes = (opts.volume ?? []).map((v) => {
    const [p, flag] = v.split(/:(?=ro$)/);
    return { path: resolve(p!), readonly: flag === 'ro' };
  });
  const settings = applyFlags({ ...base, volumes: [...base.volumes, ...volumes], kernelArgs: [] }, flags);
  const request = unwrap(requestFromSettings(arch, boot, { ...settings, ...(opts.qemu ? { qemu: opts.qemu } : {}) }, { ...(opts.ci ? { ci: true } : {}), env }));
  return unwrap(await prepareRun(request));
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
