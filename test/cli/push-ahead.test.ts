// `osv push` of an up-to-date build sends the first requests for the blobs its last push sent (a
// HEAD each, and an upload session for those never pushed to that registry) before it checks the
// build, so that the registry answers while the check holds the thread (BlobsAhead in
// src/oci/push.ts). What must hold: the push record names those blobs; the push uses the sessions
// opened ahead, or closes them when the build had changed (the registry keeps none open); and
// what is pushed is the image as built now, never the last one; a push that fails leaves no
// session open either. Each push goes through a front that records its requests
// (test/helpers/recording-proxy.ts). Each test starts from a project of its own.

import { execFileSync } from 'node:child_process';
import { appendFileSync, cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runOsvAsync } from '../helpers/osv.js';
import { startRecordingProxy, type Intercept, type RecordingProxy } from '../helpers/recording-proxy.js';
import { hasRegistryTools, openUploads, registryToolsReason, startRegistry, type Registry } from '../helpers/registry.js';
import { lacks } from '../helpers/skip.js';
import { hasGcc } from '../helpers/tools.js';

const kernel = process.env['OSV_KERNEL'];
const REPO = 'team/hello';

interface PushJson {
  digest: string;
  blobs: Array<{ role: string; digest: string; action: string }>;
}

describe.skipIf(
  lacks('requests sent ahead of the build check', [kernel, 'OSV_KERNEL is not set (the build needs an OSv kernel to push)'], [hasRegistryTools, registryToolsReason ?? ''], [hasGcc, 'gcc is not installed (it compiles hello-c)']),
)('osv push: the last push\'s blobs probed before the build check', () => {
  const ROOT = join(import.meta.dirname, '..', '..');
  let work: string;
  let env: NodeJS.ProcessEnv;
  let template: string;
  let projects = 0;
  const started: Array<{ reg: Registry; proxy: RecordingProxy }> = [];

  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'osv-push-ahead-'));
    env = { PATH: process.env['PATH'], HOME: work, XDG_CACHE_HOME: join(work, 'cache'), OSV_KERNEL: kernel, CI: '1' };
    template = join(work, 'template');
    cpSync(join(ROOT, 'examples', 'hello-c'), template, { recursive: true });
    execFileSync('make', ['-s'], { cwd: template });
    writeFileSync(join(template, 'osv.yaml'), 'name: hello\ncmd: [./hello, world]\n');
  }, 60_000);
  afterAll(async () => {
    for (const { reg, proxy } of started) {
      await proxy.stop();
      await reg.stop();
    }
    if (work) rmSync(work, { recursive: true, force: true });
  });

  /** A project of its own: the hello program, built, not yet pushed. */
  const newProject = (): string => {
    const dir = join(work, `app-${++projects}`);
    cpSync(template, dir, { recursive: true });
    return dir;
  };
  /** A registry that has nothing yet, behind a front that records the requests. */
  const freshRegistry = async (intercept?: Intercept): Promise<{ reg: Registry; proxy: RecordingProxy }> => {
    const reg = await startRegistry();
    const proxy = await startRecordingProxy(reg, intercept);
    started.push({ reg, proxy });
    return { reg, proxy };
  };
  const pushRun = (app: string, proxy: RecordingProxy): ReturnType<typeof runOsvAsync> => runOsvAsync(['push', `${proxy.host}/${REPO}:1`, '--json'], { cwd: app, env });
  const push = async (app: string, proxy: RecordingProxy): Promise<PushJson> => {
    const r = await pushRun(app, proxy);
    expect(r.code, r.out).toBe(0);
    return JSON.parse(r.stdout) as PushJson;
  };
  /** The project pushed once (to a registry of its own): what its push record says. */
  const pushedOnce = async (app: string): Promise<string[]> => {
    const { proxy } = await freshRegistry();
    const first = await push(app, proxy);
    expect(recorded(app)).toEqual(layersAndConfig(first));
    expect(layersAndConfig(first)).toHaveLength(3);
    return layersAndConfig(first);
  };
  const recorded = (app: string): unknown => (JSON.parse(readFileSync(join(app, '.osv', 'hello.push.json'), 'utf8')) as { blobs?: unknown }).blobs;
  const layersAndConfig = (j: PushJson): string[] => j.blobs.filter((b) => b.role !== 'manifest').map((b) => b.digest);
  const heads = (p: RecordingProxy): string[] => p.requests.flatMap((r) => (r.startsWith(`HEAD /v2/${REPO}/blobs/`) ? [r.slice(r.lastIndexOf('/') + 1)] : []));
  const sessions = (p: RecordingProxy): string[] => p.requests.filter((r) => r === `POST /v2/${REPO}/blobs/uploads/`);
  const deletes = (p: RecordingProxy): string[] => p.requests.filter((r) => r.startsWith('DELETE '));

  it('records the blobs a push sent; the next push of the same build uses the sessions it opened ahead, and leaves none open', async () => {
    const app = newProject();
    const blobs = await pushedOnce(app);

    // Up to date, to a registry that has none of them: each blob asked once, one session each, all used.
    const other = await freshRegistry();
    const again = await push(app, other.proxy);
    expect(again.blobs.map((b) => b.action)).toEqual(['uploaded', 'uploaded', 'uploaded', 'uploaded']);
    expect(layersAndConfig(again)).toEqual(blobs);
    expect(heads(other.proxy).sort()).toEqual([...blobs].sort());
    expect(sessions(other.proxy)).toHaveLength(3);
    expect(deletes(other.proxy)).toEqual([]);
    expect(openUploads(other.reg, REPO)).toEqual([]);

    // Once more: the registry has them all, and this machine knows it pushed them there: HEADs only.
    other.proxy.requests.length = 0;
    const third = await push(app, other.proxy);
    expect(third.blobs.map((b) => b.action)).toEqual(['exists', 'exists', 'exists', 'uploaded']);
    expect(sessions(other.proxy)).toEqual([]);
    expect(openUploads(other.reg, REPO)).toEqual([]);
  });

  it('after the program changed: the last push\'s blobs are probed ahead, their sessions closed, and the image as built now is pushed', async () => {
    const app = newProject();
    const before = await pushedOnce(app);
    appendFileSync(join(app, 'hello'), 'a change: the build is no longer up to date\n');
    const { reg, proxy } = await freshRegistry();
    const pushed = await push(app, proxy);
    const disk = pushed.blobs.find((b) => b.role === 'disk')!.digest;
    expect(before).not.toContain(disk);
    // The old disk and config were asked for: only the probes sent ahead ask for a blob the push does not send.
    const old = before.filter((d) => !layersAndConfig(pushed).includes(d));
    expect(old).toHaveLength(2);
    expect(heads(proxy)).toEqual(expect.arrayContaining(old));
    // Their sessions (and the kernel's, opened ahead too, before the check said the build had changed) closed.
    expect(deletes(proxy)).toHaveLength(3);
    expect(openUploads(reg, REPO)).toEqual([]);
    expect(pushed.blobs.map((b) => b.action)).toEqual(['uploaded', 'uploaded', 'uploaded', 'uploaded']);
    expect(recorded(app)).toEqual(layersAndConfig(pushed));
  });

  it('after a build that was not pushed: the push is up to date, the last push\'s other blobs are probed and their sessions closed', async () => {
    const app = newProject();
    const before = await pushedOnce(app);
    appendFileSync(join(app, 'hello'), 'another change\n');
    const build = await runOsvAsync(['build', '--format', 'qcow2', '-q'], { cwd: app, env });
    expect(build.code, build.out).toBe(0);
    const { reg, proxy } = await freshRegistry();
    const pushed = await push(app, proxy);
    const old = before.filter((d) => !layersAndConfig(pushed).includes(d));
    expect(old).toHaveLength(2);
    expect(heads(proxy)).toEqual(expect.arrayContaining(old));
    expect(deletes(proxy)).toHaveLength(2);
    expect(openUploads(reg, REPO)).toEqual([]);
    expect(recorded(app)).toEqual(layersAndConfig(pushed));
  });

  it('a push that fails leaves no session open: the uploads under way end before osv reports and exits', async () => {
    const app = newProject();
    const [, , config] = await pushedOnce(app);
    // The config's HEAD fails; the layers' uploads (PUTs) are held for a second first.
    const { reg, proxy } = await freshRegistry(async (req, res) => {
      if (req.method === 'HEAD' && req.url?.endsWith(config!)) {
        res.writeHead(500).end();
        return true;
      }
      if (req.method === 'PUT') await new Promise((r) => setTimeout(r, 1000));
      return false;
    });
    const r = await pushRun(app, proxy);
    expect(r.code, r.out).not.toBe(0);
    expect(r.stdout).toContain('answered 500');
    expect(openUploads(reg, REPO)).toEqual([]);
  });
});
