// The actions of `osv kernel pull|list|path|rm`, imported lazily by src/cli/commands/kernel.ts.
// They print data to stdout and throw OsvError(s), which the CLI renders.

import { ExitCode, OsvError } from '../diagnostics/error.js';
import type { Arch, Config } from '../config/types.js';
import { listCached, pullKernel, readCached, removeCached, type CachedKernel } from './store.js';
import { resolveKernel } from './resolve.js';
import { lockFor } from './release-kernel.js';
import { readLock, writeLock } from './lock.js';
import { parseVersion } from './releases.js';
import { kernelsDir } from './cache.js';
import { printLine } from '../output.js';
import { defaultRelease } from './default-release.js';
import { downloadProgress } from './progress.js';

const out = printLine;
const json = (v: unknown): void => out(JSON.stringify(v, null, 2));

interface ProjectOpts {
  config?: string;
}

/** The project's configuration when there is one (undefined outside a project). */
async function projectConfig(opts: ProjectOpts, required: boolean): Promise<Config | undefined> {
  const { findConfigFile, loadConfig } = await import('../config/load.js');
  const cwd = process.cwd();
  const found = await findConfigFile({ cwd, ...(opts.config !== undefined ? { configFile: opts.config } : {}) });
  if (!found.ok) {
    if (required || opts.config !== undefined) throw found.error;
    return undefined;
  }
  const c = await loadConfig({ cwd, configFile: found.value });
  if (!c.ok) throw c.error;
  return c.value;
}

function describe(c: CachedKernel): Record<string, unknown> {
  return {
    version: c.version,
    arch: c.arch,
    ...(c.tag ? { tag: c.tag } : {}),
    ...(c.repo ? { repo: c.repo } : {}),
    dir: c.dir,
    files: Object.fromEntries(
      Object.entries(c.files).map(([role, f]) => [role, { path: f.path, sha256: f.sha256, ...(f.asset ? { asset: f.asset } : {}) }]),
    ),
  };
}

export interface PullOptions extends ProjectOpts {
  arch?: string;
  hidden?: boolean;
  json?: boolean;
}

function archOf(v: string | undefined, fallback: Arch): Arch {
  if (v === undefined) return fallback;
  if (v === 'x86_64' || v === 'aarch64') return v;
  throw new OsvError({ code: 'usage.arch', message: `--arch ${v}: use x86_64 or aarch64`, exitCode: ExitCode.usage });
}

export async function pullCommand(version: string | undefined, opts: PullOptions): Promise<void> {
  const config = await projectConfig(opts, false);
  const arch = archOf(opts.arch, config?.arch ?? 'x86_64');
  // The kernel the project builds with: its kernel.version, else osv-up's default release.
  const projectVersion = config?.kernel.path === undefined ? (config?.kernel.version ?? defaultRelease(arch)?.version) : undefined;
  const v = version ?? projectVersion ?? 'latest';
  const ref = parseVersion(v);
  if (!ref.ok) throw ref.error;
  const hidden = opts.hidden ?? config?.kernel.hiddenSymbols ?? false;
  const progress = opts.json ? undefined : downloadProgress(process.stderr, process.stderr.isTTY === true);
  const r = await pullKernel({ version: v, arch, hiddenSymbols: hidden, ...(progress ? { onProgress: progress.onProgress } : {}) });
  progress?.done();
  if (!r.ok) throw r.error;
  // Pulling the project's kernel is an explicit choice: pin it.
  let lock: string | undefined;
  // What the pin was, to show what it becomes: a re-pin is a change to review before committing.
  const repinned: Array<{ role: string; from: string | null; to: string }> = [];
  if (config && projectVersion === v && arch === config.arch) {
    const before = readLock(config.dir);
    const old = before.ok ? before.value.kernel : undefined;
    const next = lockFor(r.value, v, ref.value.repo);
    for (const [role, f] of Object.entries(next.files)) {
      const was = old?.files[role as keyof typeof old.files]?.sha256 ?? null;
      if (was !== f.sha256) repinned.push({ role, from: was, to: f.sha256 });
    }
    const w = writeLock(config.dir, next);
    if (!w.ok) throw w.error;
    lock = w.value;
  }
  if (opts.json) return json({ ok: true, kernel: describe(r.value), ...(lock ? { lock, repinned } : {}) });
  out(`pulled OSv ${v}${r.value.tag && r.value.tag !== v ? ` (${r.value.tag})` : ''} for ${arch} into ${r.value.dir}`);
  for (const [role, f] of Object.entries(r.value.files)) out(`  ${role.padEnd(4)} ${f.path}  sha256 ${f.sha256}${f.asset ? `  (${f.asset})` : ''}`);
  if (lock) {
    out(`pinned in ${lock}${repinned.length ? '' : ' (unchanged)'}`);
    for (const c of repinned) out(`  ${c.role.padEnd(4)} sha256 ${c.from ?? '(not pinned)'} -> ${c.to}`);
  }
}

