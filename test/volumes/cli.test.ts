// `osv volume ls|inspect|rm|export` through the built CLI, on volumes made by the real mke2fs
// as a run makes them (seeded, so that there are files to see and copy out).

import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findTool } from '../../src/image/tools.js';
import { recordUse, updateMeta } from '../../src/volumes/meta.js';
import { projectVolumesDir } from '../../src/volumes/paths.js';
import { ensureVolume } from '../../src/volumes/store.js';
import { runOsv } from '../helpers/osv.js';

const reason = !findTool('mke2fs') || !findTool('debugfs') || !findTool('e2fsck') ? 'e2fsprogs (mke2fs, debugfs, e2fsck) is not installed' : undefined;
if (reason) console.warn(`skipped: osv volume CLI tests: ${reason}`);

const work = mkdtempSync(join(tmpdir(), 'osv-volume-cli-'));
const project = join(work, 'app');
const env: NodeJS.ProcessEnv = { ...process.env, XDG_DATA_HOME: join(work, 'data') };
afterAll(() => rmSync(work, { recursive: true, force: true }));

const osv = (args: string[], cwd = project) => runOsv(args, { cwd, env, timeout: 60_000 });

beforeAll(async () => {
  if (reason) return;
  mkdirSync(join(project, 'seed', 'conf'), { recursive: true });
  writeFileSync(join(project, 'seed', 'conf', 'app.conf'), 'port = 8080\n');
  writeFileSync(join(project, 'osv.yaml'), 'cmd: [/bin/true]\nrun:\n  volumes: [{name: data, dest: /data, from: ./seed, size: 32M}]\n');
  for (const name of ['data', 'cache']) {
    const r = await ensureVolume(project, { kind: 'named', name, dest: '/data', size: 32 * 2 ** 20, readonly: false, ...(name === 'data' ? { from: join(project, 'seed') } : {}) }, { env });
    if (!r.ok) throw r.error;
  }
  updateMeta(projectVolumesDir(project, env), project, (m) => recordUse(m, 'data', { config: join(project, 'osv.yaml'), run: 'default', lastUsed: '2026-12-01T10:00:00.000Z' }));
});

describe.skipIf(Boolean(reason))('osv volume', () => {
  it('ls: the project\'s volumes with their sizes and the runs that used them; --json; --all', () => {
    const r = osv(['volume', 'ls']);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toBe(`${project}: 2 volumes in ${projectVolumesDir(project, env)}`);
    expect(lines[1]).toMatch(/^ {2}NAME +SIZE +USED +ON DISK +CREATED +USED BY$/);
    expect(lines[2]).toMatch(/^ {2}cache +32 MiB +[\d.]+ MiB +[\d.]+ MiB +\d{4}-\d\d-\d\d \d\d:\d\d +-$/);
    expect(lines[3]).toMatch(/^ {2}data +32 MiB .* osv\.yaml \(default\)$/);
    const j = JSON.parse(osv(['volume', 'ls', '--json']).stdout) as { projects: Array<{ project: string; volumes: Array<{ name: string; size: number; from?: string; usedBy: unknown[] }> }> };
    expect(j.projects[0]!.volumes.map((v) => [v.name, v.size, v.from, v.usedBy.length])).toEqual([
      ['cache', 32 * 2 ** 20, undefined, 0],
      ['data', 32 * 2 ** 20, join(project, 'seed'), 1],
    ]);
    // From anywhere, with the project each belongs to.
    const all = osv(['volume', 'ls', '--all'], work);
    expect(all.code).toBe(0);
    expect(all.stdout).toContain(`${project}: 2 volumes in`);
  });

  it('inspect: the runs, the space, the files, and e2fsck\'s verdict', () => {
    const r = osv(['volume', 'inspect', 'data']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`volume "data" of ${project}`);
    expect(r.stdout).toContain(`, seeded from ${join(project, 'seed')}`);
    expect(r.stdout).toContain('used by:    osv.yaml (default)');
    expect(r.stdout).toMatch(/^filesystem: ext4 "data": 8192 blocks of 4096 bytes/m);
    expect(r.stdout).toMatch(/^ +12 {2}\/conf\/app\.conf$/m);
    expect(r.stdout).toContain('check:      ok');
  });

  it('export: the files, into a new directory, without lost+found; never into one that has files', () => {
    const to = join(work, 'backup');
    const r = osv(['volume', 'export', 'data', to]);
    expect(r.code, r.stderr).toBe(0);
    expect(readdirSync(to)).toEqual(['conf']);
    expect(readFileSync(join(to, 'conf', 'app.conf'), 'utf8')).toBe('port = 8080\n');
    const again = osv(['volume', 'export', 'data', to]);
    expect([again.code, again.stderr]).toEqual([2, expect.stringContaining('is a directory that is not empty')]);
    // An empty directory argument is not the current directory ("  is a directory that is not empty").
    for (const target of ['', '  ']) {
      const empty = osv(['volume', 'export', 'data', target]);
      expect([empty.code, empty.stderr]).toEqual([2, `error: the directory to export into is ${target === '' ? 'empty' : 'blank'}\n  hint: name a new or empty directory: osv volume export NAME DIR\n`]);
    }
    const noName = osv(['volume', 'export', '', join(work, 'unused')]);
    expect([noName.code, noName.stderr]).toEqual([2, 'error: the volume name is empty\n  hint: name a volume of this project: see `osv volume ls`\n']);
    expect(existsSync(join(work, 'unused'))).toBe(false);
  });

  it('a volume the project does not have, and no project at all: errors that say what there is', () => {
    const r = osv(['volume', 'inspect', 'nope']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error: this project has no volume "nope"');
    expect(r.stderr).toContain('hint: its volumes: cache, data');
    const elsewhere = osv(['volume', 'ls'], work);
    expect(elsewhere.code).toBe(1);
    expect(elsewhere.stderr).toContain('volumes belong to a project');
    expect(elsewhere.stderr).toContain('osv volume ls --all');
  });

  it('rm: the volume and its data; the last one takes the project\'s directory with it', () => {
    const home = projectVolumesDir(project, env);
    for (const args of [['volume', 'rm', ''], ['volume', 'rm', 'cache', ''], ['volume', 'inspect', '']]) {
      const empty = osv(args);
      expect([empty.code, empty.stderr], args.join(' ')).toEqual([2, 'error: the volume name is empty\n  hint: name a volume of this project: see `osv volume ls`\n']);
    }
    expect(existsSync(join(home, 'cache.ext4'))).toBe(true);
    // A name given twice is removed once, and the command succeeds.
    const r = osv(['volume', 'rm', 'cache', 'cache']);
    expect([r.code, r.stdout, r.stderr]).toEqual([0, `removed volume "cache" (${join(home, 'cache.ext4')})\n`, '']);
    expect(existsSync(join(home, 'data.ext4'))).toBe(true);
    expect(osv(['volume', 'rm', 'data', '--json']).code).toBe(0);
    expect(existsSync(home)).toBe(false);
    expect(osv(['volume', 'ls']).stdout).toBe(`${project}: no volumes\n`);
  });
});
