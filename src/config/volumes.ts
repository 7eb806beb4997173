// `run.volumes` of one run: disk images of the user's own, and named volumes that osv-up
// creates and mounts. A named volume is checked here for what OSv can actually mount (facts
// §15, and modules/libext of OSv v0.57): its mount point must be a real directory of the image
// that nothing else mounts over, and OSv's ext module holds a single ext file system at a time
// (one static `ext4_fs`: a second ext mount replaces the first, which then shows the second's
// files), so a run gets at most one writable named volume, and none over an ext root. A
// read-only one is mounted as a ROFS copy (src/volumes/readonly.ts), which has no such limit.

import { str, type Path, type PNode, type PScalar } from './tree.js';
import { parseSize } from './values.js';
import { toSource } from './texts.js';
import { DEFAULTS } from './defaults.js';
import { formatBytes } from '../units.js';
import type { SpecReader } from './specs.js';
import type { FilesystemKind, ImageFormat, Mounts, NamedVolume, Volume } from './types.js';

/** Smaller ext4 file systems get no journal from mke2fs, and hold little. */
export const MIN_VOLUME_BYTES = 16 * 2 ** 20;

/** Where OSv mounts its own file systems; a volume there would be hidden or hide them. */
const SYSTEM_MOUNTS = ['/dev', '/proc', '/sys'];

export interface VolumeContext {
  filesystem: FilesystemKind;
  mounts: Mounts;
  /** The run's kernelArgs: a `--mount-fs` there is a mount a volume must not collide with. */
  kernelArgs: string[];
}

const within = (p: string, dir: string): boolean => p === dir || p.startsWith(dir === '/' ? '/' : `${dir}/`);
const scalarOf = (n: PNode | undefined): PScalar | undefined => (n?.kind === 'scalar' ? n : undefined);

/** The mount points `--mount-fs=TYPE,DEVICE,PATH` options name (facts §5.3). */
export function kernelArgMounts(kernelArgs: readonly string[]): Array<{ path: string; index: number }> {
  return kernelArgs.flatMap((a, index) => {
    const m = /^--mount-fs=[^,]+,[^,]+,(\/[^,]*)$/.exec(a);
    return m ? [{ path: m[1]!, index }] : [];
  });
}

export function readVolumes(r: SpecReader, node: PNode | undefined, at: Path, ctx: VolumeContext): Volume[] {
  if (node?.kind !== 'seq') return [];
  const volumes: Volume[] = [];
  const named: Array<{ volume: NamedVolume; node: PNode; at: Path }> = [];
  node.items.forEach((v, i) => {
    const here: Path = [...at, i];
    const nameNode = v.kind === 'map' ? scalarOf(v.entries.get('name')?.value) : undefined;
    if (v.kind === 'map' && nameNode) {
      const volume = namedVolume(r, v, here, String(nameNode.value), ctx);
      if (volume) {
        volumes.push(volume);
        named.push({ volume, node: v, at: here });
      }
      return;
    }
    const pNode = v.kind === 'map' ? scalarOf(v.entries.get('path')?.value) : scalarOf(v);
    if (!pNode) return;
    const p = r.hostPath(pNode, false);
    const fmt = v.kind === 'map' ? (str(v.entries.get('format')?.value) as ImageFormat | undefined) : undefined;
    const ro = v.kind === 'map' && scalarOf(v.entries.get('readonly')?.value)?.value === true;
    volumes.push({ kind: 'disk', path: p, format: fmt ?? (p.endsWith('.qcow2') ? 'qcow2' : 'raw'), readonly: ro, source: toSource(v.pos) });
  });
  checkMountPoints(r, named, ctx.kernelArgs);
  const writable = named.filter((n) => !n.volume.readonly);
  if (writable.length > 0 && ctx.filesystem === 'ext') {
    const first = writable[0]!;
    r.problem(
      first.node,
      first.at,
      'config.volume',
      `named volume "${first.volume.name}" needs filesystem: rofs: OSv's ext module mounts one ext file system at a time, and an ext root is one already`,
      'use filesystem: rofs (the default) and keep the data that must survive in the volume (an ext root is writable only for the run), or make the volume readonly',
    );
  } else if (writable.length > 1) {
    const [first, second] = [writable[0]!, writable[1]!];
    r.problem(
      second.node,
      second.at,
      'config.volume',
      `a second writable named volume ("${second.volume.name}" after "${first.volume.name}"): OSv's ext module mounts one ext file system at a time, so the second mount would replace the first`,
      'keep both data sets in one volume (in two directories of it), make one readonly, or give each to its own run (a named run adds its volumes to the top-level ones: declare them in the runs, not at the top)',
    );
  }
  return volumes;
}

