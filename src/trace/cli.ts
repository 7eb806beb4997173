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
import { addToConfig, type WriteGroup, type WriteResult } from './write.js';
import { KIND_NAMES, treeDirOf, type TreeKind } from './group.js';
import { nodeHostFs, type HostFs } from '../hostfs.js';
import { posix } from 'node:path';
import { loadPlanned } from './config-plan.js';

const hostArch = (): Arch => (process.arch === 'arm64' ? 'aarch64' : 'x86_64');

/** Every string in a value escaped for osv.yaml's interpolation. */
function escapeStrings<T>(value: T): T {
  if (typeof value === 'string') return escapeInterpolation(value) as T;
  if (Array.isArray(value)) return value.map(escapeStrings) as T;
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, escapeStrings(v)])) as T;
  return value;
}

export interface WritePlan {
  groups: WriteGroup[];
  /** Which kind of entry each value is, for the summary: a tree kind, or the finding's category. */
  labels: Map<WriteGroup['values'][number], string>;
}

/**
 * What --write adds, as a person would write it: every file inside a Python package, node module
 * or locale directory becomes one tree entry for that directory (treeDirOf), one group per kind;
 * the rest stay single entries, one group per reason, in report order.
 */
export function writeGroups(report: TraceReport, fs: HostFs = nodeHostFs): WritePlan {
  const trees = new Map<TreeKind, Set<string>>();
  const singles = new Map<string, WriteGroup>();
  const labels: WritePlan['labels'] = new Map();
  for (const f of report.findings) {
    if (!f.add) continue;
    const inTree = f.kind !== 'library' || f.category === 'python-extension' ? treeDirOf(fs, f.path, f.kind === 'directory') : undefined;
    if (inTree) {
      trees.set(inTree.kind, (trees.get(inTree.kind) ?? new Set()).add(inTree.dir));
      continue;
    }
    const id = `${f.add.key}:${f.category}`;
    const g = singles.get(id) ?? { key: f.add.key, comment: `osv trace: ${REASONS[f.category]}`, values: [] };
    // Host paths are data: a file named cfg-${env:X}.conf must not be interpreted by osv.yaml.
    const value = escapeStrings(f.add.value);
    g.values.push(value);
    labels.set(value, f.kind === 'library' ? 'library' : f.kind);
    singles.set(id, g);
  }
  const treeGroups: WriteGroup[] = [...trees].map(([kind, dirs]) => ({
    key: 'files',
    comment: `osv trace: ${KIND_NAMES[kind][1]} it used, one tree each`,
    values: [...dirs].sort().map((d) => {
      const value = escapeStrings({ src: d, dest: d });
      labels.set(value, kind);
      return value;
    }),
  }));
  return { groups: [...treeGroups, ...singles.values()], labels };
}

const NAMES: Record<string, [string, string]> = { library: ['library', 'libraries'], file: ['file', 'files'], directory: ['directory', 'directories'], ...KIND_NAMES };

/** "4 Python packages (flask, jinja2, markupsafe, werkzeug), 2 files": what --write added. */
export function addedSummary(added: WriteResult['added'], labels: WritePlan['labels']): string {
  const byLabel = new Map<string, string[]>();
  for (const { value } of added) {
    const label = labels.get(value) ?? 'file';
    const name = typeof value === 'string' ? value : 'src' in value ? posix.basename(value.src) : 'name' in value ? posix.basename(value.name) : value.dest;
    byLabel.set(label, [...(byLabel.get(label) ?? []), name]);
  }
  return [...byLabel]
    .map(([label, names]) => `${names.length} ${NAMES[label]?.[names.length === 1 ? 0 : 1] ?? label}${label in KIND_NAMES ? ` (${names.join(', ')})` : ''}`)
    .join(', ');
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

  let wrote: { file: string; added: number; mode: string; summary: string } | undefined;
  if (opts.write && planned.file) {
    const text = fs.readFileSync(planned.file, 'utf8');
    const plan = writeGroups(report);
    const result = addToConfig(text, plan.groups, planned.file);
    if (result.mode !== 'unchanged') {
      // Write beside the file and rename, so an interrupted write never leaves half a config.
      writeFileAtomic(planned.file, result.text, { mode: fs.statSync(planned.file).mode & 0o777 });
    }
    wrote = { file: planned.file, added: result.added.length, mode: result.mode, summary: addedSummary(result.added, plan.labels) };
  }

  if (opts.json) {
    process.stdout.write(
      JSON.stringify({ ok: true, ...report, plan: { file: planned.file ?? null, compared: planned.description }, ...(wrote ? { wrote } : {}) }, null, 2) + '\n',
    );
  } else {
    process.stdout.write(renderReport(report, { planSource: planned.description, ...(wrote ? { wrote } : {}) }));
  }
}

