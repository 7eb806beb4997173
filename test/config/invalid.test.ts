// Table-driven: every invalid configuration yields exactly the listed errors (message and
// position), all at once, as OsvErrors with a code frame; nothing throws.

import { symlinkSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { OsvError } from '../../src/diagnostics/error.js';
import { invalidCases } from './invalid-cases.js';
import { errorLine, project, removeProjects } from './helpers.js';

afterAll(removeProjects);

describe('invalid configurations', () => {
  it('has at least 40 cases', () => {
    expect(invalidCases.length).toBeGreaterThanOrEqual(40);
  });

  it.each(invalidCases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const dir = project(c.files);
    const r = await loadConfig({ cwd: dir, env: c.env ?? {}, ...(c.config ? { configFile: c.config } : {}) });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.errors.map((e) => errorLine(dir, e))).toEqual(c.errors);
    for (const e of r.error.errors) {
      expect(e).toBeInstanceOf(OsvError);
      expect(e.code).toMatch(/^config\./);
      expect(e.exitCode).toBe(1);
      if (e.source) {
        // the code frame: the offending line, then a caret under the column
        expect(e.details).toHaveLength(2);
        const [line, caret] = e.details as [string, string];
        expect(line.startsWith(`${e.source.line} | `)).toBe(true);
        const gutter = `${e.source.line} | `.length;
        // (a long line is shown as a window around the column, marked with …)
        if (!line.includes('…')) expect(caret.indexOf('^') - gutter).toBe(e.source.column - 1);
      }
    }
  });
});

describe('code frames', () => {
  it('underlines the whole offending value', async () => {
    const dir = project({ 'osv.yaml': 'cmd: [a]\nrun:\n  memory: 12X\n' });
    const r = await loadConfig({ cwd: dir, env: {} });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.errors[0]!.details).toEqual(['3 |   memory: 12X', '  |           ^^^']);
  });

  it('reports every error of a file at once, in file order', async () => {
    const dir = project({ 'osv.yaml': 'nmae: x\ncmd: [a]\nrun:\n  cpus: 0\n  memory: 1X\nfiles:\n  - src: a\n    dest: rel\n' });
    const r = await loadConfig({ cwd: dir, env: {} });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.errors.map((e) => `${e.source?.line}:${e.source?.column}`)).toEqual(['1:1', '4:9', '5:11', '8:11']);
  });
});

describe('extends that does not lead to a file', () => {
  it('a dangling link, a loop of links and a directory each say what they are', async () => {
    const dir = project({ 'osv.yaml': 'extends: [./dangling.yaml, ./loop-a.yaml, ./conf]\ncmd: [a]\n', 'conf/x': '' });
    symlinkSync('nowhere.yaml', path.join(dir, 'dangling.yaml'));
    symlinkSync('loop-b.yaml', path.join(dir, 'loop-a.yaml'));
    symlinkSync('loop-a.yaml', path.join(dir, 'loop-b.yaml'));
    const r = await loadConfig({ cwd: dir, env: {} });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.errors.map((e) => errorLine(dir, e))).toEqual([
      'osv.yaml:1:11 extends[0]: a symbolic link to nothing (dangling, or a loop of links): ./dangling.yaml',
      'osv.yaml:1:28 extends[1]: a symbolic link to nothing (dangling, or a loop of links): ./loop-a.yaml',
      'osv.yaml:1:43 extends[2]: a directory, not a file: ./conf',
    ]);
  });
});
