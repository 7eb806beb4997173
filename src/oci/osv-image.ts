// An osv-up image as OCI sees it, and back. Pure: the metadata of a build (kernel, disk, the
// runs with their command lines and settings, where it came from) becomes the labels of an
// ordinary linux/<arch> image config and the annotations of its manifest; reading them back
// gives what `osv run REF` boots with. The image is at once a KubeVirt containerDisk (one qcow2
// under /disk/) and a kernelBoot image (the kernel under /boot/), both owned by uid/gid 107.
//
// Same metadata and layers, same bytes: keys in a fixed order, times fixed at the epoch.

import type { Arch, Machine, PortForward } from '../config/types.js';
import { err, ok, type Result } from '../diagnostics/result.js';
import { isDigest, sha256Digest, type Digest } from './digest.js';
import { MEDIA, platformFor, type Descriptor } from './manifest.js';

/** The owner KubeVirt's virt-launcher runs QEMU as (the `qemu` user). */
export const KUBEVIRT_UID = 107;
export const KERNEL_PATH = '/boot/loader-stripped.elf';
export const diskPathFor = (name: string): string => `/disk/${name}.qcow2`;

/** The run settings that travel with an image: none of them names something on the build host. */
export interface PortableSettings {
  memory: number;
  cpus: number;
  ports: PortForward[];
  timeout?: number;
  expect?: string;
  machine?: Machine;
  /** The run's named volumes, described (their data stays on the machine that has them). */
  volumes?: PortableVolume[];
}

export interface PortableVolume {
  name: string;
  dest: string;
  /** Bytes. */
  size: number;
  readonly: boolean;
}

export interface PortableRun {
  name: string;
  /** The OSv command line (loader options, then the program). */
  cmdline: string;
  settings: PortableSettings;
}

export interface OsvImageMeta {
  /** The osv-up version that pushed it. */
  tool: string;
  name: string;
  arch: Arch;
  kernel: { path: string; sha256: string; version?: string };
  disk: { path: string };
  /** The run `osv run REF` boots without --run. */
  run: string;
  runs: PortableRun[];
  /** The image of `from:`, when the build had one. */
  from?: { reference: string; digest: string };
}

export const LABEL = {
  tool: 'io.osv-up.version',
  name: 'org.opencontainers.image.title',
  kernelPath: 'io.osv-up.kernel.path',
  kernelSha: 'io.osv-up.kernel.sha256',
  kernelVersion: 'io.osv-up.kernel.version',
  diskPath: 'io.osv-up.disk.path',
  run: 'io.osv-up.run',
  runs: 'io.osv-up.runs',
  from: 'io.osv-up.from',
} as const;

/** The image's labels (also the manifest's annotations), keys sorted. */
export function metaLabels(m: OsvImageMeta): Record<string, string> {
  const labels: Record<string, string> = {
    [LABEL.tool]: m.tool,
    [LABEL.name]: m.name,
    [LABEL.kernelPath]: m.kernel.path,
    [LABEL.kernelSha]: m.kernel.sha256,
    ...(m.kernel.version ? { [LABEL.kernelVersion]: m.kernel.version } : {}),
    [LABEL.diskPath]: m.disk.path,
    [LABEL.run]: m.run,
    [LABEL.runs]: JSON.stringify(m.runs.map((r) => ({ name: r.name, cmdline: r.cmdline, settings: portable(r.settings) }))),
    ...(m.from ? { [LABEL.from]: `${m.from.reference}@${m.from.digest}` } : {}),
  };
  return Object.fromEntries(Object.keys(labels).sort().map((k) => [k, labels[k]!]));
}

/** Only the portable fields, in a fixed order. */
function portable(s: PortableSettings): PortableSettings {
  return {
    memory: s.memory,
    cpus: s.cpus,
    ports: s.ports.map((p) => ({ host: p.host, guest: p.guest, protocol: p.protocol, ...(p.hostAddress ? { hostAddress: p.hostAddress } : {}) })),
    ...(s.timeout !== undefined ? { timeout: s.timeout } : {}),
    ...(s.expect !== undefined ? { expect: s.expect } : {}),
    ...(s.machine !== undefined ? { machine: s.machine } : {}),
    ...(s.volumes?.length ? { volumes: s.volumes.map((v) => ({ name: v.name, dest: v.dest, size: v.size, readonly: v.readonly })) } : {}),
  };
}

/** The guest ports any run listens on, as ExposedPorts keys (`8000/tcp`). */
function exposedPorts(m: OsvImageMeta): Record<string, Record<string, never>> {
  const keys = new Set(m.runs.flatMap((r) => r.settings.ports.map((p) => `${p.guest}/${p.protocol}`)));
  return Object.fromEntries([...keys].sort().map((k) => [k, {}]));
}

const EPOCH = '1970-01-01T00:00:00Z';

