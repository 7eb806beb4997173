// `osv push REF` of an up-to-date build is answered by its own small bundle (dist/fast-push.cjs),
// before the command's bundle with commander and the build's code is loaded. It must read the
// command line as commander does, push exactly what the full path pushes, report failures as the
// full path does, and leave to the full path every push it does not take (a build to make, named
// volumes, a layout target, --force), before anything was sent.

import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePushArgs } from '../../src/cli/push-args.js';
import { GLOBAL_FLAGS, PUSH_FLAGS } from '../../src/tasks/flags.js';
import { extKernelReason } from '../helpers/ext-kernel.js';
import { probed } from '../helpers/loaded-files.js';
import { hasRegistryTools, registryToolsReason, startRegistry, type Registry } from '../helpers/registry.js';
import { lacks } from '../helpers/skip.js';
import { hasGcc, hasTool } from '../helpers/tools.js';

/** What commander makes of `osv ARGS` with the real push flags: the push's options, -C and the ref. */
function commanderReads(args: string[]): { ref: string; options: Record<string, unknown> } {
  const program = new Command('osv').exitOverride().configureOutput({ writeErr: () => {}, writeOut: () => {} });
  for (const [flags, help] of GLOBAL_FLAGS) program.option(flags, help);
  let seen: { ref: string; options: Record<string, unknown> } | undefined;
  const push = program.command('push').argument('<ref>');
  for (const [flags, help] of PUSH_FLAGS) push.option(flags, help);
  push.action((ref: string, opts: Record<string, unknown>) => {
    seen = { ref, options: { ...opts } };
  });
  program.parse(args, { from: 'user' });
  if (!seen) throw new Error('the push action did not run');
  const dir = program.opts<{ dir?: string }>().dir;
  // commander fills in the default of a negatable flag (check: true); the fast path gives only what was said.
  if (seen.options['check'] === true) delete seen.options['check'];
  return dir === undefined ? seen : { ...seen, options: { ...seen.options, dir } };
}

describe('parsePushArgs', () => {
  const taken = [
    ['push', 'r.example/a:1'],
    ['push', 'r.example/a:1', '--json'],
    ['push', '-q', 'r.example/a:1', '--no-check'],
    ['-C', 'some/dir', 'push', 'r.example/a:1'],
    ['push', 'r.example/a:1', '--run=test', '--locked'],
    ['push', '--config', 'other.yaml', 'r.example/a:1'],
    ['push', 'r.example/a:1', '-C', 'some/dir'],
  ];
  it.each(taken)('reads %j as commander does', (...args: string[]) => {
    const fast = parsePushArgs(args);
    expect(fast).toBeDefined();
    expect(fast).toEqual(commanderReads(args));
  });

  const left = [
    ['push'],
    ['push', 'a', 'b'],
    ['push', 'r.example/a:1', '--help'],
    ['push', '--bogus', 'r.example/a:1'],
    ['push', '--run'],
    ['-q', 'push', 'r.example/a:1'], // a push flag before the command word: commander refuses it
    ['push', '--', 'r.example/a:1'],
    ['build', 'r.example/a:1'],
    // read, but the full path's: a build, and targets the fast path does not write
    ['push', 'r.example/a:1', '--force'],
    ['push', 'oci:out:1'],
    ['push', 'oci-archive:out.tar'],
  ];
  it.each(left)('leaves %j to the full path', (...args: string[]) => {
    expect(parsePushArgs(args)).toBeUndefined();
  });
});

const kernel = process.env['OSV_KERNEL'];

if (process.env['OSV_KERNEL'] && extKernelReason) console.warn(`skipped: osv push of a project with named volumes: ${extKernelReason}`);

