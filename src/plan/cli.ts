// The actions of `osv plan`, `osv manifest` and `osv why`, imported lazily by src/cli/commands/.
// They load the configuration, plan, and print; errors are thrown for the CLI to render.

import * as fs from 'node:fs';
import { maskText } from '../secrets.js';
import * as path from 'node:path';
import { ExitCode, OsvError, OsvErrors } from '../diagnostics/error.js';
import type { Config } from '../config/types.js';
import type { KernelBundle } from '../kernel/types.js';
import { writeManifest } from '../manifest/write.js';
import { fileElfReadCache } from '../resolve/read-cache.js';
import { normalizeGuestPath } from './guest-path.js';
import { plan } from './index.js';
import { planJson, renderPlan, renderWhy, type KernelView } from './render.js';
import type { Plan, PlanEntry } from './types.js';
import { printLine, writeStderr } from '../output.js';
import type { HostFs } from '../hostfs.js';
import { checkReplaceable, makeDirs, writeFileAtomic } from '../atomic.js';

const out = printLine;

export interface PlanCommandOptions {
  config?: string;
  run?: string;
  json?: boolean;
  all?: boolean;
}

async function load(opts: { config?: string }): Promise<Config> {
  const { loadConfig } = await import('../config/index.js');
  const r = await loadConfig({ cwd: process.cwd(), ...(opts.config !== undefined ? { configFile: opts.config } : {}), env: process.env });
  if (!r.ok) throw r.error;
  return r.value;
}

/**
 * The kernel the build would use, if it is already on this machine: never downloads and never
 * writes osv.lock (planning has no side effects). Its libenviron.so then shows in the plan.
 */
async function localKernel(config: Config): Promise<KernelView> {
  const { resolveKernel } = await import('../kernel/resolve.js');
  const r = await resolveKernel({ kernel: config.kernel, arch: config.arch, filesystem: config.filesystem }, process.env, { offline: true });
  if (r.ok) return { bundle: r.value };
  if (config.kernel.path !== undefined || r.error.code !== 'kernel.download-failed') return { note: r.error.message };
  return { note: 'not downloaded yet: `osv build` fetches it' };
}

async function planFor(opts: { config?: string; run?: string }): Promise<{ plan: Plan; kernel: KernelView; fs?: HostFs }> {
  const loaded = await load(opts);
  const kernel = await localKernel(loaded);
  // The default kernel hides libstdc++: the plan ships it whether or not the kernel is here yet.
  const { defaultRelease, usesDefaultKernel } = await import('../kernel/default-release.js');
  const hidden = !kernel.bundle && usesDefaultKernel(loaded.kernel, process.env) && defaultRelease(loaded.arch)?.hiddenSymbols === true;
  const configured = hidden ? { ...loaded, kernel: { ...loaded.kernel, hiddenSymbols: true } } : loaded;
  // The OCI code (http, zlib, crypto, streams) loads only for a configuration with `from:`.
  const fromImage = configured.from ? await import('../tasks/from-image.js') : undefined;
  const image = fromImage ? await fromImage.imageForPlanning(configured, process.env) : undefined;
  const config = image?.config ?? configured;
  const elfReads = fileElfReadCache();
  const r = plan(config, { ...(opts.run !== undefined ? { run: opts.run } : {}), ...(kernel.bundle ? { kernel: kernel.bundle } : {}), env: process.env, ...(image ? { fs: image.fs, image: image.plan } : { elfReads }) });
  elfReads.flush();
  if (!r.ok) throw image && fromImage ? fromImage.withImageOrigins(r.error, image.fs) : r.error;
  return { plan: r.value, kernel, ...(image ? { fs: image.fs } : {}) };
}

export async function planCommand(opts: PlanCommandOptions): Promise<void> {
  const { plan: p, kernel, fs: hostFs } = await planFor(opts);
  // The symbol check's one-line summary (it reads the same files; a failure to check is said, not fatal).
  const { checkPlan } = await import('../check/index.js');
  const checked = checkPlan(p, kernel.bundle, hostFs);
  const symbols = checked.ok ? checked.value.summary : `not checked: ${checked.error.message}`;
  if (opts.json) out(JSON.stringify({ ...(planJson(p) as object), check: checked.ok ? { summary: checked.value.summary, totals: checked.value.totals } : { error: checked.error.message } }, null, 2));
  else out(renderPlan(p, { all: opts.all === true, kernel, symbols }));
}

export interface ManifestCommandOptions {
  config?: string;
  run?: string;
  output?: string;
  json?: boolean;
}

/**
 * Without -o the manifest goes to stdout and generated files (/etc/fstab, /etc/hosts) are listed
 * as comments. With -o FILE they are written to FILE.files/<guest path> and the manifest
 * names them by absolute path, so FILE works as OSv's append.manifest as it is.
 */
