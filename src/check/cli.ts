// The action of `osv check`, imported lazily by src/cli/commands/check.ts: load the
// configuration, find the kernel (never downloading), plan, check, print. Exit 1 on errors.

import { ExitCode } from '../diagnostics/error.js';
import type { KernelBundle } from '../kernel/types.js';
import type { CheckReport } from './types.js';
import { printLine } from '../output.js';

export interface CheckCommandOptions {
  config?: string;
  run?: string;
  json?: boolean;
  verbose?: boolean;
  /** A kernel file or build directory, instead of the configured one. */
  kernel?: string;
}

const out = printLine;

/** The report without its function, as `--json` prints it. */
export function checkJson(r: CheckReport): Record<string, unknown> {
  const { symbolOwner: _owner, ...data } = r;
  return data;
}

export async function checkCommand(opts: CheckCommandOptions): Promise<void> {
  const { loadConfig } = await import('../config/index.js');
  const loaded = await loadConfig({ cwd: process.cwd(), ...(opts.config !== undefined ? { configFile: opts.config } : {}), env: process.env });
  if (!loaded.ok) throw loaded.error;
  const config = loaded.value;

  // The kernel as the build would use it, if it is on this machine: OSV_KERNEL, --kernel,
  // kernel.path, or an already downloaded kernel.version. Never downloads, never locks.
  const { resolveKernel } = await import('../kernel/resolve.js');
  const env = opts.kernel !== undefined ? { ...process.env, OSV_KERNEL: opts.kernel } : process.env;
  const k = await resolveKernel({ kernel: config.kernel, arch: config.arch }, env, { offline: true, ...(opts.kernel !== undefined ? { overrideFrom: '--kernel' } : {}) });
  if (!k.ok && (opts.kernel !== undefined || config.kernel.path !== undefined || process.env['OSV_KERNEL'])) throw k.error; // a kernel was named but is wrong
  const kernel: KernelBundle | undefined = k.ok ? k.value : undefined;

  const { plan } = await import('../plan/index.js');
  // The OCI code (http, zlib, crypto, streams) loads only for a configuration with `from:`.
  const image = config.from ? await (await import('../tasks/from-image.js')).imageForPlanning(config, process.env) : undefined;
  const { fileElfReadCache } = await import('../resolve/read-cache.js');
  const elfReads = fileElfReadCache();
  const p = plan(image?.config ?? config, { ...(opts.run !== undefined ? { run: opts.run } : {}), ...(kernel ? { kernel } : {}), env: process.env, ...(image ? { fs: image.fs, image: image.plan } : { elfReads }) });
  elfReads.flush();
  if (!p.ok) throw p.error;

  const { checkPlan } = await import('./check.js');
  const noKernelReason = k.ok ? undefined : config.kernel.version !== undefined ? `kernel ${config.kernel.version} is not downloaded yet: \`osv kernel pull\` fetches it` : 'no kernel is configured; set kernel.path or kernel.version, or OSV_KERNEL, or pass --kernel';
  const r = checkPlan(p.value, kernel, image?.fs, noKernelReason !== undefined ? { noKernelReason } : {});
  if (!r.ok) throw r.error;
  const report = r.value;

  if (opts.json) out(JSON.stringify(checkJson(report), null, 2));
  else {
    const { renderCheck } = await import('./render.js');
    const { red, yellow, dim } = await import('../cli/render.js');
    out(renderCheck(report, { verbose: opts.verbose === true, red, yellow, dim }));
  }
  if (!report.ok) process.exitCode = ExitCode.invalidInput;
}
