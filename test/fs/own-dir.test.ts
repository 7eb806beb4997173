// osv-up's own directory in a project (.osv/) must be a real directory (issue #20): a `.osv`
// symlink shipped by a repository would send images and records anywhere.

import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureOwnDir } from '../../src/atomic.js';
import { hasGcc } from '../helpers/tools.js';
import { fakeBuildDir } from '../kernel/helpers.js';
import { runOsv } from '../helpers/osv.js';

if (!hasGcc) console.warn('skipped: the .osv symlink build test needs gcc (a program and a stand-in kernel)');

describe('.osv must be a real directory', () => {
  let dir: string;
  let elsewhere: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'osv-own-dir-'));
    elsewhere = join(dir, 'elsewhere');
    mkdirSync(elsewhere);
    mkdirSync(join(dir, 'project'));
    symlinkSync(elsewhere, join(dir, 'project', '.osv'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('ensureOwnDir creates a missing directory and refuses a symlink or a file', () => {
    ensureOwnDir(join(dir, 'new', '.osv'));
    ensureOwnDir(join(dir, 'new', '.osv'));
    expect(() => ensureOwnDir(join(dir, 'project', '.osv'))).toThrow(/is a symbolic link \(to .*elsewhere\)/);
    writeFileSync(join(dir, 'file'), '');
    expect(() => ensureOwnDir(join(dir, 'file'))).toThrow(/is not a directory/);
  });

  it.runIf(hasGcc)('osv build refuses it and writes nothing through it', () => {
    const project = join(dir, 'project');
    writeFileSync(join(project, 'app.c'), 'int main(void) { return 0; }\n');
    execFileSync('gcc', ['-fPIE', '-pie', '-o', 'app', 'app.c'], { cwd: project });
    const kernel = fakeBuildDir(dir, 'kernel', { img: false, env: false });
    writeFileSync(join(project, 'osv.yaml'), `kernel: {path: ${kernel}}\ncmd: [./app]\n`);
    const r = runOsv(['build', '--no-check'], { cwd: project, env: { ...process.env, OSV_KERNEL: '', XDG_CACHE_HOME: join(dir, 'cache') } });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${join(project, '.osv')} is a symbolic link`);
    expect(readdirSync(elsewhere)).toEqual([]);
  });
});
