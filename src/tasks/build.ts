// `osv build` as listr2 tasks: kernel, plan, check, image (filesystem + disk + convert). The
// planning core stays pure; this is where files get written. An unchanged build is detected
// before any planning: the last build's record lists every host path the planner looked at.

import { readFileSync, statSync, type Stats } from 'node:fs';
import { checkReplaceable, ensureOwnDir } from '../atomic.js';
import { dirname, join, relative, resolve } from 'node:path';
import type { ListrTask } from 'listr2';
import type { Config, FilesystemKind, ImageFormat, ImageOutput } from '../config/types.js';
import { ExitCode, OsvError } from '../diagnostics/error.js';
import type { Result } from '../diagnostics/result.js';
import { fileProblem, nodeHostFs, type HostFs } from '../hostfs.js';
import { IMAGE_ROOT } from '../config/types.js';
import type { ImageChoice, PreparedImage } from './from-image.js';
import type { KernelBundle } from '../kernel/types.js';
import type { DownloadProgress } from '../kernel/progress.js';
import type { Plan, PlannedRun } from '../plan/types.js';
import type { CheckReport } from '../check/types.js';
import type { ImageEntry } from '../image/entries.js';
import { buildKey, staleReason, writeRecord, type BuildRecord } from './build-cache.js';
import { RECORD_VERSION, recordedRunFor, useRun, type RecordedRun } from '../image/record.js';
import { RecordingHostFs } from './fingerprint.js';
import { recordingEnv } from './noop.js';
import { progressReporter, type Reporter } from './report.js';
import { formatBytes } from '../units.js';
import { toolVersion } from '../version.js';

export type KernelResolver = (config: Config, env: NodeJS.ProcessEnv, onProgress?: DownloadProgress) => Promise<Result<KernelBundle, OsvError>>;
export type PlanChecker = (plan: Plan, kernel: KernelBundle, fs?: HostFs) => Result<CheckReport, OsvError>;

export interface BuildOptions {
  config: Config;
  /** A named run (its command line goes into a bootable image). */
  run?: string;
  output?: ImageOutput;
  format?: ImageFormat;
  /** Where the image goes; default .osv/<name>.<img|qcow2> in the project. */
  outPath?: string;
  /** Skip the symbol check. */
  noCheck?: boolean;
  /** Rebuild even when nothing changed. */
  force?: boolean;
  /** Plan and check even when the image is up to date (CI wants the check's verdict). */
  alwaysCheck?: boolean;
  /** `from:` must be in osv.lock (CI): never resolve a tag. */
  locked?: boolean;
  env: NodeJS.ProcessEnv;
  reporter?: Reporter;
  resolveKernel: KernelResolver;
  checkPlan?: PlanChecker;
  signal?: AbortSignal;
}

export interface BuildOutcome {
  image: string;
  output: ImageOutput;
  format: ImageFormat;
  filesystem: FilesystemKind;
  /** The project (its configuration file and directory). */
  project: BuildRecord['project'];
  cmdline: string;
  kernel: KernelBundle;
  upToDate: boolean;
  /** Why it was rebuilt. */
  reason?: string;
  totals: BuildRecord['totals'];
  plan?: Plan;
  check?: CheckReport;
  /** Found up to date from the build records alone, without loading the configuration. */
  fromRecords?: boolean;
  /** The build key of the image (its record's key). */
  key: string;
  /** With `from:`: the image's ExposedPorts (`osv up -P` forwards them). */
  exposedPorts?: string[];
  ms: number;
  /** Values to mask in what is printed (src/secrets.ts); never printed themselves. */
  secrets: string[];
}

/** The project's .osv/ directory, made if missing; a project directory that cannot be written to is said so. */
function projectOsvDir(dir: string, name: string, format: ImageFormat): void {
  try {
    ensureOwnDir(dir);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'EACCES' && code !== 'EPERM' && code !== 'EROFS') throw e;
    const project = dirname(dir);
    throw new OsvError({
      code: 'build.project-not-writable',
      message: `cannot create ${dir}, where the image goes by default: the project directory ${project} is ${code === 'EROFS' ? 'on a read-only file system' : 'not writable'} (${code})`,
      hint: `make ${project} writable, or write the image to a writable directory: -o DIR/${name}.${format === 'qcow2' ? 'qcow2' : 'img'}`,
      exitCode: ExitCode.invalidInput,
    });
  }
}

export function defaultImagePath(config: Config, format: ImageFormat, output: ImageOutput, run: string): string {
  const suffix = output === 'bootable' && run !== 'default' ? `.${run}` : '';
  return join(config.dir, '.osv', `${config.name}${suffix}.${format === 'qcow2' ? 'qcow2' : 'img'}`);
}

