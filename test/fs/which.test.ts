// Programs osv-up runs are found only in PATH's absolute entries (issue #20): a repository's
// bin/strace, bin/qemu-img or ./mke2fs never runs because PATH has "bin" or "." in it.

import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { which } from '../../src/which.js';
import { findTool } from '../../src/image/tools.js';
import { findProgram, findStrace } from '../../src/trace/run.js';
import { runOsv } from '../helpers/osv.js';

const NAMES = ['strace', 'qemu-img', 'mke2fs', 'true'];

let dir: string;
let marker: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'osv-which-'));
  marker = join(dir, 'ran');
  // A planted copy of each tool, in bin/ and in the directory itself, that leaves a marker.
  for (const d of [join(dir, 'bin'), dir]) {
    mkdirSync(d, { recursive: true });
    for (const n of NAMES) {
      writeFileSync(join(d, n), `#!/bin/sh\necho "$0" >> ${marker}\n`);
      chmodSync(join(d, n), 0o755);
    }
  }
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const cwd = process.cwd();
/** Whether a lookup's answer (absolute, or relative to the directory) is one of the planted copies. */
const planted = (found: string): boolean => resolve(dir, found).startsWith(dir);
const inDir = <T>(f: () => T): T => {
  process.chdir(dir);
  try {
    return f();
  } finally {
    process.chdir(cwd);
  }
};

describe('relative PATH entries are skipped', () => {
  const PATH = `.:bin::${process.env['PATH'] ?? '/usr/bin:/bin'}`;

  it('which, findTool, findStrace and trace\'s findProgram never return the planted copies', () => {
    inDir(() => {
      for (const n of NAMES) {
        for (const found of [which(n, PATH), findTool(n, { PATH })]) if (found !== undefined) expect(planted(found), found).toBe(false);
      }
      const s = findStrace('bin:.');
      if (s !== undefined) expect(planted(s), s).toBe(false);
      expect(planted(findProgram('true', dir, PATH))).toBe(false);
      // Named with a path, the user's own program is still found.
      expect(findProgram('./true', dir, PATH)).toBe(join(dir, 'true'));
    });
  });

  it('osv trace in a repository with bin/strace and bin on PATH runs the system strace (or none)', () => {
    const r = runOsv(['trace', '--', '/bin/true'], { cwd: dir, env: { ...process.env, PATH } });
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(marker)).toBe(false);
  });
});
