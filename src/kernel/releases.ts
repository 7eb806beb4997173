// OSv kernels from GitHub releases (facts §8): the release metadata comes from the API
// (/repos/<owner>/<repo>/releases/latest or /releases/tags/<tag>), assets are chosen by name —
// `.elf.<arch>` for the direct-boot kernel, `.qemu.<arch>` for loader.img — and gunzipped
// when compressed. HTTP is injectable: tests serve a fake release from 127.0.0.1.

import { gunzipSync } from 'node:zlib';
import { err, ok, type Result } from '../diagnostics/result.js';
import { ExitCode, OsvError } from '../diagnostics/error.js';
import type { Arch } from '../config/types.js';
import { networkReason } from '../net/failure.js';
import { deferredCaFile } from '../net/trust.js';
import { nodeRequest, type Answer } from '../oci/node-transport.js';

export const DEFAULT_REPO = 'cloudius-systems/osv';
export const DEFAULT_API = 'https://api.github.com';

export interface HttpResponse {
  status: number;
  body: Buffer;
}

export interface HttpGetOptions {
  headers?: Record<string, string>;
  signal?: AbortSignal;
  onProgress?(bytes: number, total: number | undefined): void;
  /** Stop reading (an error) past this many bytes of body. */
  maxBytes?: number;
}

export type HttpGet = (url: string, opts?: HttpGetOptions) => Promise<HttpResponse>;

const MiB = 1024 * 1024;
/** Release metadata is a few kilobytes; kernels are tens of megabytes, unpacked too. */
export const LIMITS = { apiBytes: 16 * MiB, assetBytes: 256 * MiB, unpackedBytes: 512 * MiB, redirects: 5 } as const;

/** A redirect is followed only to https, or to http from an http server (a local mirror): never a downgrade, never another scheme. */
export function redirectAllowed(from: URL, to: URL): boolean {
  return to.protocol === 'https:' || (to.protocol === 'http:' && from.protocol === 'http:');
}

const REDIRECT = new Set([301, 302, 303, 307, 308]);

/** The real network, through Node's fetch: GitHub's redirects to its CDN followed by hand (redirectAllowed), the body read up to maxBytes. */
export const fetchHttp: HttpGet = async (url, opts = {}) => {
  const signal = opts.signal ?? AbortSignal.timeout(5 * 60_000);
  const max = opts.maxBytes ?? LIMITS.assetBytes;
  let current = new URL(url);
  for (let hop = 0; ; hop++) {
    const headers = { 'user-agent': 'osv-up', ...opts.headers };
    // fetch cannot be given the CA bundle the `osv` command deferred (src/net/trust.ts); node:https can.
    const res: Answer = current.protocol === 'https:' && deferredCaFile() !== undefined ? await nodeRequest(current.href, 'GET', headers, undefined, signal) : await fetch(current, { headers, redirect: 'manual', signal });
    const location = res.headers.get('location');
    if (REDIRECT.has(res.status) && location !== null) {
      await res.body?.cancel();
      const next = new URL(location, current);
      if (!redirectAllowed(current, next)) throw new Error(`refused a redirect from ${current.origin} to ${next.protocol}//${next.host} (only https is followed)`);
      if (hop >= LIMITS.redirects) throw new Error(`more than ${LIMITS.redirects} redirects`);
      current = next;
      continue;
    }
    const total = Number(res.headers.get('content-length')) || undefined;
    const tooLarge = (): Error => new Error(`the answer is larger than ${max / MiB} MiB; stopped reading`);
    if (total !== undefined && total > max) {
      await res.body?.cancel();
      throw tooLarge();
    }
    const chunks: Buffer[] = [];
    let done = 0;
    if (res.body) {
      for await (const chunk of res.body) {
        const b = Buffer.from(chunk as Uint8Array);
        done += b.length;
        if (done > max) throw tooLarge(); // leaving the loop cancels the stream
        chunks.push(b);
        opts.onProgress?.(done, total);
      }
    }
    return { status: res.status, body: Buffer.concat(chunks) };
  }
};

export interface ReleaseRef {
  repo: string;
  /** 'latest' or a tag. */
  tag: string;
}

/** "v0.57.0", "latest", or "owner/repo@tag" (another fork or the nightly repository). */
export function parseVersion(version: string): Result<ReleaseRef, OsvError> {
  const m = /^(?:([\w.-]+\/[\w.-]+)@)?([\w.+-]+)$/.exec(version.trim());
  if (!m || /^\.+$/.test(m[2]!))
    return err(
      new OsvError({
        code: 'kernel.bad-version',
        message: `kernel.version ${JSON.stringify(version)} is not a release tag`,
        hint: 'use "latest", a tag such as "v0.57.0", or "owner/repo@tag"',
        exitCode: ExitCode.invalidInput,
      }),
    );
  return ok({ repo: m[1] ?? DEFAULT_REPO, tag: m[2]! });
}

export interface ReleaseAsset {
  name: string;
  url: string;
  size: number;
}

export interface Release {
  tag: string;
  htmlUrl: string;
  assets: ReleaseAsset[];
}

export const releasePage = (r: ReleaseRef): string =>
  r.tag === 'latest' ? `https://github.com/${r.repo}/releases/latest` : `https://github.com/${r.repo}/releases/tag/${r.tag}`;

export const releaseApiUrl = (r: ReleaseRef, api = DEFAULT_API): string =>
  `${api.replace(/\/$/, '')}/repos/${r.repo}/releases/${r.tag === 'latest' ? 'latest' : `tags/${encodeURIComponent(r.tag)}`}`;

