// The trace command's body: find the configuration and its plan, trace, print, and --write.

import * as fs from 'node:fs';
import { resolve } from 'node:path';
import { writeFileAtomic } from '../atomic.js';
import { OsvError, ExitCode } from '../diagnostics/error.js';
import { kernelSonames } from '../resolve/kernel-libraries.js';
import { escapeInterpolation } from '../config/interpolate.js';
import type { Arch } from '../config/types.js';
import type { TraceCliOptions } from '../cli/commands/trace.js';
import { REASONS } from './classify.js';
import { trace, type TraceReport } from './index.js';
import { renderReport } from './render.js';
import { addToConfig, type WriteGroup } from './write.js';
import { loadPlanned } from './config-plan.js';

const hostArch = (): Arch => (process.arch === 'arm64' ? 'aarch64' : 'x86_64');

/** Every string in a value escaped for osv.yaml's interpolation. */
function escapeStrings<T>(value: T): T {
  if (typeof value === 'string') return escapeInterpolation(value) as T;
  if (Array.isArray(value)) return value.map(escapeStrings) as T;
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, escapeStrings(v)])) as T;
  return value;
}

/** Group the findings that --write adds, one group per reason, in report order. */
export function writeGroups(report: TraceReport): WriteGroup[] {
  const groups = new Map<string, WriteGroup>();
  for (const f of report.findings) {
    if (!f.add) continue;
    const id = `${f.add.key}:${f.category}`;
    const g = groups.get(id) ?? { key: f.add.key, comment: `osv trace: ${REASONS[f.category]}`, values: [] };
    // Host paths are data: a file named cfg-${env:X}.conf must not be interpolated by osv.yaml.
    g.values.push(escapeStrings(f.add.value));
    groups.set(id, g);
  }
  return [...groups.values()];
}

export async function runTraceCommand(prog: string, args: string[], opts: TraceCliOptions): Promise<void> {
  const cwd = process.cwd();
  const planned = await loadPlanned(opts.config !== undefined ? resolve(cwd, opts.config) : undefined, cwd);
  if (opts.write && !planned.file) {
    throw new OsvError({
      code: 'trace.no-config',
      message: '--write needs a configuration file, and there is no osv.yaml here',
      hint: 'create one with `osv init` (or pass --config FILE), then run osv trace --write again',
      exitCode: ExitCode.usage,
    });
  }
  if (opts.write && planned.file && !/\.ya?ml$/.test(planned.file)) {
    throw new OsvError({
      code: 'trace.write-format',
      message: `--write edits YAML configuration files, and ${planned.file} is not one`,
      hint: 'add the entries the report lists by hand, or move the configuration to osv.yaml',
      exitCode: ExitCode.usage,
    });
  }
  if (planned.problem) process.stderr.write(`osv trace: ${planned.problem}; comparing with an empty plan\n`);
  const report = await trace({
    argv: [prog, ...args],
    cwd,
    ...(opts.duration !== undefined ? { duration: opts.duration } : {}),
    useStrace: opts.strace,
    stdout: opts.json ? 'stderr' : 'inherit',
    plan: planned.paths,
    kernelSonames: kernelSonames(planned.arch ?? hostArch(), planned.hiddenSymbols ?? false),
  });

  if (planned.sysroot) {
    report.notes.push(
      `${planned.file} takes files from the sysroot ${planned.sysroot}, but the program ran on this host: the paths above are this host's, and --write adds them as paths inside the sysroot`,
    );
  }

  const underTmp = report.findings.filter((f) => f.add && (f.path === '/tmp' || f.path.startsWith('/tmp/')));
  if (underTmp.length) {
    report.notes.push(
      `${underTmp.length} of the paths it used are under /tmp, where OSv mounts an empty ramfs on a rofs image: the guest would not see them there; copy them elsewhere (files: dest) and point the program at that path`,
    );
  }

  let wrote: { file: string; added: number; mode: string } | undefined;
  if (opts.write && planned.file) {
    const text = fs.readFileSync(planned.file, 'utf8');
    const result = addToConfig(text, writeGroups(report), planned.file);
    if (result.mode !== 'unchanged') {
      // Write beside the file and rename, so an interrupted write never leaves half a config.
      writeFileAtomic(planned.file, result.text, { mode: fs.statSync(planned.file).mode & 0o777 });
    }
    wrote = { file: planned.file, added: result.added.length, mode: result.mode };
  }

  if (opts.json) {
    process.stdout.write(
      JSON.stringify({ ok: true, ...report, plan: { file: planned.file ?? null, compared: planned.description }, ...(wrote ? { wrote } : {}) }, null, 2) + '\n',
    );
  } else {
    process.stdout.write(renderReport(report, { planSource: planned.description, ...(wrote ? { wrote } : {}) }));
  }
}

