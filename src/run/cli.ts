// `osv run [IMAGE]`: boot an image that is already built. Finds the image and the kernel,
// builds the RunRequest from the flags, and renders the verdict. src/cli/commands/run.ts
// imports this lazily.

import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Arch, DiskVolume, Volume } from '../config/types.js';
import { DEFAULTS } from '../config/defaults.js';
import { ExitCode, OsvError } from '../diagnostics/error.js';
import { err, ok, unwrap, type Result } from '../diagnostics/result.js';
import { readDiskInfo, type DiskInfo } from './disk-info.js';
import { readRecord, recordPath, type BuildRecord, type RecordedRun } from '../image/record.js';
import { classifyFile } from '../kernel/classify.js';
import { resolveKernelPath } from '../kernel/local.js';
import { exitStatusOf, runOutcome } from './outcome.js';
import { executeRun, prepareRun, requestFromSettings, type PreparedRun, type RunReport } from './runner.js';
import { rootDisk, type Boot, type Disk } from './spec.js';
import { attachVolumes } from '../volumes/attach.js';
import { oneOf } from '../cli/flag-values.js';
import { applyFlags, debugFromFlags, settingsFromFlags, usage, type VmFlags } from './flag-settings.js';

export interface RunCliOptions extends VmFlags {
  kernel?: string;
  exec?: string;
  run?: string;
  volume?: string[];
  boot?: string;
  arch?: string;
  qemu?: string;
  ci?: boolean;
  kernelLog?: boolean;
  dryRun?: boolean;
  json?: boolean;
}

/** What `osv run` boots with when neither the build record nor a flag says otherwise. */
const FALLBACK: RecordedRun['settings'] = { hypervisor: DEFAULTS.hypervisor, memory: DEFAULTS.memory, cpus: DEFAULTS.cpus, ports: [], accel: DEFAULTS.accel, network: { kind: 'user' }, volumes: [] };

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

/** Why a `disk` image's kernel or command line may be unknown: its record is from an older osv. */
const staleHint = (image: string): string | undefined =>
  existsSync(recordPath(image)) && !readRecord(image) ? `${recordPath(image)} is from an older osv-up: rebuild the image with \`osv build\`` : undefined;

/** The recorded run to boot: --run NAME, else the one the image was built for. */
function chooseRun(image: string, record: BuildRecord | undefined, name: string | undefined): Result<RecordedRun | undefined> {
  if (name === undefined) return ok(record?.runs.find((r) => r.name === record.run));
  if (!record) return err(usage(`--run needs the build record of ${image} (${recordPath(image)}), which is missing or from an older osv-up`, 'rebuild the image with `osv build`'));
  const run = record.runs.find((r) => r.name === name);
  return run ? ok(run) : err(usage(`${image} was built from a configuration without a run named "${name}"`, `runs: ${record.runs.map((r) => r.name).join(', ')}`));
}

/** --kernel, else a non-empty OSV_KERNEL. */
function givenKernel(opts: RunCliOptions, env: NodeJS.ProcessEnv): { path: string; what: string } | undefined {
  if (opts.kernel !== undefined) return { path: opts.kernel, what: '--kernel' };
  const fromEnv = env['OSV_KERNEL'];
  return fromEnv ? { path: fromEnv, what: 'OSV_KERNEL' } : undefined;
}

/** A regular file (following links); false for anything else, a loop of links among them (resolveKernelPath says what it is). */
function isRegularFile(p: string): boolean {
  try {
    return statSync(p, { throwIfNoEntry: false })?.isFile() ?? false;
  } catch {
    return false;
  }
}

/**
 * The kernel ELF for direct boot. A given ELF file is booted as it is (QEMU judges it); a
 * loader.img or an OSv build directory is looked up as kernel.path is, for its
 * loader-stripped.elf. Nothing given: the kernel the image was built with.
 */
function chooseKernel(given: { path: string; what: string } | undefined, arch: Arch, record: BuildRecord | undefined): Result<string | undefined> {
  if (!given) return ok(record?.kernel.elf);
  const p = resolve(given.path);
  if (isRegularFile(p) && classifyFile(p).kind === 'elf') return ok(p);
  const files = resolveKernelPath(p, arch, given.what);
  if (!files.ok) return files;
  if (!files.value.elf) return err(usage(`direct kernel boot needs loader-stripped.elf, and ${given.what} ${given.path} leads only to loader.img`, 'point it at an OSv build directory or at loader-stripped.elf'));
  return ok(files.value.elf);
}

/** --kernel as a file to boot, or the error that says why it is not one (checked before `osv run REF` pulls). */
export function kernelFlagFile(path: string, arch: Arch): string {
  return unwrap(chooseKernel({ path, what: '--kernel' }, arch, undefined))!;
}

interface BootChoice {
  info: DiskInfo;
  record: BuildRecord | undefined;
  run: RecordedRun | undefined;
  arch: Arch;
}

