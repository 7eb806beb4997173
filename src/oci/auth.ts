// Registry credentials, found where the container tools keep them, and the challenge-response
// flows (Basic, and Bearer tokens from the realm a 401 names). A secret lives in a Secret,
// which prints, logs and serializes as "[redacted]": it can reach no message, --json output,
// log line or lock file by accident.
//
// Where credentials are looked up, first hit wins:
//   $REGISTRY_AUTH_FILE                       (podman, skopeo)
//   $DOCKER_CONFIG/config.json, else ~/.docker/config.json: credHelpers[host], then
//                                             auths[host], then credsStore
//   $XDG_RUNTIME_DIR/containers/auth.json     (podman's default)
// Nothing found: anonymous (enough for public images).

import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { ExitCode, OsvError } from '../diagnostics/error.js';
import { which } from '../which.js';
import { DOCKER_HUB } from './reference.js';

export class Secret {
  readonly #value: string;
  constructor(value: string) {
    this.#value = value;
  }
  reveal(): string {
    return this.#value;
  }
  toString(): string {
    return '[redacted]';
  }
  toJSON(): string {
    return '[redacted]';
  }
  [inspect.custom](): string {
    return '[redacted]';
  }
}

export interface Credential {
  username: string;
  secret: Secret;
  /** The secret is an identity (refresh) token, not a password (docker's "<token>" user). */
  identityToken: boolean;
  /** Where it was found, for messages (a file or a helper program, never the secret). */
  from: string;
}

/** Docker Hub is stored under its v1 URL by the docker CLI. */
const DOCKER_HUB_KEYS = ['https://index.docker.io/v1/', 'index.docker.io', 'docker.io', 'registry-1.docker.io'];

