// Manifests, indexes and image configs (OCI and Docker v2 media types), read from JSON into
// checked types, and the choice of one platform's manifest from an index. Pure.

import { ExitCode, OsvError } from '../diagnostics/error.js';
import { err, ok, type Result } from '../diagnostics/result.js';
import { isDigest, type Digest } from './digest.js';

export const MEDIA = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  ociLayerTar: 'application/vnd.oci.image.layer.v1.tar',
  ociLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  ociLayerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
  dockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  dockerLayerTar: 'application/vnd.docker.image.rootfs.diff.tar',
} as const;

/** Every manifest type we read, for the Accept header (a registry answers 404 to a type it was not offered). */
export const MANIFEST_ACCEPT = [MEDIA.ociIndex, MEDIA.ociManifest, MEDIA.dockerList, MEDIA.dockerManifest].join(', ');

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

export interface Descriptor {
  mediaType: string;
  digest: Digest;
  size: number;
  platform?: Platform;
  annotations?: Record<string, string>;
}

export interface ImageIndex {
  kind: 'index';
  mediaType: string;
  manifests: Descriptor[];
}

export interface ImageManifest {
  kind: 'manifest';
  mediaType: string;
  config: Descriptor;
  layers: Descriptor[];
}

/** The parts of an image config that osv-up uses (image-spec config.md). */
export interface ImageConfig {
  os: string;
  architecture: string;
  variant?: string;
  entrypoint?: string[];
  cmd?: string[];
  env: string[];
  workingDir?: string;
  user?: string;
  /** `80/tcp`, `53/udp` (a bare port means tcp). */
  exposedPorts: string[];
  /** config.Labels (string values only). */
  labels: Record<string, string>;
  diffIds: Digest[];
}

const problem = (label: string, why: string): OsvError =>
  new OsvError({ code: 'oci.bad-manifest', message: `${label}: ${why}`, hint: 'the image is damaged or not an OCI/Docker v2 image; rebuild or re-push it', exitCode: ExitCode.invalidInput });

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function json(bytes: Uint8Array, label: string): Result<Record<string, unknown>, OsvError> {
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch (e) {
    return err(problem(label, `not JSON (${(e as Error).message})`));
  }
  return isObj(v) ? ok(v) : err(problem(label, 'not a JSON object'));
}

function descriptor(v: unknown, label: string, where: string): Result<Descriptor, OsvError> {
  if (!isObj(v)) return err(problem(label, `${where} is not a descriptor`));
  const { mediaType, digest, size, platform, annotations } = v;
  if (typeof mediaType !== 'string') return err(problem(label, `${where} has no mediaType`));
  if (!isDigest(digest)) return err(problem(label, `${where} has no sha256 digest (${JSON.stringify(digest)})`));
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) return err(problem(label, `${where} has no valid size`));
  const d: Descriptor = { mediaType, digest, size };
  if (isObj(platform) && typeof platform['os'] === 'string' && typeof platform['architecture'] === 'string')
    d.platform = { os: platform['os'], architecture: platform['architecture'], ...(typeof platform['variant'] === 'string' ? { variant: platform['variant'] } : {}) };
  if (isObj(annotations)) d.annotations = Object.fromEntries(Object.entries(annotations).filter((e): e is [string, string] => typeof e[1] === 'string'));
  return ok(d);
}

/** An index or a single-platform manifest; `headerType` is the Content-Type the registry sent. */
export function parseManifest(bytes: Uint8Array, label: string, headerType?: string): Result<ImageIndex | ImageManifest, OsvError> {
  const j = json(bytes, label);
  if (!j.ok) return j;
  const m = j.value;
  if (m['schemaVersion'] === 1 || (headerType ?? '').includes('distribution.manifest.v1'))
    return err(new OsvError({ code: 'oci.schema1', message: `${label}: Docker schema 1 manifests are deprecated and not supported`, hint: 'push the image again with a current tool (it writes schema 2 or OCI)', exitCode: ExitCode.invalidInput }));
  const mediaType = typeof m['mediaType'] === 'string' ? m['mediaType'] : (headerType ?? '').split(';')[0]!.trim();
  const isIndex = mediaType === MEDIA.ociIndex || mediaType === MEDIA.dockerList || (mediaType === '' && Array.isArray(m['manifests']));
  if (isIndex) {
    if (!Array.isArray(m['manifests'])) return err(problem(label, 'an index without manifests'));
    const manifests: Descriptor[] = [];
    for (const [i, d] of m['manifests'].entries()) {
      const r = descriptor(d, label, `manifests[${i}]`);
      if (!r.ok) return r;
      manifests.push(r.value);
    }
    return ok({ kind: 'index', mediaType: mediaType || MEDIA.ociIndex, manifests });
  }
  if (mediaType !== '' && mediaType !== MEDIA.ociManifest && mediaType !== MEDIA.dockerManifest) return err(problem(label, `unsupported manifest media type ${mediaType}`));
  const config = descriptor(m['config'], label, 'config');
  if (!config.ok) return config;
  if (!Array.isArray(m['layers'])) return err(problem(label, 'a manifest without layers'));
  const layers: Descriptor[] = [];
  for (const [i, d] of m['layers'].entries()) {
    const r = descriptor(d, label, `layers[${i}]`);
    if (!r.ok) return r;
    layers.push(r.value);
  }
  return ok({ kind: 'manifest', mediaType: mediaType || MEDIA.ociManifest, config: config.value, layers });
}

