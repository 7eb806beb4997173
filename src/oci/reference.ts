// Image references as osv.yaml's `from:` writes them: a registry reference with Docker's
// naming rules (`redis:7` is docker.io/library/redis:7), an OCI image layout directory
// (`oci:PATH[:TAG]`), a `docker save` tarball (`docker-archive:PATH[:REF]`) or an OCI
// layout in a tarball (`oci-archive:PATH[:TAG]`). Parsing is pure; paths stay as written
// and are resolved against the project directory by whoever opens them.

import { err, ok, type Result } from '../diagnostics/result.js';
import { isDigest, type Digest } from './digest.js';

export const DOCKER_HUB = 'docker.io';
/** Where Docker Hub's registry API answers. */
export const DOCKER_HUB_API = 'registry-1.docker.io';

export interface RegistryReference {
  transport: 'registry';
  /** Registry host as the user names it (`docker.io`, `ghcr.io`, `127.0.0.1:5000`). */
  registry: string;
  /** Repository path (`library/redis`). */
  repository: string;
  tag?: string;
  /** When given, it wins over the tag. */
  digest?: Digest;
}

export interface LayoutReference {
  transport: 'oci' | 'oci-archive';
  /** Directory (oci) or tar file (oci-archive), as written. */
  path: string;
  /** The `org.opencontainers.image.ref.name` to pick; none = the only image. */
  tag?: string;
}

export interface DockerArchiveReference {
  transport: 'docker-archive';
  path: string;
  /** A RepoTags entry (`repo:tag`) to pick; none = the only image. */
  ref?: string;
}

export type ImageReference = RegistryReference | LayoutReference | DockerArchiveReference;

// distribution-spec grammar
const COMPONENT = '[a-z0-9]+(?:(?:\\.|_|__|-+)[a-z0-9]+)*';
const NAME = new RegExp(`^${COMPONENT}(?:/${COMPONENT})*$`);
const TAG = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;
const HOST = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*)(?::[0-9]{1,5})?$/;

const bad = (text: string, why: string): Result<never, string> => err(`"${text}" is not an image reference: ${why}`);

/** Parse a reference; the error is a sentence naming what is wrong. */
export function parseReference(text: string): Result<ImageReference, string> {
  if (text.trim() !== text || text === '') return bad(text, 'it is empty or has surrounding blanks');
  for (const transport of ['oci-archive', 'oci', 'docker-archive'] as const) {
    if (!text.startsWith(`${transport}:`)) continue;
    const rest = text.slice(transport.length + 1);
    // The path ends at the first colon (paths with colons cannot be named, as with skopeo).
    const colon = rest.indexOf(':');
    const path = colon < 0 ? rest : rest.slice(0, colon);
    const extra = colon < 0 ? undefined : rest.slice(colon + 1);
    if (path === '') return bad(text, `${transport}: needs a path`);
    // skopeo's syntax has no digest for a layout: DIR@sha256:... would read as a path and a tag.
    if (transport !== 'docker-archive' && /@sha256$/.test(path))
      return bad(text, `${transport}: names an image by tag (${transport}:PATH:TAG), or by PATH alone when it holds one image; not by digest`);
    if (transport === 'docker-archive') {
      if (extra === undefined) return ok({ transport, path });
      const r = parseRegistry(extra);
      if (!r.ok || r.value.digest) return bad(text, `after the path comes a repo:tag from the archive's RepoTags, not "${extra}"`);
      return ok({ transport, path, ref: extra });
    }
    if (extra !== undefined && !TAG.test(extra)) return bad(text, `"${extra}" is not a valid tag`);
    return ok({ transport, path, ...(extra !== undefined ? { tag: extra } : {}) });
  }
  const r = parseRegistry(text.startsWith('docker://') ? text.slice('docker://'.length) : text);
  return r.ok ? r : bad(text, r.error);
}