function readTexts(files: string[]): string[] {
  return files.map((f) => {
    try {
      return readFileSync(f, 'utf8');
    } catch {
      return `missing:${f}`;
    }
  });
}

interface Ctx {
  kernel?: KernelBundle;
  /** `from:`: the digest built from, and the opened image. */
  choice?: ImageChoice;
  prepared?: PreparedImage;
  key?: string;
  plan?: Plan;
  observations?: BuildRecord['observations'];
  envReads?: BuildRecord['env'];
  upToDate?: BuildRecord;
  reason?: string;
  check?: CheckReport;
}

/**
 * What is at the image's path, following links. A loop of links is nothing (the rename replaces
 * the link); a path that cannot name a file (a name too long, a file as a directory) is a usage
 * error, said before any work.
 */
function outputStat(image: string): Stats | undefined {
  try {
    return statSync(image, { throwIfNoEntry: false });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ELOOP') return undefined;
    throw new OsvError({ code: 'build.bad-output', message: `the image path ${image} ${fileProblem(e)}`, hint: 'give another output path (-o FILE)', exitCode: ExitCode.usage });
  }
}

export async function build(opts: BuildOptions): Promise<BuildOutcome> {
  const started = performance.now();
  const { config } = opts;
  const output = opts.output ?? config.image.output;
  const format = opts.format ?? config.image.format;
  const runName = opts.run ?? 'default';
  const image = opts.outPath ?? defaultImagePath(config, format, output, runName);
  const reporter = opts.reporter ?? progressReporter('plain');
  const ctx: Ctx = {};
  // Said before anything is planned or written (the rename at the end failed with EISDIR).
  if (outputStat(image)?.isDirectory()) {
    throw new OsvError({ code: 'build.output-is-dir', message: `${image} is a directory: the image is written to a file of that name`, hint: `give a file name, e.g. -o ${join(image, `${config.name}.${format === 'qcow2' ? 'qcow2' : 'img'}`)}`, exitCode: ExitCode.usage });
  }
  // A device, FIFO or socket there would be replaced by the image (and its record written beside it).
  checkReplaceable(image);

  // The kernel and the up-to-date check come first, outside the task list: a no-op build ends
  // here, without loading the task runner at all.
  // A release not in the cache yet (the default kernel on a first `osv up`) is downloaded here.
  const download = reporter.download?.();
  const k = await opts.resolveKernel(config, opts.env, download?.onProgress).finally(() => download?.done());
  if (!k.ok) throw k.error;
  const kernel = k.value;
  ctx.kernel = kernel;
  const kernelTitle = `Kernel: ${kernel.elf ?? kernel.img} (${kernel.origin}${kernel.version ? ` ${kernel.version}` : ''})${kernel.note ? `; ${kernel.note}` : ''}`;
  // The image's digest, from osv.lock (no network) or resolved now and locked: it is part of the key.
  if (config.from) {
    const { chooseImage } = await import('./from-image.js');
    ctx.choice = await chooseImage(config, { env: opts.env, writeLock: true, ...(opts.locked ? { locked: true } : {}), ...(opts.signal ? { signal: opts.signal } : {}) });
  }
  // A `disk` image is the same for every run (each run's program is in it; the command line goes
  // to the hypervisor), so only a bootable image, which carries its command line, is per run.
  const keyRun = output === 'bootable' ? runName : '';
  ctx.key = buildKey({ config, kernel, run: keyRun, output, format, toolVersion: toolVersion(), configTexts: readTexts(config.loadedFiles), ...(ctx.choice ? { image: ctx.choice.digest } : {}) });
  let needsCheck = false;
  if (!opts.force) {
    const s = staleReason(image, ctx.key, opts.env);
    if (!('record' in s)) ctx.reason = s.reason;
    else {
      const run = recordedRunFor(s.record, runName, output);
      // The same configuration without this run's command line: plan it again (and fail there).
      if (!run) ctx.reason = `the run "${runName}" is not in the last build`;
      else {
        ctx.upToDate = s.record;
        // One disk image serves every run, but the symbol check is strict only for the run it
        // was built for: check this one before it boots (the image itself is not rewritten).
        needsCheck = !run.checked && !opts.noCheck && opts.checkPlan !== undefined;
      }
    }
  } else ctx.reason = 'forced (--force)';
  reporter.emit({ event: 'task', task: 'Kernel', status: 'done', title: kernelTitle });

  if (ctx.upToDate && !opts.alwaysCheck && !needsCheck) {
    ctx.upToDate = useRun(image, ctx.upToDate, runName);
    reporter.emit({ event: 'task', task: 'Image', status: 'skipped', reason: `up to date: ${rel(config.dir, image)}` });
    return outcome(ctx, { image, output, format, filesystem: config.filesystem, project: { dir: config.dir, config: config.file }, started, runName });
  }

  const { Listr } = await import('listr2');
  const pull = ctx.choice ? [(await import('./pull-task.js')).pullTask<Ctx>(config, ctx.choice, { env: opts.env, reporter, ...(opts.signal ? { signal: opts.signal } : {}) }, (c, p) => (c.prepared = p))] : [];
  const tasks: ListrTask<Ctx>[] = [
    { title: kernelTitle, task: () => undefined },
    ...pull,
    {
      title: 'Plan',
      task: async (c, task) => {
        const { plan } = await import('../plan/index.js');
        // An image's files are not recorded one by one: its digest is in the build key.
        const rec = new RecordingHostFs(c.prepared?.fs ?? nodeHostFs, c.prepared ? IMAGE_ROOT : undefined);
        const env = recordingEnv(opts.env);
        const p = plan(c.prepared?.config ?? config, { run: runName, kernel: c.kernel!, fs: rec, env: env.env, ...(c.prepared ? { image: c.prepared.plan } : {}) });
        if (!p.ok) throw c.prepared ? (await import('./from-image.js')).withImageOrigins(p.error, c.prepared.fs) : p.error;
        c.plan = p.value;
        c.observations = rec.observations();
        // An enumerated environment cannot be summarised: record a variable that never matches.
        c.envReads = env.read() ?? [['\0enumerated', String(Date.now())]];
        const t = p.value.totals;
        task.title = `Plan: ${t.files} files, ${t.libraries} libraries, ${formatBytes(t.bytes)}`;
      },
    },
    {
      title: 'Check symbols',
      skip: (c) => (!c.plan ? 'up to date' : opts.noCheck ? 'skipped (--no-check)' : !opts.checkPlan ? 'not available' : false),
      task: async (c, task) => {
        const r = opts.checkPlan!(c.plan!, c.kernel!, c.prepared?.fs);
        if (!r.ok) throw r.error;
        c.check = r.value;
        task.title = `Check: ${r.value.summary}`;
        const { checkError } = await import('../check/refusal.js');
        const refusal = checkError(r.value);
        if (refusal) throw refusal;
      },
    },
    {
      title: 'Image',
      skip: (c) => (c.upToDate ? `up to date: ${rel(config.dir, image)}` : false),
      task: async (c, task) => {
        const { composeDisk } = await import('../image/disk.js');
        const plan = c.plan!;
        // The project's .osv/ only for an image that goes there: with -o elsewhere, the image and its record go there.
        const osvDir = join(config.dir, '.osv');
        if (resolve(dirname(image)) === resolve(osvDir)) projectOsvDir(osvDir, config.name, format);
        const kind = config.filesystem;
        const total = plan.totals.bytes;
        const r = await composeDisk({
          outPath: image,
          layout: output,
          format,
          fs: kind === 'ext' ? { kind: 'ext', entries: imageEntries(plan, c.prepared), ...(config.image.size ? { freeBytes: config.image.size } : {}) } : { kind: 'rofs', entries: imageEntries(plan, c.prepared) },
          cmdline: plan.run.cmdline,
          ...(c.kernel!.img ? { loaderImg: c.kernel!.img } : {}),
          onProgress: (done: number) => {
            // The plan counts file bytes; the image adds padding and tables, so the total grows to meet it.
            const of = Math.max(total, done);
            task.output = `${formatBytes(done)} / ${formatBytes(of)}`;
            reporter.progress?.(done, of);
          },
          ...(opts.signal ? { signal: opts.signal } : {}),
        });
        if (!r.ok) throw r.error;
        task.title = `Image: ${rel(config.dir, r.value.path)} (${output}, ${format}, ${formatBytes(r.value.bytes)})`;
        const st = statSync(r.value.path);
        writeRecord(image, {
          version: RECORD_VERSION,
          key: c.key!,
          observations: c.observations!,
          env: c.envReads!,
          image: { path: image, size: st.size, mtimeMs: st.mtimeMs },
          cmdline: plan.run.cmdline,
          run: plan.run.name,
          runs: plan.runs.map((r) => recordedRun(r, r.name === plan.run.name && c.check !== undefined)),
          arch: config.arch,
          project: { dir: config.dir, config: config.file },
          filesystem: config.filesystem,
          kernel: c.kernel!,
          totals: { files: plan.totals.files, bytes: plan.totals.bytes, libraries: plan.totals.libraries },
          ...(plan.image ? { from: { reference: plan.image.reference, digest: plan.image.digest, exposedPorts: plan.image.exposedPorts } } : {}),
          secrets: plan.secrets,
        });
      },
    },
  ];

  await new Listr<Ctx>(withEvents(tasks, reporter), {
    ctx,
    exitOnError: true,
    registerSignalListeners: false,
    ...reporter.listrOptions,
  }).run();

  // An up-to-date image: this run is now the current one, and checked if the check ran.
  if (ctx.upToDate) ctx.upToDate = useRun(image, ctx.upToDate, runName, ctx.check !== undefined);

  return outcome(ctx, { image, output, format, filesystem: config.filesystem, project: { dir: config.dir, config: config.file }, started, runName });
}

