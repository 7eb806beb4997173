// run.volumes -> the disks a run attaches after the image, in order, and the loader options
// that mount the named ones. Named volumes are made on first use (not by a dry run), refused
// while another VM has them, and remembered as used by this configuration's run; a read-only
// one is attached as its ROFS copy (readonly.ts).

import type { Volume } from '../config/types.js';
import { OsvError } from '../diagnostics/error.js';
import { err, ok, type Result } from '../diagnostics/result.js';
import { escapeOption } from '../plan/cmdline.js';
import { mountOptions } from '../plan/volume-mounts.js';
import { readDiskInfo } from '../run/disk-info.js';
import type { Disk } from '../run/spec.js';
import { recordUse, updateMeta } from './meta.js';
import { projectVolumesDir } from './paths.js';
import { readOnlyCopy, readOnlyCopyPath } from './readonly.js';
import { ensureVolume, inUse } from './store.js';

export interface AttachContext {
  /** The project directory: named volumes belong to it. */
  project: string;
  /** The configuration file and the run, for what `osv volume ls` says uses a volume. */
  config?: string;
  run: string;
  env?: NodeJS.ProcessEnv;
  /** Make nothing and record nothing (`--dry-run`). */
  dryRun?: boolean;
}

export interface Attached {
  disks: Disk[];
  /** `--mount-fs` options for the named volumes, as command-line tokens. */
  kernelOptions: string[];
  notes: string[];
}

/** A disk image's format: as configured, else from its first bytes. */
export function diskOf(path: string, format?: Disk['format'], readonly = false): Result<Disk> {
  if (format) return ok({ path, format, readonly });
  const info = readDiskInfo(path);
  return info.ok ? ok({ path, format: info.value.format, readonly }) : info;
}

export async function attachVolumes(volumes: readonly Volume[], ctx: AttachContext): Promise<Result<Attached, OsvError>> {
  const env = ctx.env ?? process.env;
  const disks: Disk[] = [];
  const notes: string[] = [];
  const used: string[] = [];
  for (const v of volumes) {
    if (v.kind === 'disk') {
      const d = diskOf(v.path, v.format, v.readonly);
      if (!d.ok) return d;
      disks.push(d.value);
      continue;
    }
    const e = await ensureVolume(ctx.project, v, { env, ...(ctx.dryRun ? { dryRun: true } : {}) });
    if (!e.ok) return e;
    notes.push(...e.value.notes);
    if (!e.value.pending && !ctx.dryRun && (await inUse(e.value.path)))
      return err(new OsvError({ code: 'volume.in-use', message: `volume "${v.name}" is in use by another VM (${e.value.path})`, hint: 'a volume is attached to one VM at a time: stop the other run first' }));
    used.push(v.name);
    if (!v.readonly) {
      disks.push({ path: e.value.path, format: 'raw', ...(e.value.pending ? { pending: true } : {}) });
      continue;
    }
    // Read-only: its files as a ROFS, made again when the volume changed (not by a dry run).
    const home = projectVolumesDir(ctx.project, env);
    if (e.value.pending || ctx.dryRun) {
      disks.push({ path: readOnlyCopyPath(home, v.name), format: 'raw', readonly: true, ...(e.value.pending ? { pending: true } : {}) });
      continue;
    }
    const copy = await readOnlyCopy(home, ctx.project, v.name, e.value.path);
    if (!copy.ok) return copy;
    if (copy.value.made) notes.push(`made the read-only copy of volume "${v.name}" (ROFS) at ${copy.value.path}`);
    disks.push({ path: copy.value.path, format: 'raw', readonly: true });
  }
  if (used.length > 0 && !ctx.dryRun) {
    const use = { config: ctx.config ?? ctx.project, run: ctx.run, lastUsed: new Date().toISOString() };
    updateMeta(projectVolumesDir(ctx.project, env), ctx.project, (m) => used.forEach((name) => recordUse(m, name, use)));
  }
  return ok({ disks, kernelOptions: mountOptions(volumes).map(escapeOption), notes });
}