function chooseBoot(c: BootChoice, opts: RunCliOptions, env: NodeJS.ProcessEnv): Result<Boot> {
  const { info } = c;
  const disk = rootDisk(info.path, info.format, c.record?.filesystem);
  const given = givenKernel(opts, env);
  const mode = opts.boot ?? (given || c.record?.kernel.elf || info.bootable === false ? 'kernel' : 'image');
  if (mode === 'image') {
    if (info.bootable === false) return err(usage(`${info.path} has no kernel inside (a \`disk\` image), so it cannot boot by itself`, 'boot it directly: --kernel loader-stripped.elf (or set OSV_KERNEL)'));
    // A bootable image runs the command line written in it: -e, or a run with another one, needs direct boot.
    const other = opts.exec !== undefined ? '-e' : opts.run !== undefined && c.run?.cmdline !== info.cmdline ? '--run' : undefined;
    if (other) return err(usage(`a bootable image runs the command line written inside it; ${other} needs direct kernel boot`, 'add --kernel loader-stripped.elf (or set OSV_KERNEL) to boot with another command line'));
    return ok({ kind: 'image', disk });
  }
  if (mode !== 'kernel') return err(usage(`--boot must be kernel or image, got "${mode}"`));
  const kernel = chooseKernel(given, c.arch, c.record);
  if (!kernel.ok) return kernel;
  if (!kernel.value) {
    const why = info.bootable === false ? `${info.path} has no kernel inside (a \`disk\` image), so ` : '';
    return err(usage(`${why}direct kernel boot needs the OSv kernel (loader-stripped.elf)`, staleHint(info.path) ?? 'pass --kernel PATH or set OSV_KERNEL'));
  }
  const cmdline = opts.exec ?? c.run?.cmdline ?? info.cmdline ?? c.record?.cmdline;
  if (cmdline === undefined) return err(usage(`no command line: ${info.path} does not carry one`, staleHint(info.path) ?? 'pass -e "--rootfs=rofs /program args"'));
  return ok({ kind: 'kernel', kernel: kernel.value, cmdline, disk });
}

/**
 * Recorded volumes, then --volume PATH[:ro]; a flag for a recorded disk replaces it in its place
 * (to make it read-only, say), so that the disks after it keep their devices.
 */
function volumesWith(recorded: Volume[], flags: string[] | undefined): Volume[] {
  const given = (flags ?? []).map((v): DiskVolume => {
    const [p, flag] = v.split(/:(?=ro$)/);
    return { kind: 'disk', path: resolve(p!), readonly: flag === 'ro' };
  });
  const byPath = new Map(given.map((v) => [v.path, v]));
  const kept = recorded.map((v) => (v.kind === 'disk' && byPath.has(v.path) ? byPath.get(v.path)! : v));
  return [...kept, ...given.filter((v) => !recorded.some((r) => r.kind === 'disk' && r.path === v.path))];
}

async function prepareFromFlags(image: string | undefined, opts: RunCliOptions, env: NodeJS.ProcessEnv): Promise<PreparedRun> {
  const path = image ? resolve(image) : newestImage(process.cwd());
  if (!path) throw usage('no image given and none found under .osv/', 'build one with `osv build`, or pass the image path: osv run IMAGE');
  const flags = settingsFromFlags(opts);
  const debug = debugFromFlags(opts);
  const info = unwrap(readDiskInfo(path));
  // OSv mounts its root from partition 2 of the first disk: a raw file without a partition table
  // (a data disk, a bare file system, something else) would boot only to fail at the mount.
  if (info.signature === false)
    throw new OsvError({
      code: 'run.not-an-image',
      message: `${path} is not an OSv image: its first sector has no partition table (no 55 AA at byte 510)`,
      hint: 'give an image `osv build` wrote (`osv inspect FILE` tells what a file holds); a data disk goes after it, with --volume',
      exitCode: ExitCode.invalidInput,
    });
  // A `disk` image carries neither kernel nor command line: `osv build` recorded both beside
  // it, with every run's command line and VM settings.
  const record = readRecord(path);
  const run = unwrap(chooseRun(path, record, opts.run));
  const arch = opts.arch !== undefined ? unwrap(oneOf<Arch>('--arch', opts.arch, ['x86_64', 'aarch64'])) : (record?.arch ?? DEFAULTS.arch);
  const boot = unwrap(chooseBoot({ info, record, run, arch }, opts, env));
  // The record is data: a program it names (run.qemu) runs only when the user names it too.
  const { qemu: recordedQemu, ...base } = run?.settings ?? FALLBACK;
  const settings = applyFlags({ ...base, volumes: volumesWith(base.volumes, opts.volume), kernelArgs: [] }, flags);
  // Named volumes come only from a build record, which names their project.
  const volumes = unwrap(
    await attachVolumes(settings.volumes, {
      project: record?.project.dir ?? process.cwd(),
      ...(record ? { config: record.project.config } : {}),
      run: run?.name ?? 'default',
      env,
      ...(opts.dryRun ? { dryRun: true } : {}),
    }),
  );
  const request = requestFromSettings(arch, boot, { ...settings, ...(opts.qemu ? { qemu: opts.qemu } : {}) }, { ...(opts.ci ? { ci: true } : {}), ...(opts.qemu ? { qemuFrom: '--qemu' } : {}), env, debug, volumes, secrets: record?.secrets ?? [] });
  const prepared = unwrap(await prepareRun(request));
  prepared.notes.push(...volumes.notes);
  if (recordedQemu !== undefined && opts.qemu === undefined)
    prepared.notes.push(`${recordPath(path)} names the QEMU binary ${recordedQemu} (run.qemu); a record is not trusted to choose programs: pass --qemu ${recordedQemu} to use it`);
  return prepared;
}

