// The actions of `osv kernel pull|list|path|rm`, imported lazily by src/cli/commands/kernel.ts.
// They print data to stdout and throw OsvError(s), which the CLI renders.

import { ExitCode, OsvError } from '../diagnostics/error.js';
import type { Arch, Config } from '../config/types.js';
import { listCached, pullKernel, readCached, removeCached, type CachedKernel } from './store.js';
import { resolveKernel } from './resolve.js';
import { lockFor } from './release-kernel.js';
import { writeLock } from './lock.js';
import { parseVersion } from './releases.js';
import { kernelsDir } from './cache.js';

const out = (s: string): void => void process.stdout.write(s.endsWith('\n') ? s : s + '\n');
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
  const v = version ?? config?.kernel.version ?? 'latest';
  const ref = parseVersion(v);
  if (!ref.ok) throw ref.error;
  const arch = archOf(opts.arch, config?.arch ?? 'x86_64');
  const hidden = opts.hidden ?? config?.kernel.hiddenSymbols ?? false;
  const tty = !opts.json && process.stderr.isTTY;
  const r = await pullKernel({
    version: v,
    arch,
    hiddenSymbols: hidden,
    ...(tty
      ? { onProgress: (b: number, t: number | undefined, asset: string) => process.stderr.write(`\r${asset}: ${(b / 1e6).toFixed(1)}${t ? ` / ${(t / 1e6).toFixed(1)}` : ''} MB   `) }
      : {}),
  });
  if (tty) process.stderr.write('\n');
  if (!r.ok) throw r.error;
  // Pulling the project's configured version is an explicit choice: pin it.
  let lock: string | undefined;
  if (config && config.kernel.version === v && arch === config.arch) {
    const w = writeLock(config.dir, lockFor(r.value, v, ref.value.repo));
    if (!w.ok) throw w.error;
    lock = w.value;
  }
  if (opts.json) return json({ ok: true, kernel: describe(r.value), ...(lock ? { lock } : {}) });
  out(`pulled OSv ${v}${r.value.tag && r.value.tag !== v ? ` (${r.value.tag})` : ''} for ${arch} into ${r.value.dir}`);
  for (const [role, f] of Object.entries(r.value.files)) out(`  ${role.padEnd(4)} ${f.path}  sha256 ${f.sha256}${f.asset ? `  (${f.asset})` : ''}`);
  if (lock) out(`pinned in ${lock}`);
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
}

export async function rmCommand(version: string | undefined, opts: { all?: boolean; json?: boolean }): Promise<void> {
  if (!version && !opts.all)
    throw new OsvError({ code: 'usage.kernel-rm', message: 'name a version to remove, or pass --all', hint: 'see `osv kernel list`', exitCode: ExitCode.usage });
  const versions = version ? [version] : [...new Set(listCached().map((c) => c.version))];
  const removed = versions.flatMap((v) => removeCached(v));
  if (version && !removed.length && !readCached(version, 'x86_64'))
    throw new OsvError({ code: 'kernel.not-cached', message: `kernel ${version} is not in the cache (${kernelsDir()})`, hint: 'see `osv kernel list`', exitCode: ExitCode.invalidInput });
  if (opts.json) return json({ ok: true, removed });
  for (const d of removed) out(`removed ${d}`);
  if (!removed.length) out('nothing to remove');
}