export async function manifestCommand(opts: ManifestCommandOptions): Promise<void> {
  if (opts.output === '') throw new OsvError({ code: 'manifest.no-output', message: '-o: an empty file name', hint: 'give the manifest file to write, e.g. -o append.manifest', exitCode: ExitCode.usage });
  const file = opts.output !== undefined ? path.resolve(opts.output) : undefined;
  // Checked before planning: a device or FIFO would be replaced (or block), FILE.files/ made beside it.
  if (file !== undefined) checkReplaceable(file);
  const { plan: p, fs: view } = await planFor(opts);
  const inlineDir = file !== undefined ? `${file}.files` : undefined;
  const w = writeManifest(p, { ...(inlineDir !== undefined ? { inlineDir } : {}), notes: [`boot command line: ${maskText(p.run.cmdline, p.secrets)}`] });
  if (!w.ok) throw w.error;
  const warnings = [...p.warnings, ...w.value.warnings];
  if (file !== undefined && inlineDir !== undefined) {
    try {
      // Like a shell redirection: the directory must exist (only FILE.files/ is created).
      if (!fs.statSync(path.dirname(file), { throwIfNoEntry: false })?.isDirectory()) throw new Error(`ENOENT: ${path.dirname(file)} is not a directory`);
      replaceInlineDir(inlineDir);
      for (const f of w.value.inline) {
        makeDirs(path.dirname(f.host));
        fs.writeFileSync(f.host, f.content instanceof Uint8Array ? f.content : view!.readFile(f.content.image));
      }
      writeFileAtomic(file, w.value.text);
    } catch (e) {
      if (e instanceof OsvError) throw e;
      throw new OsvError({ code: 'manifest.write', message: `cannot write ${file}: ${(e as Error).message}`, hint: 'check that the directory exists and is writable', exitCode: 3 });
    }
  }
  if (opts.json) {
    out(
      JSON.stringify(
        { ok: true, ...(file !== undefined ? { file } : { text: maskText(w.value.text, p.secrets) }), generated: w.value.inline.map((f) => ({ guest: f.guest, host: f.host })), cmdline: maskText(p.run.cmdline, p.secrets), warnings: warnings.map((x) => maskText(x, p.secrets)) },
        null,
        2,
      ),
    );
    return;
  }
  if (file === undefined) out(maskText(w.value.text, p.secrets));
  else writeStderr(`wrote ${file} (${p.entries.length} plan entries)${w.value.inline.length > 0 ? ` and ${w.value.inline.length} generated files in ${inlineDir}/` : ''}\n`);
  for (const warning of warnings) writeStderr(`warning: ${maskText(warning, p.secrets)}\n`);
}

/** Marks FILE.files/ as osv manifest's own: only such a directory is ever replaced. */
const INLINE_MARK = '.written-by-osv-manifest';

/** Empty FILE.files/ for a new manifest: only one an earlier `osv manifest -o` wrote; anything else there is refused, not deleted. */
function replaceInlineDir(dir: string): void {
  const st = fs.lstatSync(dir, { throwIfNoEntry: false });
  if (st && !(st.isDirectory() && fs.existsSync(path.join(dir, INLINE_MARK))))
    throw new OsvError({
      code: 'manifest.files-exists',
      message: `${dir} already exists and was not written by osv manifest; it holds the generated files, so osv would have to delete it`,
      hint: `remove it yourself if it can go, or write the manifest elsewhere (-o)`,
      exitCode: 1,
    });
  if (st) fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(dir, INLINE_MARK), 'This directory holds the files `osv manifest -o` generated; it is replaced by the next run.\n');
}

export interface WhyCommandOptions {
  config?: string;
  run?: string;
  json?: boolean;
}

export async function whyCommand(target: string, opts: WhyCommandOptions): Promise<void> {
  // An empty path printed " is not in the image" after a whole plan.
  if (target.trim() === '') throw new OsvError({ code: 'why.usage', message: `the path is ${target === '' ? 'empty' : 'blank'}`, hint: 'give a path in the image (/usr/lib/libssl.so.3) or a library name (libssl.so.3)', exitCode: ExitCode.usage });
  const { plan: p } = await planFor(opts);
  const entries = findEntries(p, target);
  if (entries.length > 0) {
    if (opts.json) out(JSON.stringify(entries.map((e) => (planJson({ ...p, entries: [e] }) as { entries: unknown[] }).entries[0]), null, 2));
    else out(entries.map(renderWhy).join('\n'));
    return;
  }
  const name = path.posix.basename(target);
  const provided = p.kernelProvided.find((k) => k.soname === name);
  if (provided) {
    const text = `${target} is not in the image: ${provided.soname} is provided by the OSv kernel (needed by ${provided.chain.slice(0, -1).join(' -> ') || 'a root'})`;
    if (opts.json) out(JSON.stringify({ guest: target, inImage: false, providedByKernel: provided }, null, 2));
    else out(text);
    return;
  }
  const near = p.entries.filter((e) => path.posix.basename(e.guest).includes(name) || e.guest.includes(target)).slice(0, 5);
  throw new OsvErrors([
    new OsvError({
      code: 'why.not-found',
      message: `${target} is not in the image`,
      ...(near.length > 0 ? { details: ['similar paths:', ...near.map((e) => `  ${e.guest}`)] } : {}),
      hint: 'run `osv plan --all` to list every path',
    }),
  ]);
}

/** A guest path, or a bare file name (every entry with that name). */
function findEntries(p: Plan, target: string): PlanEntry[] {
  if (target.startsWith('/')) {
    const n = normalizeGuestPath(target);
    const e = n.ok ? p.entries.find((x) => x.guest === n.path) : undefined;
    return e ? [e] : [];
  }
  return p.entries.filter((e) => path.posix.basename(e.guest) === target);
}