/** The image config (JSON bytes) for the kernel layer and the disk layer, in that order. */
export function imageConfig(m: OsvImageMeta, diffIds: readonly Digest[]): Buffer {
  const p = platformFor(m.arch);
  const ports = exposedPorts(m);
  const config = {
    created: EPOCH,
    architecture: p.architecture,
    ...(p.variant ? { variant: p.variant } : {}),
    os: p.os,
    config: {
      ...(Object.keys(ports).length > 0 ? { ExposedPorts: ports } : {}),
      Labels: metaLabels(m),
    },
    rootfs: { type: 'layers', diff_ids: [...diffIds] },
    history: [
      { created: EPOCH, created_by: `osv-up ${m.tool}: OSv kernel ${m.kernel.path}${m.kernel.version ? ` (${m.kernel.version})` : ''}` },
      { created: EPOCH, created_by: `osv-up ${m.tool}: OSv disk ${m.disk.path} (qcow2)` },
    ],
  };
  return Buffer.from(JSON.stringify(config));
}

/** The image manifest (JSON bytes) naming the config and the layers. */
export function imageManifest(m: OsvImageMeta, config: Buffer, layers: readonly Descriptor[]): Buffer {
  const manifest = {
    schemaVersion: 2,
    mediaType: MEDIA.ociManifest,
    config: { mediaType: MEDIA.ociConfig, digest: sha256Digest(config), size: config.length },
    layers: layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.size })),
    annotations: metaLabels(m),
  };
  return Buffer.from(JSON.stringify(manifest));
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function readRuns(text: string | undefined): PortableRun[] | undefined {
  if (text === undefined) return undefined;
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!Array.isArray(v)) return undefined;
  const runs: PortableRun[] = [];
  for (const r of v) {
    if (!isObj(r) || typeof r['name'] !== 'string' || typeof r['cmdline'] !== 'string' || !isObj(r['settings'])) return undefined;
    const s = r['settings'];
    if (typeof s['memory'] !== 'number' || typeof s['cpus'] !== 'number' || !Array.isArray(s['ports'])) return undefined;
    const ports: PortForward[] = [];
    for (const p of s['ports']) {
      if (!isObj(p) || typeof p['host'] !== 'number' || typeof p['guest'] !== 'number' || (p['protocol'] !== 'tcp' && p['protocol'] !== 'udp')) return undefined;
      ports.push({ host: p['host'], guest: p['guest'], protocol: p['protocol'], ...(typeof p['hostAddress'] === 'string' ? { hostAddress: p['hostAddress'] } : {}) });
    }
    const volumes: PortableVolume[] = [];
    for (const v of Array.isArray(s['volumes']) ? s['volumes'] : []) {
      if (!isObj(v) || typeof v['name'] !== 'string' || typeof v['dest'] !== 'string' || typeof v['size'] !== 'number') return undefined;
      volumes.push({ name: v['name'], dest: v['dest'], size: v['size'], readonly: v['readonly'] === true });
    }
    runs.push({
      name: r['name'],
      cmdline: r['cmdline'],
      settings: {
        memory: s['memory'],
        cpus: s['cpus'],
        ports,
        ...(typeof s['timeout'] === 'number' ? { timeout: s['timeout'] } : {}),
        ...(typeof s['expect'] === 'string' ? { expect: s['expect'] } : {}),
        ...(s['machine'] === 'pc' || s['machine'] === 'q35' ? { machine: s['machine'] } : {}),
        ...(volumes.length > 0 ? { volumes } : {}),
      },
    });
  }
  return runs;
}

/** `data (512Mi at /data), conf (read-only at /etc/app)`: a run's named volumes, for notes. */
export const describeVolumes = (vs: readonly PortableVolume[]): string => vs.map((v) => `${v.name} (${v.readonly ? 'read-only' : `${Math.ceil(v.size / 2 ** 20)} MiB`} at ${v.dest})`).join(', ');

/** The metadata back from an image config's labels; the error says what is missing. */
export function readMeta(labels: Record<string, string>, arch: Arch): Result<OsvImageMeta, string> {
  if (labels[LABEL.tool] === undefined) return err('it has no io.osv-up labels: it was not pushed by `osv push`');
  const runs = readRuns(labels[LABEL.runs]);
  const kernelPath = labels[LABEL.kernelPath];
  const kernelSha = labels[LABEL.kernelSha];
  const diskPath = labels[LABEL.diskPath];
  const run = labels[LABEL.run];
  if (!runs || runs.length === 0) return err(`its label ${LABEL.runs} is missing or not a list of runs`);
  if (!kernelPath?.startsWith('/boot/') || !kernelSha || !/^sha256:[0-9a-f]{64}$/.test(kernelSha)) return err(`its labels ${LABEL.kernelPath} and ${LABEL.kernelSha} are missing or invalid`);
  if (!diskPath?.startsWith('/disk/')) return err(`its label ${LABEL.diskPath} is missing or not under /disk/`);
  if (run === undefined || !runs.some((r) => r.name === run)) return err(`its label ${LABEL.run} names no run of the image`);
  const from = labels[LABEL.from];
  const at = from?.lastIndexOf('@') ?? -1;
  const fromDigest = from !== undefined && at > 0 ? from.slice(at + 1) : undefined;
  return ok({
    tool: labels[LABEL.tool]!,
    name: labels[LABEL.name] ?? 'osv',
    arch,
    kernel: { path: kernelPath, sha256: kernelSha, ...(labels[LABEL.kernelVersion] ? { version: labels[LABEL.kernelVersion] } : {}) },
    disk: { path: diskPath },
    run,
    runs,
    ...(from !== undefined && isDigest(fromDigest) ? { from: { reference: from.slice(0, at), digest: fromDigest } } : {}),
  });
}
