// The actions of `osv volume ls|inspect|rm|export`, imported lazily by
// src/cli/commands/volume.ts. A project's volumes are found from its configuration file (the
// one `osv up` would use here, or -c FILE); `ls --all` lists every project's.

import { existsSync, lstatSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { ExitCode, OsvError } from '../diagnostics/error.js';
import { unwrap } from '../diagnostics/result.js';
import { inspectImage } from '../image/inspect.js';
import { printReport } from '../image/cli.js';
import { formatBytes } from '../units.js';
import { readMeta, volumeNames, type VolumeMeta } from './meta.js';
import { projectPath, projectVolumesDir, volumeFile, volumesRoot } from './paths.js';
import { dumpVolume } from './dump.js';
import { inUse, readVolume, removeVolume } from './store.js';
import { printLine } from '../output.js';
import { makeDirs } from '../atomic.js';

const out = printLine;
const json = (v: unknown): void => out(JSON.stringify(v, null, 2));
const usage = (message: string, hint?: string): OsvError => new OsvError({ code: 'volume.usage', message, ...(hint ? { hint } : {}), exitCode: ExitCode.usage });

export interface ProjectOpts {
  config?: string;
  json?: boolean;
}

/** The project directory: the directory of the configuration `osv up` would read here. */
async function projectDir(opts: ProjectOpts): Promise<string> {
  const { findConfigFile } = await import('../config/load.js');
  const found = await findConfigFile({ cwd: process.cwd(), ...(opts.config !== undefined ? { configFile: opts.config } : {}) });
  if (!found.ok) {
    const e = found.error.errors[0]!;
    throw new OsvError({ code: e.code, message: `${e.message}: volumes belong to a project`, hint: 'run this in the project (or pass -c FILE); `osv volume ls --all` lists every project\'s volumes' });
  }
  return dirname(found.value);
}

export interface VolumeInfo {
  name: string;
  path: string;
  /** The file system's size. */
  size: number;
  /** What its files and tables take inside it. */
  used?: number;
  /** What the (sparse) file takes on the host's disk. */
  allocated: number;
  created?: string;
  from?: string;
  usedBy: VolumeMeta['usedBy'];
  /** Why it is not a usable volume, if it is not. */
  problem?: string;
}

function describe(home: string, name: string, meta: VolumeMeta | undefined): VolumeInfo {
  const path = join(home, `${name}.ext4`);
  const st = statSync(path);
  const sb = readVolume(path, name);
  return {
    name,
    path,
    size: sb.ok ? sb.value.blocks * sb.value.blockSize : st.size,
    ...(sb.ok ? { used: (sb.value.blocks - sb.value.freeBlocks) * sb.value.blockSize } : {}),
    allocated: st.blocks * 512,
    ...(meta?.created ? { created: meta.created } : {}),
    ...(meta?.from ? { from: meta.from } : {}),
    usedBy: meta?.usedBy ?? [],
    ...(sb.ok ? {} : { problem: sb.error.message }),
  };
}

interface ProjectVolumes {
  project: string;
  /** Where its volumes are kept. */
  dir: string;
  /** The project directory is gone. */
  missing?: boolean;
  volumes: VolumeInfo[];
}

function projectVolumes(home: string, project?: string): ProjectVolumes {
  const meta = readMeta(home, project);
  const dir = project !== undefined ? projectPath(project) : meta.project;
  return {
    project: dir,
    dir: home,
    ...(dir && !existsSync(dir) ? { missing: true } : {}),
    volumes: volumeNames(home).map((n) => describe(home, n, meta.volumes[n])),
  };
}

const usedByText = (v: VolumeInfo, project: string): string => {
  const byConfig = new Map<string, string[]>();
  for (const u of v.usedBy) byConfig.set(u.config, [...(byConfig.get(u.config) ?? []), u.run]);
  return [...byConfig].map(([c, runs]) => `${relative(project, c) || c} (${runs.join(', ')})`).join('; ') || '-';
};

function printProject(p: ProjectVolumes): void {
  out(`${p.project || '(unknown project)'}${p.missing ? ' (no longer there)' : ''}: ${p.volumes.length === 0 ? 'no volumes' : `${p.volumes.length === 1 ? 'one volume' : `${p.volumes.length} volumes`} in ${p.dir}`}`);
  if (p.volumes.length === 0) return;
  const rows = [
    ['NAME', 'SIZE', 'USED', 'ON DISK', 'CREATED', 'USED BY'],
    ...p.volumes.map((v) => [
      v.name,
      formatBytes(v.size),
      v.used !== undefined ? formatBytes(v.used) : '?',
      formatBytes(v.allocated),
      v.created?.slice(0, 16).replace('T', ' ') ?? '-',
      v.problem ? `not usable: ${v.problem}` : usedByText(v, p.project),
    ]),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const r of rows) out(`  ${r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')}`);
}

export async function lsCommand(opts: ProjectOpts & { all?: boolean }): Promise<void> {
  let projects: ProjectVolumes[];
  if (opts.all) {
    const root = volumesRoot();
    const homes = existsSync(root) ? readdirSync(root).map((d) => join(root, d)).filter((d) => lstatSync(d).isDirectory()) : [];
    projects = homes.map((h) => projectVolumes(h)).filter((p) => p.volumes.length > 0);
  } else {
    const dir = await projectDir(opts);
    projects = [projectVolumes(projectVolumesDir(dir), dir)];
  }
  if (opts.json) return json({ ok: true, root: volumesRoot(), projects });
  if (opts.all && projects.length === 0) out(`no volumes (${volumesRoot()})`);
  for (const p of projects) printProject(p);
}

/** A volume name as given on the command line: an empty one is a usage error. */
function nameArg(name: string): string {
  if (name.trim() === '') throw usage(`the volume name is ${name === '' ? 'empty' : 'blank'}`, 'name a volume of this project: see `osv volume ls`');
  return name;
}

/** The volume's file, which must exist. */
async function existing(name: string, opts: ProjectOpts): Promise<{ dir: string; path: string }> {
  nameArg(name);
  const dir = await projectDir(opts);
  const path = unwrap(volumeFile(dir, name));
  if (!existsSync(path)) {
    const names = volumeNames(projectVolumesDir(dir));
    throw new OsvError({ code: 'volume.missing', message: `this project has no volume "${name}"`, hint: names.length ? `its volumes: ${names.join(', ')}` : 'it has none yet: a run makes the named volumes of run.volumes' });
  }
  return { dir, path };
}

export async function inspectCommand(name: string, opts: ProjectOpts & { tree?: boolean }): Promise<void> {
  const { dir, path } = await existing(name, opts);
  const home = projectVolumesDir(dir);
  const info = describe(home, name, readMeta(home, dir).volumes[name]);
  const report = unwrap(await inspectImage(path, { tree: opts.tree !== false }));
  if (opts.json) out(JSON.stringify({ ok: report.problems.length === 0, volume: info, ...report }, null, 2));
  else {
    out(`volume "${name}" of ${projectPath(dir)}`);
    out(`created:    ${info.created ?? 'unknown'}${info.from ? `, seeded from ${info.from}` : ''}`);
    out(`used by:    ${usedByText(info, projectPath(dir))}`);
    out(`space:      ${formatBytes(info.size)}, ${info.used !== undefined ? formatBytes(info.used) : '?'} used, ${formatBytes(info.allocated)} on the host's disk`);
    printReport(report);
  }
  if (report.problems.length) process.exitCode = ExitCode.invalidInput;
}

export async function rmCommand(names: string[], opts: ProjectOpts): Promise<void> {
  if (names.length === 0) throw usage('name the volumes to remove', 'see `osv volume ls`');
  names.forEach(nameArg);
  const dir = await projectDir(opts);
  const removed: Array<{ name: string; path: string }> = [];
  // A name given twice is removed once (the second removal found it gone and failed the command).
  for (const name of new Set(names)) removed.push({ name, path: unwrap(await removeVolume(dir, name)) });
  if (opts.json) return json({ ok: true, removed });
  for (const r of removed) out(`removed volume "${r.name}" (${r.path})`);
}

export async function exportCommand(name: string, target: string, opts: ProjectOpts): Promise<void> {
  // An empty target would be the current directory (then refused as "a directory that is not empty").
  if (target.trim() === '') throw usage(`the directory to export into is ${target === '' ? 'empty' : 'blank'}`, 'name a new or empty directory: osv volume export NAME DIR');
  const { path } = await existing(name, opts);
  const to = resolve(target);
  if (existsSync(to) && (!statSync(to).isDirectory() || readdirSync(to).length > 0))
    throw usage(`${target} is ${statSync(to).isDirectory() ? 'a directory that is not empty' : 'not a directory'}`, 'export into a new or empty directory');
  if (await inUse(path)) throw new OsvError({ code: 'volume.in-use', message: `volume "${name}" is in use by a running VM: a copy now could catch it half-written`, hint: 'stop the VM and export again' });
  makeDirs(to);
  unwrap(await dumpVolume(path, name, to));
  if (opts.json) return json({ ok: true, volume: name, path, exportedTo: to });
  out(`exported volume "${name}" to ${to}`);
}