const strings = (v: unknown): string[] | undefined => (Array.isArray(v) && v.every((x) => typeof x === 'string') ? (v as string[]) : undefined);

export function parseImageConfig(bytes: Uint8Array, label: string): Result<ImageConfig, OsvError> {
  const j = json(bytes, label);
  if (!j.ok) return j;
  const c = j.value;
  const cfg = isObj(c['config']) ? c['config'] : {};
  const rootfs = isObj(c['rootfs']) ? c['rootfs'] : undefined;
  const diffIds = rootfs ? strings(rootfs['diff_ids']) : undefined;
  if (!diffIds) return err(problem(label, 'the config has no rootfs.diff_ids'));
  const badId = diffIds.find((d) => !isDigest(d));
  if (badId !== undefined) return err(problem(label, `rootfs.diff_ids holds ${JSON.stringify(badId)}, not a sha256 digest`));
  // Absent or null is "none"; anything else must be a list of strings (a string Cmd was dropped
  // without a word, and the build then said the image had no Cmd).
  for (const key of ['Entrypoint', 'Cmd', 'Env']) {
    const v = cfg[key];
    if (v !== undefined && v !== null && !strings(v)) return err(problem(label, `config.${key} is ${typeof v === 'string' ? `the string ${JSON.stringify(v.length > 60 ? `${v.slice(0, 60)}…` : v)}` : Array.isArray(v) ? 'a list that holds more than strings' : typeof v === 'object' ? 'an object' : `a ${typeof v}`}, not a list of strings`));
  }
  const entrypoint = strings(cfg['Entrypoint']);
  const cmd = strings(cfg['Cmd']);
  return ok({
    os: typeof c['os'] === 'string' ? c['os'] : '',
    architecture: typeof c['architecture'] === 'string' ? c['architecture'] : '',
    ...(typeof c['variant'] === 'string' ? { variant: c['variant'] } : {}),
    ...(entrypoint ? { entrypoint } : {}),
    ...(cmd ? { cmd } : {}),
    env: strings(cfg['Env']) ?? [],
    ...(typeof cfg['WorkingDir'] === 'string' && cfg['WorkingDir'] !== '' ? { workingDir: cfg['WorkingDir'] } : {}),
    ...(typeof cfg['User'] === 'string' && cfg['User'] !== '' ? { user: cfg['User'] } : {}),
    exposedPorts: isObj(cfg['ExposedPorts']) ? Object.keys(cfg['ExposedPorts']).sort() : [],
    labels: isObj(cfg['Labels']) ? Object.fromEntries(Object.entries(cfg['Labels']).filter((e): e is [string, string] => typeof e[1] === 'string')) : {},
    diffIds: diffIds as Digest[],
  });
}

/** The platform of an architecture as osv.yaml names it (GOARCH names in images). */
export function platformFor(arch: 'x86_64' | 'aarch64'): Platform {
  return arch === 'x86_64' ? { os: 'linux', architecture: 'amd64' } : { os: 'linux', architecture: 'arm64', variant: 'v8' };
}

export const formatPlatform = (p: Platform): string => `${p.os}/${p.architecture}${p.variant ? `/${p.variant}` : ''}`;

/** The first index entry for `want` (arm64's variant may be absent); attestations are skipped. */
export function selectPlatform(index: ImageIndex, want: Platform, label: string): Result<Descriptor, OsvError> {
  const matches = (p: Platform | undefined): boolean =>
    p !== undefined && p.os === want.os && p.architecture === want.architecture && (want.variant === undefined || p.variant === undefined || p.variant === want.variant);
  const hit = index.manifests.find((d) => d.mediaType !== MEDIA.ociIndex && d.mediaType !== MEDIA.dockerList && matches(d.platform));
  if (hit) return ok(hit);
  const offered = index.manifests.map((d) => d.platform).filter((p): p is Platform => p !== undefined && !(p.os === 'unknown' && p.architecture === 'unknown'));
  return err(
    new OsvError({
      code: 'oci.no-platform',
      message: `${label} has no image for ${formatPlatform(want)}`,
      details: [`it offers: ${offered.length > 0 ? [...new Set(offered.map(formatPlatform))].join(', ') : 'no platform at all'}`],
      hint: 'set arch: in osv.yaml to one the image offers, or pick another image',
      exitCode: ExitCode.invalidInput,
    }),
  );
}

/** Checks a single-platform config against the platform asked for. */
export function checkConfigPlatform(config: ImageConfig, want: Platform, label: string): Result<void, OsvError> {
  if (config.os === want.os && config.architecture === want.architecture) return ok(undefined);
  return err(
    new OsvError({
      code: 'oci.no-platform',
      message: `${label} is a ${config.os || '?'}/${config.architecture || '?'} image, not ${formatPlatform(want)}`,
      hint: 'set arch: in osv.yaml to the image\'s architecture, or pick another image',
      exitCode: ExitCode.invalidInput,
    }),
  );
}