/** The plan's entries for the image writers: a file from a container image is read from its cached layer. */
function imageEntries(plan: Plan, prepared: PreparedImage | undefined): Plan['entries'] | ImageEntry[] {
  if (!prepared) return plan.entries;
  return plan.entries.map((e): ImageEntry => {
    if (e.kind !== 'file' || e.content !== undefined || !e.origin) return e;
    const d = prepared.fs.origin!(e.host)!;
    return { kind: 'file', guest: e.guest, host: d.file, offset: d.offset, size: e.size, mtimeMs: d.mtimeMs, ...(e.mode !== undefined ? { mode: e.mode } : {}) };
  });
}

/** A planned run as the record keeps it: no source positions, no kernel options (they are in the command line). */
function recordedRun(r: PlannedRun, checked: boolean): RecordedRun {
  const { kernelArgs: _kernelArgs, ...settings } = r.run.run;
  const plain = JSON.parse(JSON.stringify(settings, (k, v: unknown) => (k === 'source' ? undefined : v))) as RecordedRun['settings'];
  return { name: r.name, cmdline: r.cmdline, settings: plain, ...(checked ? { checked: true } : {}) };
}

function outcome(ctx: Ctx, o: { image: string; output: ImageOutput; format: ImageFormat; filesystem: FilesystemKind; project: BuildRecord['project']; started: number; runName: string }): BuildOutcome {
  const rec = ctx.upToDate;
  const plan = ctx.plan;
  return {
    image: o.image,
    output: o.output,
    format: o.format,
    filesystem: o.filesystem,
    project: o.project,
    // Up to date only when the record holds this run (see build()).
    cmdline: rec ? recordedRunFor(rec, o.runName, o.output)!.cmdline : plan!.run.cmdline,
    kernel: ctx.kernel!,
    key: ctx.key!,
    upToDate: Boolean(rec),
    ...(ctx.reason && !rec ? { reason: ctx.reason } : {}),
    totals: rec ? rec.totals : { files: plan!.totals.files, bytes: plan!.totals.bytes, libraries: plan!.totals.libraries },
    ...((rec?.from ?? plan?.image) ? { exposedPorts: (rec?.from ?? plan!.image!).exposedPorts } : {}),
    ...(plan ? { plan } : {}),
    ...(ctx.check ? { check: ctx.check } : {}),
    ms: Math.round(performance.now() - o.started),
    secrets: rec ? (rec.secrets ?? []) : plan!.secrets,
  };
}

/** JSON mode: every task start, skip and end becomes an event. */
function withEvents(tasks: ListrTask<Ctx>[], reporter: Reporter): ListrTask<Ctx>[] {
  if (reporter.mode !== 'json') return tasks;
  return tasks.map((t) => {
    const name = String(t.title);
    return {
      ...t,
      skip: (c: Ctx) => {
        const s = typeof t.skip === 'function' ? (t.skip as (c: Ctx) => string | boolean)(c) : t.skip;
        if (s) reporter.emit({ event: 'task', task: name, status: 'skipped', reason: s === true ? undefined : s });
        return s ?? false;
      },
      task: async (c, task) => {
        const t0 = performance.now();
        reporter.emit({ event: 'task', task: name, status: 'started' });
        const r = await (t.task as (c: Ctx, task: unknown) => Promise<void>)(c, task);
        reporter.emit({ event: 'task', task: name, status: 'done', title: task.title, ms: Math.round(performance.now() - t0) });
        return r;
      },
    } as ListrTask<Ctx>;
  });
}

const rel = (dir: string, p: string): string => {
  const r = relative(dir, p);
  return r.startsWith('..') ? p : r;
};