/** Thrown-as-value when the network (or GitHub) cannot be used; the caller adds instructions. */
export class NetworkProblem {
  constructor(
    readonly url: string,
    readonly reason: string,
  ) {}
}

async function get(http: HttpGet, url: string, opts: HttpGetOptions): Promise<HttpResponse | NetworkProblem> {
  try {
    return await http(url, opts);
  } catch (e) {
    return new NetworkProblem(url, networkReason(e));
  }
}

export async function fetchRelease(ref: ReleaseRef, http: HttpGet, api = DEFAULT_API): Promise<Result<Release, OsvError> | NetworkProblem> {
  const url = releaseApiUrl(ref, api);
  const res = await get(http, url, { headers: { accept: 'application/vnd.github+json' }, maxBytes: LIMITS.apiBytes });
  if (res instanceof NetworkProblem) return res;
  if (res.status === 404)
    return err(
      new OsvError({
        code: 'kernel.no-release',
        message: `there is no release ${ref.tag} in ${ref.repo}`,
        hint: `see https://github.com/${ref.repo}/releases for the tags, or use "latest"`,
        exitCode: ExitCode.invalidInput,
      }),
    );
  if (res.status !== 200) return new NetworkProblem(url, `HTTP ${res.status}${res.status === 403 ? ' (GitHub API rate limit?)' : ''}`);
  try {
    const j = JSON.parse(res.body.toString('utf8')) as {
      tag_name?: unknown;
      html_url?: unknown;
      assets?: Array<{ name?: unknown; browser_download_url?: unknown; size?: unknown }>;
    };
    if (typeof j.tag_name !== 'string' || !Array.isArray(j.assets)) throw new Error('no tag_name or assets');
    return ok({
      tag: j.tag_name,
      htmlUrl: typeof j.html_url === 'string' ? j.html_url : releasePage({ repo: ref.repo, tag: j.tag_name }),
      assets: j.assets.flatMap((a) =>
        typeof a.name === 'string' && typeof a.browser_download_url === 'string'
          ? [{ name: a.name, url: a.browser_download_url, size: typeof a.size === 'number' ? a.size : 0 }]
          : [],
      ),
    });
  } catch (e) {
    return new NetworkProblem(url, `unexpected answer (${(e as Error).message})`);
  }
}

export type AssetRole = 'elf' | 'img';

/** How a role's asset name looks, for selection and for the by-hand instructions. */
export const roleMarker = (role: AssetRole, arch: Arch): string => (role === 'elf' ? `.elf.${arch}` : `.qemu.${arch}`);

/**
 * Pick the direct-boot ELF and the loader.img among a release's assets: names containing
 * `.elf.<arch>` / `.qemu.<arch>` (optionally `.gz`), builder images excluded. Ties go to
 * the hidden-symbols variant when the kernel is configured that way (and away from it
 * otherwise), then to the plainest name (osv-loader.* / loader.*), then the shortest.
 */
export function selectAssets(assets: ReleaseAsset[], arch: Arch, hiddenSymbols: boolean): Partial<Record<AssetRole, ReleaseAsset>> {
  const pick = (role: AssetRole): ReleaseAsset | undefined => {
    const marker = roleMarker(role, arch);
    const candidates = assets.filter((a) => {
      const n = a.name.toLowerCase();
      return (n.endsWith(marker) || n.endsWith(`${marker}.gz`)) && !/zfs[-_]builder|\.mpm|\.yaml$/.test(n);
    });
    const score = (a: ReleaseAsset): [number, number, number] => {
      const n = a.name.toLowerCase();
      return [n.includes('hidden') === hiddenSymbols ? 0 : 1, /^(osv-)?loader\./.test(n) ? 0 : 1, n.length];
    };
    return candidates.sort((a, b) => {
      const [x, y] = [score(a), score(b)];
      return x[0] - y[0] || x[1] - y[1] || x[2] - y[2] || (a.name < b.name ? -1 : 1);
    })[0];
  };
  const out: Partial<Record<AssetRole, ReleaseAsset>> = {};
  const elf = pick('elf');
  const img = pick('img');
  if (elf) out.elf = elf;
  if (img) out.img = img;
  return out;
}

/** Download an asset and gunzip it when it is gzip data (by magic, whatever the name says). */
export async function downloadAsset(
  asset: ReleaseAsset,
  http: HttpGet,
  onProgress?: (bytes: number, total: number | undefined) => void,
): Promise<Result<Buffer, OsvError> | NetworkProblem> {
  const res = await get(http, asset.url, { headers: { accept: 'application/octet-stream' }, maxBytes: LIMITS.assetBytes, ...(onProgress ? { onProgress } : {}) });
  if (res instanceof NetworkProblem) return res;
  if (res.status !== 200) return new NetworkProblem(asset.url, `HTTP ${res.status}`);
  if (res.body.length >= 2 && res.body[0] === 0x1f && res.body[1] === 0x8b) {
    try {
      return ok(gunzipSync(res.body, { maxOutputLength: LIMITS.unpackedBytes }));
    } catch (e) {
      const huge = (e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE';
      return err(
        new OsvError({
          code: 'kernel.bad-download',
          message: huge
            ? `${asset.name} from ${asset.url} unpacks to more than ${LIMITS.unpackedBytes / MiB} MiB: not an OSv kernel`
            : `${asset.name} from ${asset.url} is damaged gzip data: ${(e as Error).message}`,
          hint: 'run `osv kernel pull` again',
          exitCode: ExitCode.buildFailed,
        }),
      );
    }
  }
  return ok(res.body);
}
