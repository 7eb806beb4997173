// `osv push` to a registry that checks Bearer tokens itself: docker-registry with `auth: token`,
// its tokens issued by a small token server in this process (test/helpers/token-server.ts). Every
// request of the push carries a token the registry verifies, the upload's PUT to the Location
// the registry named after the POST among them; a cross-repository mount needs a token with pull
// on the source too. Without good credentials the registry refuses, and osv says so.

import { execFileSync, spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasRegistryTools, registryToolsReason, startRegistry, type Registry } from '../helpers/registry.js';
import { lacks } from '../helpers/skip.js';
import { startTokenServer, type TokenServer } from '../helpers/token-server.js';
import { hasGcc, onPath } from '../helpers/tools.js';
import { runOsvAsync } from '../helpers/osv.js';

const ROOT = join(import.meta.dirname, '..', '..');
const kernel = process.env['OSV_KERNEL'];

interface PushJson {
  digest: string;
  blobs: Array<{ role: string; action: string }>;
}

/** A process run without blocking this one, which serves the tokens. */
function run(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv }): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  return new Promise((r) => child.on('close', (code) => r({ code, stdout, stderr })));
}

describe.skipIf(
  lacks('osv push to a token-auth registry', [kernel, 'OSV_KERNEL is not set (the build needs an OSv kernel to push)'], [hasRegistryTools, registryToolsReason ?? ''], [onPath('openssl'), 'openssl is not installed (it makes the token signing certificate)'], [hasGcc, 'gcc is not installed']),
)('osv push to docker-registry with auth: token', () => {
  let work: string;
  let tokens: TokenServer;
  let reg: Registry;
  let env: NodeJS.ProcessEnv;
  let app: string;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'osv-push-token-'));
    tokens = await startTokenServer(work, 'dave', 'token-pass-9');
    reg = await startRegistry({ token: tokens.auth });
    mkdirSync(join(work, 'docker'));
    writeFileSync(join(work, 'docker', 'config.json'), JSON.stringify({ auths: { [reg.host]: { auth: Buffer.from('dave:token-pass-9').toString('base64') } } }));
    env = { PATH: process.env['PATH'], HOME: work, DOCKER_CONFIG: join(work, 'docker'), XDG_CACHE_HOME: join(work, 'cache'), OSV_KERNEL: kernel, CI: '1' };
    app = join(work, 'app');
    cpSync(join(ROOT, 'examples', 'hello-c'), app, { recursive: true });
    execFileSync('make', ['-s'], { cwd: app });
  }, 60_000);
  afterAll(async () => {
    await reg?.stop();
    await tokens?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  const push = async (target: string, extraEnv: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; json?: PushJson; stderr: string; stdout: string }> => {
    const r = await runOsvAsync(['push', target, '--json'], { cwd: app, env: { ...env, ...extraEnv } });
    return { ...r, ...(r.code === 0 ? { json: JSON.parse(r.stdout) as PushJson } : {}) };
  };

  it('uploads every blob (POST, then PUT to the Location, each with the token), then the manifest; skopeo reads it back', async () => {
    const a = await push(`${reg.host}/team/app:1`);
    expect(a.code, a.stderr + a.stdout).toBe(0);
    expect(a.json!.blobs.map((b) => [b.role, b.action])).toEqual([['kernel', 'uploaded'], ['disk', 'uploaded'], ['config', 'uploaded'], ['manifest', 'uploaded']]);
    expect(tokens.requests.some((t) => t.granted && t.scopes.includes('repository:team/app:pull,push'))).toBe(true);
    const inspect = await run('skopeo', ['inspect', '--raw', '--tls-verify=false', '--creds', 'dave:token-pass-9', `docker://${reg.host}/team/app:1`], {});
    expect(inspect.code, inspect.stderr).toBe(0);
    expect((JSON.parse(inspect.stdout) as { layers: unknown[] }).layers).toHaveLength(2);
    // Again: every blob found by a HEAD with a token. The push's first requests go out at once
    // (the login, and a HEAD per blob before the build check): one token serves them all.
    const asked = tokens.requests.length;
    const again = await push(`${reg.host}/team/app:1`);
    expect(again.json!.digest).toBe(a.json!.digest);
    expect(again.json!.blobs.slice(0, 3).map((b) => b.action)).toEqual(['exists', 'exists', 'exists']);
    expect(tokens.requests.slice(asked)).toEqual([{ scopes: ['repository:team/app:pull,push'], granted: true }]);
  });

  it('mounts across repositories with a token that also grants pull on the source', async () => {
    const b = await push(`${reg.host}/team/other:1`);
    expect(b.code, b.stderr + b.stdout).toBe(0);
    expect(b.json!.blobs.slice(0, 3).map((x) => x.action)).toEqual(['mounted', 'mounted', 'mounted']);
    expect(tokens.requests.some((t) => t.scopes.includes('repository:team/other:pull,push') && t.scopes.includes('repository:team/app:pull'))).toBe(true);
  });

  it('refused credentials: the registry refuses the token service\'s empty token, and osv names the credentials', async () => {
    mkdirSync(join(work, 'bad'), { recursive: true });
    writeFileSync(join(work, 'bad', 'config.json'), JSON.stringify({ auths: { [reg.host]: { auth: Buffer.from('dave:wrong').toString('base64') } } }));
    const r = await push(`${reg.host}/team/app:2`, { DOCKER_CONFIG: join(work, 'bad') });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('oci.unauthorized');
    expect(r.stdout).not.toContain('wrong');
  });
});
