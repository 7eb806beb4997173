// config -> Plan: everything that goes into the image, each entry with its reasons, and the
// boot command line of every run. Pure: reads the host through HostFs only, writes nothing,
// starts nothing. The resolver is a parameter so the core stays independent of its wiring.

import { OsvError, OsvErrors } from '../diagnostics/error.js';
import type { Config } from '../config/types.js';
import type { Result } from '../diagnostics/result.js';
import { err, ok } from '../diagnostics/result.js';
import { nodeHostFs, type HostFs } from '../hostfs.js';
import { sysrootNotDirectory } from '../resolve/sysroot.js';
import type { KernelBundle } from '../kernel/types.js';
import type { ResolveClosure } from '../resolve/types.js';
import { posix } from 'node:path';
import type { PlanContext } from './context.js';
import { planModule } from './modules.js';
import { allRuns, checkProgramLinks, plannedRun, planProgram, runKey, runSource } from './runs.js';
import { bootMountWarnings, skeletonEntries } from './skeleton.js';
import { runtimeWarnings } from './runtime-check.js';
import { fromConfig, guestPath, planExecutable, planFile, planLibrary } from './specs.js';
import { EntryTable } from './table.js';
import { hiddenByVolumes, planVolumes } from './volumes.js';
import { isHostFile, type Plan, type PlanEntry, type PlanImage, type PlannedRun, type PlanTotals } from './types.js';
import type { ElfReadCache } from '../resolve/read-cache.js';

export interface PlanOptions {
  /** The named run to select (default: `default`). */
  run?: string;
  /** An already resolved kernel bundle: its libenviron.so is shipped, its hiddenSymbols honoured. */
  kernel?: KernelBundle;
  fs?: HostFs;
  /** The environment: PATH for bare program names, OSV_BASE for OSv module manifests. */
  env?: Record<string, string | undefined>;
  /** With `from:`: the image, mounted in `fs` at config.sysroot, and what its layers dropped. */
  image?: { plan: PlanImage; notes: string[] };
  /** Where what the resolver reads of each ELF file in `fs` is kept between processes (none by default). */
  elfReads?: ElfReadCache;
}

/**
 * Sonames declared `optional` under libraries (also by modules): their absence is a warning
 * wherever they are needed, also as another object's DT_NEEDED, not only as a dlopen root.
 */
function optionalSonames(config: Config): string[] {
  const specs = [...config.libraries, ...config.modules.flatMap((m) => (m.kind === 'osv-up' ? m.libraries : []))];
  return specs.filter((s) => s.optional && !s.name.includes('/')).map((s) => s.name);
}