function parseRegistry(text: string): Result<RegistryReference, string> {
  let rest = text;
  let digest: Digest | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    const d = rest.slice(at + 1);
    if (!isDigest(d)) return err(`"${d}" is not a sha256 digest (sha256: and 64 lowercase hex digits)`);
    digest = d;
    rest = rest.slice(0, at);
  }
  let registry = DOCKER_HUB;
  const slash = rest.indexOf('/');
  const first = slash < 0 ? '' : rest.slice(0, slash);
  // The first component names a registry only if it looks like a host.
  if (slash >= 0 && (first.includes('.') || first.includes(':') || first === 'localhost')) {
    if (!HOST.test(first)) return err(`"${first}" is not a registry host`);
    const port = /:([0-9]+)$/.exec(first)?.[1];
    if (port !== undefined && !(Number(port) >= 1 && Number(port) <= 65535)) return err(`the registry port must be 1-65535, not ${port}`);
    registry = first;
    rest = rest.slice(slash + 1);
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon >= 0 && !rest.slice(colon).includes('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) return err(`"${tag}" is not a valid tag`);
  }
  if (registry === 'index.docker.io' || registry === DOCKER_HUB_API) registry = DOCKER_HUB;
  if (registry === DOCKER_HUB && !rest.includes('/')) rest = `library/${rest}`;
  if (!NAME.test(rest)) return err(`"${rest}" is not a valid repository name (lowercase letters, digits and . _ - separators)`);
  return ok({ transport: 'registry', registry, repository: rest, ...(tag !== undefined ? { tag } : {}), ...(digest ? { digest } : {}) });
}

/** The reference in its full form (`docker.io/library/redis:7`), for messages and the lock. */
export function formatReference(r: ImageReference): string {
  switch (r.transport) {
    case 'registry':
      return `${r.registry}/${r.repository}${r.tag !== undefined ? `:${r.tag}` : r.digest ? '' : ':latest'}${r.digest ? `@${r.digest}` : ''}`;
    case 'docker-archive':
      return `docker-archive:${r.path}${r.ref !== undefined ? `:${r.ref}` : ''}`;
    default:
      return `${r.transport}:${r.path}${r.tag !== undefined ? `:${r.tag}` : ''}`;
  }
}

/** What to ask the registry for: the digest when pinned, else the tag (default latest). */
export const manifestRef = (r: RegistryReference): string => r.digest ?? r.tag ?? 'latest';

/** The host the registry API answers on (Docker Hub's differs from its name). */
export const apiHost = (registry: string): string => (registry === DOCKER_HUB ? DOCKER_HUB_API : registry);

/**
 * The ports Node's fetch refuses to connect to ("bad port"): the Fetch standard's blocked ports,
 * as Node 20's fetch has them. A registry served on one cannot be pulled from.
 */
const FETCH_BLOCKED_PORTS = new Set([
  1, 7, 9, 11, 13, 15, 17, 19, 20, 21, 22, 23, 25, 37, 42, 43, 53, 69, 77, 79, 87, 95, 101, 102, 103, 104, 109, 110, 111, 113, 115, 117, 119, 123, 135, 137, 139, 143, 161, 179, 389,
  427, 465, 512, 513, 514, 515, 526, 530, 531, 532, 540, 548, 554, 556, 563, 587, 601, 636, 989, 990, 993, 995, 1719, 1720, 1723, 2049, 3659, 4045, 4190, 5060, 5061, 6000, 6566, 6665,
  6666, 6667, 6668, 6669, 6679, 6697, 10080,
]);

/** The registry's port when it is one fetch refuses (a sentence for the user), else undefined. */
export function fetchBlockedPort(registry: string): string | undefined {
  const port = /:([0-9]+)$/.exec(registry)?.[1];
  if (port === undefined || !FETCH_BLOCKED_PORTS.has(Number(port))) return undefined;
  return `port ${Number(port)} is one of the ports Node's fetch refuses to connect to (the Fetch standard's blocked ports, such as 1, 22, 25 and 6000)`;
}

/** Plain HTTP only where common tools use it by default: localhost, 127.0.0.0/8 and ::1. */
export function isPlainHttpHost(registry: string): boolean {
  const host = registry.startsWith('[') ? registry.slice(0, registry.indexOf(']') + 1) : registry.replace(/:[0-9]+$/, '');
  return host === 'localhost' || host === '[::1]' || /^127\.(?:[0-9]{1,3}\.){2}[0-9]{1,3}$/.test(host);
}