function namedVolume(r: SpecReader, v: PNode & { kind: 'map' }, at: Path, name: string, ctx: VolumeContext): NamedVolume | undefined {
  const get = (k: string): PScalar | undefined => scalarOf(v.entries.get(k)?.value);
  const destNode = get('dest');
  const dest = destNode ? r.guestPath(destNode, [...at, 'dest']) : undefined;
  if (!destNode || dest === undefined) return undefined;
  const badDest = (message: string, hint: string): undefined => void r.problem(destNode, [...at, 'dest'], 'config.volume-dest', message, hint);
  if (dest === '/') return badDest('a volume cannot be mounted over the root of the image', 'mount it on a directory such as /data');
  if (dest.includes(',')) return badDest(`${dest} contains a comma, which OSv's --mount-fs=TYPE,DEVICE,PATH cannot carry`, 'choose a directory name without commas');
  const system = SYSTEM_MOUNTS.find((m) => within(dest, m));
  if (system) return badDest(`${dest} is inside ${system}, where OSv mounts its own ${system.slice(1)} file system`, 'mount the volume on a directory of its own, such as /data');
  if (ctx.filesystem === 'rofs' && ctx.mounts['/tmp'] && within(dest, '/tmp'))
    return badDest(`${dest} is inside /tmp, where OSv mounts an empty ramfs on a rofs image at every boot`, 'mount the volume elsewhere (such as /data), or set image.mounts./tmp: false');
  let size = DEFAULTS.volumeSize;
  const sizeNode = get('size');
  if (sizeNode) {
    const s = parseSize(sizeNode.value);
    if (!s.ok) r.problem(sizeNode, [...at, 'size'], 'config.size', s.message);
    else if (s.value < MIN_VOLUME_BYTES) r.problem(sizeNode, [...at, 'size'], 'config.size', `a volume of ${formatBytes(s.value)} is too small: the least is 16 MiB`, 'the file is sparse: a larger size costs only what is written');
    else size = s.value;
  }
  const fromNode = get('from');
  return {
    kind: 'named',
    name,
    dest,
    size,
    ...(fromNode ? { from: r.hostPath(fromNode, false) } : {}),
    readonly: get('readonly')?.value === true,
    source: toSource(v.pos),
  };
}

/** Two volumes at one dest, or one inside another's (or inside a `--mount-fs` of kernelArgs). */
function checkMountPoints(r: SpecReader, named: Array<{ volume: NamedVolume; node: PNode; at: Path }>, kernelArgs: string[]): void {
  const taken: Array<{ path: string; what: string }> = kernelArgMounts(kernelArgs).map((m) => ({ path: m.path, what: `kernelArgs[${m.index}]` }));
  for (const n of named) {
    const dest = n.volume.dest;
    const clash = taken.find((t) => within(dest, t.path) || within(t.path, dest));
    const destNode = (n.node as PNode & { kind: 'map' }).entries.get('dest')!.value;
    if (clash) {
      const how = clash.path === dest ? `is where ${clash.what} mounts already` : within(dest, clash.path) ? `is inside ${clash.path}, which ${clash.what} mounts` : `holds ${clash.path}, which ${clash.what} mounts`;
      r.problem(destNode, [...n.at, 'dest'], 'config.volume-dest', `${dest} ${how}`, 'give each mount a directory of its own, neither inside the other');
    }
    taken.push({ path: dest, what: `volumes[${String(n.at[n.at.length - 1])}] (volume "${n.volume.name}")` });
  }
}