export function planWith(resolve: ResolveClosure, config: Config, options: PlanOptions = {}): Result<Plan, OsvErrors> {
  const fs = options.fs ?? nodeHostFs;
  if (!options.image) {
    const bad = sysrootProblem(fs, config);
    if (bad) return err(new OsvErrors([bad]));
  }
  const hiddenSymbols = config.kernel.hiddenSymbols || options.kernel?.hiddenSymbols === true;
  const ctx: PlanContext = {
    config,
    fs,
    env: options.env ?? {},
    resolve,
    resolveOptions: { arch: config.arch, sysroot: config.sysroot, libraryPath: config.libraryPath, hiddenSymbols, optional: optionalSonames(config) },
    table: new EntryTable(),
    errors: [],
    warnings: [],
    kernelProvided: new Map(),
    libraries: new Set(),
    resolvedRoots: new Set(),
    aliases: [],
  };

  const runs = allRuns(ctx);
  const selectedName = options.run ?? 'default';
  const selected = runs.find((r) => r.name === selectedName);
  if (!selected) {
    const names = runs.map((r) => r.name).join(', ');
    return err(new OsvErrors([new OsvError({ code: 'plan.unknown-run', message: `there is no run named "${selectedName}"`, hint: `the runs are: ${names}`, exitCode: 2 })]));
  }

  const libgcc = findLibgcc(ctx);

  config.executables.forEach((s, i) => planExecutable(ctx, s, `executables[${i}]`, fromConfig));
  config.libraries.forEach((s, i) => planLibrary(ctx, s, `libraries[${i}]`, fromConfig));
  config.files.forEach((s, i) => planFile(ctx, s, `files[${i}]`, fromConfig));
  for (const m of config.modules) planModule(ctx, m, libgcc ? { libgccDir: posix.dirname(libgcc.host) } : {});

  const programs = new Map<string, string>();
  for (const { name, run } of runs) {
    const program = planProgram(ctx, name, run);
    if (program !== undefined) programs.set(name, program);
  }

  planVolumes(ctx, runs, options.kernel);

  let libenviron: { host: string; stat: NonNullable<ReturnType<HostFs['stat']>> } | undefined;
  if (options.kernel?.libenviron !== undefined) {
    const st = fs.stat(options.kernel.libenviron);
    if (st?.kind === 'file') libenviron = { host: options.kernel.libenviron, stat: st };
    else ctx.errors.push(new OsvError({ code: 'plan.not-found', message: `the kernel bundle's libenviron.so (${options.kernel.libenviron}) is missing`, hint: 'fetch or build the kernel again' }));
  }
  for (const e of ctx.aliases) ctx.table.addDefault(e);
  for (const e of skeletonEntries({ filesystem: config.filesystem, mounts: config.image.mounts, ...(libgcc ? { libgcc } : {}), ...(libenviron ? { libenviron } : {}) })) ctx.table.addDefault(e);
  if (libgcc) ctx.libraries.add('/usr/lib/libgcc_s.so.1');

  const plannedRuns: PlannedRun[] = [];
  for (const { name, run } of runs) {
    const program = programs.get(name);
    if (program === undefined) continue;
    const cwd = run.cwd !== undefined ? guestPath(ctx, run.cwd, name === 'default' ? 'cwd' : `runs.${name}.cwd`, runSource(ctx, name, run, 'cwd')) : undefined;
    if (run.cwd !== undefined && cwd === undefined) continue;
    const planned = plannedRun(ctx, name, cwd !== undefined ? { ...run, cwd } : run, program);
    if (planned) plannedRuns.push(planned);
  }
  if (selected.run.cmd === undefined || selected.run.cmd.length === 0) {
    ctx.errors.push(
      new OsvError({
        code: 'plan.no-cmd',
        message: `${selectedName === 'default' ? 'there is no cmd: nothing to run' : `run "${selectedName}" has no cmd`}${config.from ? `, and the image ${config.from.text} has no Entrypoint or Cmd` : ''}`,
        hint: `set ${runKey(selectedName)} to the program and its arguments`,
        ...(selected.run.source ? { source: selected.run.source } : {}),
      }),
    );
  }

  const { entries: planned, errors: layoutErrors } = ctx.table.finish();
  ctx.errors.push(...layoutErrors);
  checkProgramLinks(ctx, runs, programs, planned);
  const entries = fs.origin ? planned.map((e) => withOrigin(fs, e)) : planned;
  if (options.image) ctx.warnings.push(...options.image.notes.map((n) => `image ${config.from?.text ?? options.image!.plan.reference}, ${n}`));
  const run = plannedRuns.find((r) => r.name === selectedName);
  if (ctx.errors.length > 0 || !run) return err(new OsvErrors(ctx.errors.length > 0 ? ctx.errors : [new OsvError({ code: 'plan.no-cmd', message: 'no command line' })]));

  // The fstab mounts built-in file systems over parts of the tree at boot.
  ctx.warnings.push(...bootMountWarnings(entries, config.filesystem, config.image.mounts));
  if (config.image.size !== undefined && config.filesystem === 'rofs')
    ctx.warnings.push('image.size is ignored: it adds free space to a writable ext root, and a rofs image is always the size of its contents');
  ctx.warnings.push(...hiddenByVolumes(entries, runs));
  // A known runtime without its template's essentials fails at start: say so before it boots.
  const program = programs.get(selectedName);
  if (program !== undefined) ctx.warnings.push(...runtimeWarnings({ config, entries: new Map(entries.map((e) => [e.guest, e])), program, run: run.run }));

  const totals: PlanTotals = { files: 0, dirs: 0, symlinks: 0, bytes: 0, libraries: 0 };
  for (const e of entries) {
    if (e.kind === 'file') {
      totals.files++;
      totals.bytes += e.size;
      if (ctx.libraries.has(e.guest)) totals.libraries++;
    } else if (e.kind === 'dir') totals.dirs++;
    else totals.symlinks++;
  }
  const kernel = config.kernel;
  return ok({
    name: config.name,
    ...(options.image ? { image: options.image.plan } : {}),
    arch: config.arch,
    filesystem: config.filesystem,
    output: config.image.output,
    format: config.image.format,
    entries,
    kernel: {
      ...(kernel.version !== undefined ? { version: kernel.version } : {}),
      ...(kernel.path !== undefined ? { path: kernel.path } : {}),
      ...(kernel.sha256 !== undefined ? { sha256: kernel.sha256 } : {}),
      hiddenSymbols,
    },
    run,
    runs: plannedRuns,
    totals,
    kernelProvided: [...ctx.kernelProvided.values()].sort((a, b) => (a.soname < b.soname ? -1 : a.soname > b.soname ? 1 : 0)),
    warnings: ctx.warnings,
    secrets: config.secrets,
  });
}

/** A file from a container image names the image and the layer it comes from. */
function withOrigin(fs: HostFs, e: PlanEntry): PlanEntry {
  if (!isHostFile(e)) return e;
  const o = fs.origin!(e.host);
  if (!o) return e;
  return { ...e, origin: { image: o.image, digest: o.digest, layer: o.layer, layerDigest: o.layerDigest, path: o.path } };
}

/**
 * A sysroot that is not a directory (a file, a FIFO, a symlink loop, nothing): every lookup
 * inside it would fail, so it is the one error. Never opened, only stat'ed (a FIFO would block).
 */
function sysrootProblem(fs: HostFs, config: Config): OsvError | undefined {
  const what = sysrootNotDirectory(fs, config.sysroot);
  if (what === undefined) return undefined;
  const source = config.sources.get('sysroot');
  return new OsvError({
    code: 'plan.bad-sysroot',
    message: `sysroot: ${config.sysroot} ${what}; the sysroot must be a directory`,
    hint: "point sysroot at the root directory of a file tree (an unpacked root file system), or remove it to use this machine's /",
    ...(source ? { source } : {}),
  });
}

/** libgcc_s.so.1 as the sysroot's ld.so would find it (OSv's skeletons ship the host's copy). */
function findLibgcc(ctx: PlanContext): { host: string; stat: NonNullable<ReturnType<HostFs['stat']>> } | undefined {
  const r = ctx.resolve([{ soname: 'libgcc_s.so.1', optional: true }], { ...ctx.resolveOptions, optional: ['libgcc_s.so.1'] }, ctx.fs);
  const obj = r.ok ? r.value.objects.find((o) => o.soname === 'libgcc_s.so.1') : undefined;
  const st = obj ? ctx.fs.stat(obj.hostPath) : undefined;
  if (!obj || st?.kind !== 'file') {
    ctx.warnings.push(`libgcc_s.so.1 was not found in the sysroot (${ctx.config.sysroot}): it is not shipped, and C++ programs (unwinding, pthread_cancel) will fail to load`);
    return undefined;
  }
  return { host: obj.hostPath, stat: st };
}
