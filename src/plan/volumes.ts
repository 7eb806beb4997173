// What the image gets for named volumes: a mount point for each, and (over a ROFS root, for a
// writable volume) OSv's ext module from the kernel bundle, since OSv loads every
// /usr/lib/fs/*.so of the root before it mounts anything else (facts §15). How the guest
// reaches them: volume-mounts.ts.

import { OsvError } from '../diagnostics/error.js';
import { fileKindName } from '../hostfs.js';
import type { RunConfig } from '../config/types.js';
import { EXT_MODULE_FILES, type KernelBundle } from '../kernel/types.js';
import type { PlanContext } from './context.js';
import { runSource } from './runs.js';
import type { PlanEntry } from './types.js';
import { namedVolumes, volumeFs } from './volume-mounts.js';

const volumesKey = (run: string, index: number): string => (run === 'default' ? `run.volumes[${index}]` : `runs.${run}.run.volumes[${index}]`);

/**
 * What the runs will read from this machine, checked now rather than when a VM starts: a disk
 * volume is an image file (QEMU refused a directory only at boot), a named volume's `from` a
 * directory (a missing one failed at its first `osv up`, without a position).
 */
function checkVolumeSources(ctx: PlanContext, runs: ReadonlyArray<{ name: string; run: RunConfig }>): void {
  for (const { name, run } of runs) {
    run.run.volumes.forEach((volume, index) => {
      const [host, want, what] = volume.kind === 'disk' ? [volume.path, 'file', 'a disk image file'] : [volume.from, 'dir', 'a directory to seed the volume from'];
      if (host === undefined) return;
      const st = ctx.fs.stat(host);
      if (st?.kind === want) return;
      const source = runSource(ctx, name, run, `run/volumes/${index}`) ?? volume.source;
      ctx.errors.push(
        new OsvError({
          code: 'plan.volume-source',
          message: `${volumesKey(name, index)}: ${host} ${st ? `is ${fileKindName(st)}` : 'does not exist'}, not ${what}`,
          hint: volume.kind === 'disk' ? 'give the path of a raw or qcow2 disk image (relative to the configuration file)' : 'give an existing directory (relative to the configuration file), or leave `from` out for an empty volume',
          ...(source ? { source } : {}),
        }),
      );
    });
  }
}

/**
 * Mount points for every run's named volumes (one image serves all runs), and the ext module
 * when a ROFS root needs it. An ext root is refused with named volumes by the configuration.
 */
export function planVolumes(ctx: PlanContext, runs: ReadonlyArray<{ name: string; run: RunConfig }>, kernel: KernelBundle | undefined): void {
  checkVolumeSources(ctx, runs);
  const all = runs.flatMap(({ name, run }) => namedVolumes(run.run.volumes).map((v) => ({ ...v, run: name, runConfig: run })));
  for (const { volume, index, run, runConfig } of all) {
    const key = volumesKey(run, index);
    const source = runSource(ctx, run, runConfig, `run/volumes/${index}`) ?? volume.source;
    const existing = ctx.table.get(volume.dest);
    if (existing && existing.kind !== 'dir') {
      ctx.errors.push(
        new OsvError({
          code: 'plan.volume-dest',
          message: `${key}: volume "${volume.name}" is to be mounted on ${volume.dest}, which the image has as a ${existing.kind === 'file' ? 'file' : 'symlink'}`,
          hint: 'a volume is mounted on a directory: choose another dest, or move that entry',
          ...(source ? { source } : {}),
        }),
      );
      continue;
    }
    const err = ctx.table.add({ guest: volume.dest, kind: 'dir', why: [{ kind: 'config', key, ...(source ? { source } : {}), detail: `mount point of volume "${volume.name}"` }] });
    if (err) ctx.errors.push(err);
  }
  // Read-only volumes are mounted as ROFS, which the kernel has; writable ones need the ext module.
  const writable = all.filter((v) => volumeFs(v.volume) === 'ext');
  if (writable.length === 0 || ctx.config.filesystem !== 'rofs') return;
  const names = [...new Set(writable.map((v) => `"${v.volume.name}"`))].join(', ');
  if (!kernel) {
    ctx.warnings.push(`the named volume ${names} needs OSv's ext module from the kernel bundle, and the kernel is not on this machine yet: the plan lacks ${EXT_MODULE_FILES.libext.guest} and ${EXT_MODULE_FILES.liblwext4.guest}`);
    return;
  }
  if (!kernel.ext) {
    ctx.errors.push(extModuleMissing(kernel, names));
    return;
  }
  for (const role of ['libext', 'liblwext4'] as const) {
    const host = kernel.ext[role];
    const st = ctx.fs.stat(host);
    if (st?.kind !== 'file') {
      ctx.errors.push(extModuleMissing(kernel, names));
      return;
    }
    const entry: PlanEntry = {
      guest: EXT_MODULE_FILES[role].guest,
      kind: 'file',
      host,
      size: st.size,
      mtimeMs: st.mtimeMs,
      ino: st.ino,
      mode: st.mode,
      why: [{ kind: 'kernel', reason: `OSv's ext module, built with the kernel: mounts the named volume ${names}` }],
    };
    const e = ctx.table.add(entry);
    if (e) ctx.errors.push(e);
    ctx.libraries.add(entry.guest);
  }
}

function extModuleMissing(kernel: KernelBundle, names: string): OsvError {
  const where = kernel.origin === 'release' ? `release ${kernel.version ?? ''} (release kernels do not include it)` : `at ${kernel.elf ?? kernel.img}`;
  const { libext, liblwext4 } = EXT_MODULE_FILES;
  return new OsvError({
    code: 'plan.ext-module-missing',
    message: `the named volume ${names} needs OSv's ext module (${libext.name} and ${liblwext4.name}), and the kernel ${where} comes without it`,
    details: [
      `an OSv build keeps them at build/<mode>/${libext.inBuild} and ${liblwext4.inTree}`,
      `(an fs=ext build also leaves both beside loader-stripped.elf)`,
    ],
    hint: `point kernel.path or OSV_KERNEL at that OSv build directory, or copy ${libext.name} and ${liblwext4.name} next to the kernel you use`,
  });
}

/** What the image has below a volume's mount point: the mounted volume hides it from the program. */
export function hiddenByVolumes(entries: readonly PlanEntry[], runs: ReadonlyArray<{ name: string; run: RunConfig }>): string[] {
  const dests = [...new Set(runs.flatMap(({ run }) => namedVolumes(run.run.volumes).map((v) => v.volume.dest)))];
  return dests.flatMap((dest) => {
    const under = entries.filter((e) => e.guest.startsWith(`${dest}/`));
    if (under.length === 0) return [];
    const what = under.length === 1 ? under[0]!.guest : `${under.length} entries under ${dest} (${under[0]!.guest}, ...)`;
    return [`${what}: the volume mounted on ${dest} hides ${under.length === 1 ? 'it' : 'them'} from the program; put ${under.length === 1 ? 'it' : 'them'} elsewhere, or seed the volume with them (from:)`];
  });
}