export async function listCommand(opts: { json?: boolean }): Promise<void> {
  const all = listCached();
  if (opts.json) return json({ ok: true, dir: kernelsDir(), kernels: all.map(describe) });
  if (!all.length) return out(`no kernels in ${kernelsDir()} (download one with \`osv kernel pull [VERSION]\`)`);
  for (const c of all) {
    out(`${c.version} ${c.arch}${c.tag && c.tag !== c.version ? ` (${c.tag})` : ''}  ${c.dir}`);
    for (const [role, f] of Object.entries(c.files)) out(`  ${role.padEnd(4)} sha256 ${f.sha256}${f.asset ? `  ${f.asset}` : '  (placed by hand)'}`);
  }
}

export async function pathCommand(opts: ProjectOpts & { json?: boolean; offline?: boolean }): Promise<void> {
  const config = process.env['OSV_KERNEL'] ? await projectConfig(opts, false) : await projectConfig(opts, true);
  const choice = config ?? { kernel: { hiddenSymbols: false }, arch: 'x86_64' as Arch };
  const r = await resolveKernel(choice, process.env, { offline: opts.offline ?? false });
  if (!r.ok) throw r.error;
  const b = r.value;
  if (opts.json) return json({ ok: true, kernel: b });
  if (b.elf) out(b.elf);
  if (b.img) out(b.img);
  if (b.libenviron) out(b.libenviron);
  if (b.ext) out(`${b.ext.libext}\n${b.ext.liblwext4}`);
  process.stderr.write(`origin: ${b.origin}${b.version ? ` ${b.version}` : ''}${b.tag && b.tag !== b.version ? ` (${b.tag})` : ''}; sha256 ${b.sha256}\n`);
  if (b.note) process.stderr.write(`note: ${b.note}\n`);
}

export async function rmCommand(version: string | undefined, opts: { all?: boolean; json?: boolean }): Promise<void> {
  if (!version && !opts.all)
    throw new OsvError({ code: 'usage.kernel-rm', message: 'name a version to remove, or pass --all', hint: 'see `osv kernel list`', exitCode: ExitCode.usage });
  if (version !== undefined) {
    const ref = parseVersion(version);
    if (!ref.ok) throw new OsvError({ code: 'usage.kernel-rm', message: `${JSON.stringify(version)} is not a kernel version`, hint: 'name one that `osv kernel list` shows, or pass --all', exitCode: ExitCode.usage });
  }
  const versions = version ? [version] : [...new Set(listCached().map((c) => c.version))];
  const removed = versions.flatMap((v) => removeCached(v));
  if (version && !removed.length && !readCached(version, 'x86_64'))
    throw new OsvError({ code: 'kernel.not-cached', message: `kernel ${version} is not in the cache (${kernelsDir()})`, hint: 'see `osv kernel list`', exitCode: ExitCode.invalidInput });
  if (opts.json) return json({ ok: true, removed });
  for (const d of removed) out(`removed ${d}`);
  if (!removed.length) out('nothing to remove');
}
