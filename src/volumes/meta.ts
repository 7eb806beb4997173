// project.json beside a project's volume files: which project they belong to, and for each
// volume how it was made and which configurations' runs have used it. The .ext4 files are the
// truth about which volumes exist; this file only describes them.

import { readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_META, projectPath } from './paths.js';
import { makeDirs } from '../atomic.js';

export interface VolumeUse {
  /** The configuration file, absolute. */
  config: string;
  run: string;
  /** ISO time of the last run that attached the volume. */
  lastUsed: string;
}

export interface VolumeMeta {
  /** ISO time (unknown when the volume was made before this file was). */
  created?: string;
  /** Bytes asked for at creation. */
  size: number;
  /** The seed directory, if any. */
  from?: string;
  usedBy: VolumeUse[];
  /** The volume file as its read-only (ROFS) copy was made from it. */
  readOnlyCopy?: { size: number; mtimeMs: number; ino: number };
}

export interface ProjectMeta {
  version: 1;
  /** The project directory (its real path). */
  project: string;
  volumes: Record<string, VolumeMeta>;
}

export function readMeta(home: string, projectDir?: string): ProjectMeta {
  try {
    const m = JSON.parse(readFileSync(join(home, PROJECT_META), 'utf8')) as ProjectMeta;
    if (m.version === 1 && typeof m.project === 'string' && m.volumes && typeof m.volumes === 'object') return m;
  } catch {
    // none yet, or unreadable: start afresh (the volume files are the truth)
  }
  return { version: 1, project: projectDir !== undefined ? projectPath(projectDir) : '', volumes: {} };
}

export function writeMeta(home: string, meta: ProjectMeta): void {
  makeDirs(home, 0o700);
  const tmp = join(home, `.${PROJECT_META}.${process.pid}.tmp`);
  writeFileSync(tmp, JSON.stringify(meta, null, 2) + '\n');
  renameSync(tmp, join(home, PROJECT_META));
}

/** Change the metadata of the project in `home` (read, change, write back). */
export function updateMeta(home: string, projectDir: string, change: (m: ProjectMeta) => void): void {
  const m = readMeta(home, projectDir);
  m.project = projectPath(projectDir);
  change(m);
  writeMeta(home, m);
}

/** Remember that `config`'s run `run` attached the volume (one entry per configuration and run). */
export function recordUse(m: ProjectMeta, name: string, use: VolumeUse): void {
  const v = m.volumes[name];
  if (!v) return;
  v.usedBy = [...v.usedBy.filter((u) => u.config !== use.config || u.run !== use.run), use];
}

/** The volume names that have a file in `home`, sorted. */
export function volumeNames(home: string): string[] {
  try {
    return readdirSync(home)
      .filter((f) => f.endsWith('.ext4') && !f.startsWith('.'))
      .map((f) => f.slice(0, -'.ext4'.length))
      .sort();
  } catch {
    return [];
  }
}