function reportJson(prep: PreparedRun, report?: RunReport): string {
  return JSON.stringify(
    {
      ok: report ? report.verdict.ok : true,
      command: prep.shownArgv,
      commandLine: prep.commandLine,
      hypervisor: prep.hypervisor,
      ...(prep.accel ? { accel: prep.accel.accel } : {}),
      ...(prep.firecracker ? { firecrackerConfig: prep.firecracker.config } : {}),
      notes: prep.notes,
      ...(report
        ? {
            exitStatus: exitStatusOf(report.verdict),
            verdict: report.verdict,
            exit: report.exit,
            ...(report.firstProgramLineMs !== undefined ? { firstProgramLineMs: report.firstProgramLineMs } : {}),
            ignoredSymbols: report.scan.ignoredSymbols,
            kernelLog: report.kernelLog,
          }
        : {}),
    },
    null,
    2,
  );
}

/** An image fetched by reference (`osv run REF`): its kernel and disk are local files now. */
export interface FetchedImage {
  /** For messages: the reference and its digest. */
  label: string;
  arch: Arch;
  kernel: string;
  /** A qcow2 that must stay as pulled: the VM writes to a throwaway overlay. */
  disk: string;
  /** The run booted without --run, and every run the image carries. */
  run: string;
  runs: Array<{ name: string; cmdline: string; settings: Partial<RecordedRun['settings']> & Pick<RecordedRun['settings'], 'memory' | 'cpus' | 'ports'> }>;
  /** The run's named volumes, attached first (/dev/vblk1...), before any --volume disk. */
  volumeDisks?: Disk[];
}

/** The request for a fetched image: its kernel, disk, command line and settings; the flags on top. */
export async function prepareFromFetched(img: FetchedImage, opts: RunCliOptions, env: NodeJS.ProcessEnv): Promise<PreparedRun> {
  if (opts.boot !== undefined && opts.boot !== 'kernel') throw usage(`${img.label} boots its kernel directly; --boot ${opts.boot} does not apply`);
  if (opts.arch !== undefined && opts.arch !== img.arch) throw usage(`${img.label} is an ${img.arch} image; --arch ${opts.arch} does not apply`);
  const name = opts.run ?? img.run;
  const run = img.runs.find((r) => r.name === name);
  if (!run) throw usage(`${img.label} has no run named "${name}"`, `runs: ${img.runs.map((r) => r.name).join(', ')}`);
  const flags = settingsFromFlags(opts);
  const debug = debugFromFlags(opts);
  // Only --kernel replaces the image's kernel (OSV_KERNEL is for builds).
  const kernel = opts.kernel !== undefined ? kernelFlagFile(opts.kernel, img.arch) : img.kernel;
  const boot: Boot = { kind: 'kernel', kernel, cmdline: opts.exec ?? run.cmdline, disk: { path: img.disk, format: 'qcow2', snapshot: true } };
  const base = { ...FALLBACK, ...run.settings };
  const settings = applyFlags({ ...base, volumes: volumesWith([], opts.volume), kernelArgs: [] }, flags);
  // The image's volumes (their seeds, fetched by the caller), then --volume disks: an image names no disks of this machine.
  const flagged = unwrap(await attachVolumes(settings.volumes, { project: process.cwd(), run: run.name, env, ...(opts.dryRun ? { dryRun: true } : {}) }));
  const volumes = { ...flagged, disks: [...(img.volumeDisks ?? []), ...flagged.disks] };
  const request = requestFromSettings(img.arch, boot, { ...settings, ...(opts.qemu ? { qemu: opts.qemu } : {}) }, { ...(opts.ci ? { ci: true } : {}), ...(opts.qemu ? { qemuFrom: '--qemu' } : {}), env, debug, volumes });
  const prepared = unwrap(await prepareRun(request));
  prepared.notes.push(...volumes.notes);
  return prepared;
}

export async function runRunCommand(image: string | undefined, opts: RunCliOptions): Promise<void> {
  await finishRun(await prepareFromFlags(image, opts, process.env), opts);
}

/** --dry-run, or boot and report: what `osv run IMAGE` and `osv run REF` share. */
export async function finishRun(prep: PreparedRun, opts: RunCliOptions): Promise<void> {
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
    ...(opts.kernelLog ? { kernelLog: true } : {}),
  });
  if (opts.json) process.stdout.write(reportJson(prep, report) + '\n');
  process.exitCode = runOutcome(report.verdict, { ci: Boolean(opts.ci), json: Boolean(opts.json) });
}
