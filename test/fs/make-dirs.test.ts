// makeDirs is `mkdir -p` that always ends (src/atomic.ts): Node 20's own recursive mkdir never
// returns for a directory whose parent refuses new entries with ENOENT, as /proc does. The
// cases that could hang run in a child process with a deadline, so a regression fails instead
// of holding the suite.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeDirs } from '../../src/atomic.js';
import { runOsv } from '../helpers/osv.js';

const work = mkdtempSync(join(tmpdir(), 'osv-make-dirs-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const ATOMIC = join(import.meta.dirname, '..', '..', 'dist', 'atomic.js');
const hasProc = existsSync('/proc/self');
if (!hasProc) console.warn('skipped: the /proc cases of makeDirs need a Linux /proc');

/** makeDirs(dir) in a child process (the build's dist/atomic.js): its error code, or 'ok'; 'hung' past 10 s. */
function inChild(dir: string): string {
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', `import { makeDirs } from ${JSON.stringify(ATOMIC)}; try { makeDirs(${JSON.stringify(dir)}); console.log('ok'); } catch (e) { console.log(e.code); }`], { encoding: 'utf8', timeout: 10_000 });
  return r.signal ? 'hung' : r.stdout.trim();
}

describe('makeDirs', () => {
  it('makes every missing directory of a path, with the mode asked, and accepts one that exists', () => {
    const deep = join(work, 'a', 'b', 'c');
    makeDirs(deep, 0o700);
    expect(statSync(deep).isDirectory()).toBe(true);
    expect(statSync(join(work, 'a')).mode & 0o777).toBe(0o700);
    makeDirs(deep);
    makeDirs(`${deep}/`);
  });

  it('fails as mkdir does on a file in the way', () => {
    writeFileSync(join(work, 'file'), '');
    expect(() => makeDirs(join(work, 'file'))).toThrow(expect.objectContaining({ code: 'EEXIST' }));
    expect(() => makeDirs(join(work, 'file', 'sub'))).toThrow(expect.objectContaining({ code: 'ENOTDIR' }));
  });

  it.runIf(hasProc)('fails with ENOENT under /proc, where the recursive mkdir of Node 20 never returns', () => {
    expect(inChild('/proc/osv-make-dirs/x')).toBe('ENOENT');
    expect(inChild('/proc/osv-make-dirs')).toBe('ENOENT');
    expect(inChild(join(work, 'child', 'dir'))).toBe('ok');
  });

  it.runIf(hasProc)('osv plan with its cache directory under /proc finishes (it spun at full CPU writing its caches)', () => {
    const project = join(work, 'project');
    makeDirs(project);
    writeFileSync(join(project, 'osv.yaml'), 'name: x\ncmd: [/usr/bin/true]\n');
    const r = runOsv(['plan'], { cwd: project, env: { ...process.env, XDG_CACHE_HOME: '/proc/osv-make-dirs', OSV_KERNEL: '' }, timeout: 30_000 });
    expect(r.signal).toBeNull();
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('/usr/bin/true');
  });
});