/** "https://ghcr.io/v2/" -> "ghcr.io": how entries in `auths` are matched to a registry. */
const hostOf = (key: string): string => key.replace(/^[a-z]+:\/\//, '').replace(/\/.*$/, '');

interface AuthFile {
  auths?: Record<string, { auth?: string; username?: string; password?: string; identitytoken?: string }>;
  credHelpers?: Record<string, string>;
  credsStore?: string;
}

function readAuthFile(path: string): AuthFile | undefined {
  let text: string;
  try {
    text = fs.readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
  try {
    const v = JSON.parse(text) as unknown;
    return typeof v === 'object' && v !== null ? (v as AuthFile) : undefined;
  } catch {
    throw new OsvError({ code: 'oci.auth-file', message: `${path} is not valid JSON`, hint: 'fix the file, or move it away to pull anonymously', exitCode: ExitCode.invalidInput });
  }
}

function fromAuths(file: AuthFile, registry: string, path: string): Credential | undefined {
  const keys = registry === DOCKER_HUB ? DOCKER_HUB_KEYS : [registry];
  for (const [key, entry] of Object.entries(file.auths ?? {})) {
    const host = hostOf(key);
    if (!keys.includes(key) && !keys.includes(host)) continue;
    if (entry.identitytoken) return { username: entry.username ?? '', secret: new Secret(entry.identitytoken), identityToken: true, from: path };
    let user = entry.username;
    let pass = entry.password;
    if (entry.auth) {
      const plain = Buffer.from(entry.auth, 'base64').toString('utf8');
      const colon = plain.indexOf(':');
      if (colon < 0) throw new OsvError({ code: 'oci.auth-file', message: `${path}: the "auth" entry for ${key} is not base64 of user:password`, exitCode: ExitCode.invalidInput });
      user = plain.slice(0, colon);
      pass = plain.slice(colon + 1);
    }
    if (user !== undefined && pass !== undefined && (user !== '' || pass !== '')) return { username: user, secret: new Secret(pass), identityToken: false, from: path };
  }
  return undefined;
}

/** `docker-credential-<suffix> get`, the server on stdin; undefined when it has nothing. */
function fromHelper(suffix: string, registry: string, env: NodeJS.ProcessEnv): Promise<Credential | undefined> {
  const program = `docker-credential-${suffix}`;
  const server = registry === DOCKER_HUB ? DOCKER_HUB_KEYS[0]! : registry;
  // A name, never a path; looked up in PATH's absolute entries only (src/which.ts).
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(suffix))
    return Promise.reject(new OsvError({ code: 'oci.credential-helper', message: `the credential helper "${program}" (named in the docker config) is not a program name`, hint: 'a credsStore or credHelpers value names a docker-credential-NAME program on PATH, such as "pass" or "secretservice"', exitCode: ExitCode.invalidInput }));
  const found = which(program, env['PATH'] ?? '');
  if (!found)
    return Promise.reject(new OsvError({ code: 'oci.credential-helper', message: `the credential helper ${program} (named in the docker config) is not installed (not found in PATH's absolute directories)`, hint: `install it, or remove it from ~/.docker/config.json`, exitCode: ExitCode.invalidInput }));
  return new Promise((resolve, reject) => {
    const child = execFile(found, ['get'], { env, timeout: 30_000, maxBuffer: 1 << 20 }, (error, stdout) => {
      if (error) {
        // "credentials not found in native keychain": nothing stored for this server.
        resolve(undefined);
        return;
      }
      try {
        const v = JSON.parse(stdout) as { Username?: string; Secret?: string };
        if (typeof v.Secret !== 'string' || v.Secret === '') return resolve(undefined);
        const token = v.Username === '<token>';
        resolve({ username: token ? '' : (v.Username ?? ''), secret: new Secret(v.Secret), identityToken: token, from: program });
      } catch {
        reject(new OsvError({ code: 'oci.credential-helper', message: `${program} get printed something that is not JSON`, exitCode: ExitCode.invalidInput }));
      }
    });
    // A helper that exits without reading the server name closes its stdin: EPIPE, not a crash.
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(server);
  });
}

/** The credential for a registry (as named in references: docker.io, ghcr.io, host:port). */
export async function findCredential(registry: string, env: NodeJS.ProcessEnv = process.env): Promise<Credential | undefined> {
  const explicit = env['REGISTRY_AUTH_FILE'];
  if (explicit) {
    const f = readAuthFile(explicit);
    const c = f && fromAuths(f, registry, explicit);
    if (c) return c;
  }
  const dockerDir = env['DOCKER_CONFIG'] || join(env['HOME'] || homedir(), '.docker');
  const dockerPath = join(dockerDir, 'config.json');
  const docker = readAuthFile(dockerPath);
  if (docker) {
    const keys = registry === DOCKER_HUB ? DOCKER_HUB_KEYS : [registry];
    const helper = Object.entries(docker.credHelpers ?? {}).find(([k]) => keys.includes(k) || keys.includes(hostOf(k)))?.[1];
    if (helper) return fromHelper(helper, registry, env);
    const c = fromAuths(docker, registry, dockerPath);
    if (c) return c;
    if (docker.credsStore) {
      const h = await fromHelper(docker.credsStore, registry, env);
      if (h) return h;
    }
  }
  const runtime = env['XDG_RUNTIME_DIR'];
  if (runtime) {
    const p = join(runtime, 'containers', 'auth.json');
    const f = readAuthFile(p);
    const c = f && fromAuths(f, registry, p);
    if (c) return c;
  }
  return undefined;
}

export interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

/** `Bearer realm="https://x/token",service="x",scope="a:b:pull"` (quoted values may hold commas). */
export function parseChallenge(header: string): Challenge | undefined {
  const m = /^\s*([A-Za-z]+)\s*(.*)$/s.exec(header);
  if (!m) return undefined;
  const params: Record<string, string> = {};
  const re = /\s*([A-Za-z_]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))\s*,?/gy;
  const rest = m[2]!;
  let p: RegExpExecArray | null;
  while (re.lastIndex < rest.length && (p = re.exec(rest)) !== null) params[p[1]!.toLowerCase()] = p[2] !== undefined ? p[2].replace(/\\(.)/g, '$1') : p[3]!;
  return { scheme: m[1]!.toLowerCase(), params };
}

export const basicHeader = (c: Credential): string => `Basic ${Buffer.from(`${c.username}:${c.secret.reveal()}`).toString('base64')}`;