describe.skipIf(
  lacks('fast push (processes)', [kernel, 'OSV_KERNEL is not set (the build needs an OSv kernel to push)'], [hasRegistryTools, registryToolsReason ?? ''], [hasGcc, 'gcc is not installed (it compiles hello-c)'], [hasTool('qemu-img'), 'qemu-img is not installed']),
)('osv push of an up-to-date build, as a process', () => {
  const ROOT = join(import.meta.dirname, '..', '..');
  let work: string;
  let reg: Registry;
  let env: NodeJS.ProcessEnv;
  let app: string;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'osv-fast-push-'));
    reg = await startRegistry();
    env = { PATH: process.env['PATH'], HOME: work, XDG_CACHE_HOME: join(work, 'cache'), OSV_KERNEL: kernel, CI: '1' };
    app = join(work, 'hello');
    cpSync(join(ROOT, 'examples', 'hello-c'), app, { recursive: true });
    execFileSync('make', ['-s'], { cwd: app });
    writeFileSync(join(app, 'osv.yaml'), 'name: hello\ncmd: [./hello, world]\n');
  }, 120_000);
  afterAll(async () => {
    await reg?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  const push = (args: string[]): ReturnType<typeof probed> => probed(['push', ...args], { cwd: app, env });

  it('a push that builds takes the full path; the same push again, up to date, the fast path, with the same digest and output', () => {
    const built = push([`${reg.host}/fast/hello:1`, '--json']);
    expect(built.status, built.errors).toBe(0);
    // The fast path looked, found the build to make, and handed over.
    expect(built.own.slice(0, 3)).toEqual(['start.cjs', 'fast-push.cjs', 'commands/push.cjs']);
    const fast = push([`${reg.host}/fast/hello:1`, '--json']);
    expect(fast.status, fast.errors).toBe(0);
    expect(fast.own).toEqual(['start.cjs', 'fast-push.cjs']);
    expect(fast.packages).toEqual([]);
    const a = JSON.parse(built.stdout) as { digest: string; blobs: Array<{ role: string; action: string }> };
    const b = JSON.parse(fast.stdout) as typeof a;
    expect(b.digest).toBe(a.digest);
    expect(b.blobs.map((x) => [x.role, x.action])).toEqual([['kernel', 'exists'], ['disk', 'exists'], ['config', 'exists'], ['manifest', 'uploaded']]);
    // Plain output: the progress lines on stderr, the reference on stdout, as the full path prints them.
    const plain = push([`${reg.host}/fast/hello:1`]);
    expect(plain.own).toEqual(['start.cjs', 'fast-push.cjs']);
    expect(plain.stdout).toBe(`${reg.host}/fast/hello:1@${a.digest}\n`);
    expect(plain.errors).toMatch(/^osv: image up to date .*hello\.qcow2 \(\d+ files, .*\)\n  kernel   sha256:[0-9a-f]{12} .* exists\n/);
    // A new repository of the same registry: the fast path mounts the blobs it pushed to the first.
    const other = push([`${reg.host}/fast/other:1`, '--json']);
    expect(other.own).toEqual(['start.cjs', 'fast-push.cjs']);
    expect((JSON.parse(other.stdout) as typeof a).blobs.slice(0, 3).map((x) => x.action)).toEqual(['mounted', 'mounted', 'mounted']);
  });

  it('leaves --force and a layout target to the full path, without loading the fast path', () => {
    const forced = push([`${reg.host}/fast/hello:1`, '-q', '--force']);
    expect(forced.status, forced.errors).toBe(0);
    expect(forced.own.slice(0, 2)).toEqual(['start.cjs', 'commands/push.cjs']);
    const layout = push([`oci:${join(work, 'layout')}:1`, '-q']);
    expect(layout.status, layout.errors).toBe(0);
    expect(layout.own.slice(0, 2)).toEqual(['start.cjs', 'commands/push.cjs']);
  });

  // A writable named volume needs OSv's ext module beside the kernel: without it the build says so.
  it.skipIf(extKernelReason !== undefined)('leaves a project with named volumes to the full path (it pushes their seed images)', () => {
    const vol = join(work, 'vol');
    cpSync(app, vol, { recursive: true });
    writeFileSync(join(vol, 'osv.yaml'), 'name: vol\ncmd: [./hello, world]\nrun:\n  volumes: [{name: data, dest: /data, size: 16M}]\n');
    const first = probed(['push', `${reg.host}/fast/vol:1`, '-q'], { cwd: vol, env });
    expect(first.status, first.errors).toBe(0);
    const again = probed(['push', `${reg.host}/fast/vol:1`, '-q'], { cwd: vol, env });
    expect(again.status, again.errors).toBe(0);
    expect(again.own.slice(0, 3)).toEqual(['start.cjs', 'fast-push.cjs', 'commands/push.cjs']);
  });

  it('reports a registry that cannot be reached as the full path does (exit 3, the registry named), without falling back', async () => {
    const gone = await startRegistry();
    await gone.stop();
    const r = push([`${gone.host}/fast/hello:1`]);
    expect(r.own).toEqual(['start.cjs', 'fast-push.cjs']);
    expect(r.status).toBe(3);
    expect(r.errors).toContain(`error: cannot reach the registry ${gone.host}`);
    const json = push([`${gone.host}/fast/hello:1`, '--json']);
    expect(json.status).toBe(3);
    expect((JSON.parse(json.stdout) as { ok: boolean; errors: Array<{ code: string }> }).errors[0]!.code).toBe('oci.network');
  });
});
