// Every command line starts in dist/start.cjs and loads one more bundle: its command's own, the
// program alone for --version, the whole CLI for help and words that are not commands. A command
// that loaded another's code, or the whole CLI, would pay for it at every start; so would one
// that printed through process.stdout (src/output.ts).

import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { COMMAND_NAMES } from '../../src/cli/command-line.js';
import { bundleFor } from '../../src/cli/start.js';
import { probed } from '../helpers/loaded-files.js';
import { runOsv } from '../helpers/osv.js';
import { lacks } from '../helpers/skip.js';

const dir = mkdtempSync(join(tmpdir(), 'osv-start-'));
const PYTHON = join(import.meta.dirname, '..', '..', 'examples', 'python-hello');
afterAll(() => rmSync(dir, { recursive: true, force: true }));
writeFileSync(join(dir, 'osv.yaml'), 'cmd: [/bin/true]\n');

describe('the bundle each command line starts', () => {
  it.each(COMMAND_NAMES)('osv %s --help: the start and the command\'s own bundle', (name) => {
    const r = probed([name, '--help'], { cwd: dir });
    expect(r.status, r.errors).toBe(0);
    expect(r.stdout).toContain(`Usage: osv ${name}`);
    expect(r.own).toEqual(['start.cjs', `commands/${name}.cjs`]);
  });

  it('osv validate: its bundle and the generated validators, and no package outside them', () => {
    const r = probed(['validate'], { cwd: dir });
    expect(r.status, r.errors).toBe(0);
    expect(r.own).toEqual(['start.cjs', 'commands/validate.cjs', 'validate-schemas.cjs']);
    // The generated code has ajv's runtime helpers bundled in: no package is resolved.
    expect(r.packages).toEqual([]);
  });

  it.each([[['validate']], [['config']], [['resolve', process.execPath]], [['validate', '--json']]])('osv %j prints without loading Node\'s streams', (args) => {
    const r = probed(args, { cwd: dir });
    expect(r.status, r.errors).toBe(0);
    expect(r.stdout).not.toBe('');
    expect(r.streams).toBe(false);
  });

  // The python example (no `from:`, no kernel given): planning it needs no hashing, no network,
  // no gzip and no child process, and Node's modules for them take milliseconds each to load.
  it.skipIf(lacks('the python example', [existsSync('/usr/lib/python3.11/os.py'), 'python 3.11 is not installed; template:python defaults to it'])).each([[['validate']], [['config']], [['plan']], [['manifest']], [['check']], [['why', '/usr/bin/python3']], [['resolve', process.execPath]]])('osv %j loads none of crypto, zlib, http, net or child_process', (args) => {
    const { OSV_KERNEL: _, ...env } = process.env;
    const r = probed(args, { cwd: PYTHON, env });
    expect(r.status, r.errors).toBe(0);
    expect(r.stdout).not.toBe('');
    expect(r.builtins).toEqual([]);
  });

  it('an invalid configuration is reported without loading Node\'s streams, as text or as JSON', () => {
    const bad = mkdtempSync(join(tmpdir(), 'osv-start-bad-'));
    try {
      writeFileSync(join(bad, 'osv.yaml'), 'cmd: 42\n');
      const text = probed(['validate'], { cwd: bad });
      expect(text.status).toBe(1);
      expect(text.errors).toContain('osv.yaml:1:6: error: cmd: expected a list of strings');
      expect(text.streams).toBe(false);
      const json = probed(['validate', '--json'], { cwd: bad });
      expect(json.status).toBe(1);
      expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, errors: [{ code: 'config.type' }] });
      expect(json.streams).toBe(false);
    } finally {
      rmSync(bad, { recursive: true, force: true });
    }
  });

  it('osv --version: the program without commands', () => {
    const r = probed(['--version'], { cwd: dir });
    expect(r.status, r.errors).toBe(0);
    expect(r.stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
    expect(r.own).toEqual(['start.cjs', 'program.cjs']);
  });

  it.each([[['--help']], [['help', 'validate']], [['valdate']], [[]]])('osv %j: the whole CLI', (args) => {
    const r = probed(args, { cwd: dir });
    expect(r.own).toEqual(['start.cjs', 'cli.cjs']);
    if (args[0] === 'valdate') {
      expect(r.status).toBe(2);
      expect(r.errors).toContain('(Did you mean validate?)');
    }
  });

  // The bundles are minified; their source maps (read only under OSV_DEBUG) put src/ back into
  // a bug's stack trace. The bug is made by a preload whose fs.writeSync throws on stdout.
  it('OSV_DEBUG: a bug\'s stack trace names src/ files and lines; without it, no stack', () => {
    const preload = join(dir, 'bug.cjs');
    writeFileSync(preload, "const fs = require('fs'); const w = fs.writeSync; fs.writeSync = function (fd, ...a) { if (fd === 1) throw new TypeError('planted bug'); return w.call(this, fd, ...a); };\n");
    const env = { ...process.env, NO_COLOR: '1', NODE_OPTIONS: `--require ${preload}` };
    const debug = runOsv(['validate'], { cwd: dir, env: { ...env, OSV_DEBUG: '1' } });
    expect(debug.code).toBe(3);
    expect(debug.stderr).toContain('internal error: planted bug');
    expect(debug.stderr).toMatch(/\n\s+at .*\/src\/output\.ts:\d+:\d+\)?\n/);
    expect(debug.stderr).toMatch(/\/src\/cli\/commands\/validate\.ts:\d+:\d+/);
    const plain = runOsv(['validate'], { cwd: dir, env: { ...env, OSV_DEBUG: '' } });
    expect(plain.code).toBe(3);
    expect(plain.stderr).toContain('run with OSV_DEBUG=1 for details');
    expect(plain.stderr).not.toMatch(/\n\s+at /);
  });

  it('-C DIR is skipped to find the command word', () => {
    expect(bundleFor(['node', 'osv', '-C', 'validate', 'plan'])).toBe('../commands/plan.cjs');
    expect(bundleFor(['node', 'osv', '--dir', 'x', '-V'])).toBe('../program.cjs');
    expect(bundleFor(['node', 'osv', '-V', 'plan'])).toBe('../commands/plan.cjs');
  });
});
