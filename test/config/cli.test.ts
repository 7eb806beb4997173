// The config commands as a user runs them: `node bin/osv.js ...` in a project directory.
// (test/setup/build-cli.ts builds dist/ first.) Bad input never shows a stack trace.

import { afterAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import { packageRoot } from '../../src/config/paths.js';
import { project, removeProjects } from './helpers.js';

afterAll(removeProjects);

const bin = path.join(packageRoot, 'bin', 'osv.js');

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

function osv(cwd: string, ...args: string[]): Promise<Ran> {
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { cwd, env: { ...process.env, NO_COLOR: '1', OSV_DEBUG: '' }, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
    });
  });
}

const noStack = (r: Ran): void => {
  expect(r.stderr + r.stdout).not.toMatch(/\n\s+at .+:\d+:\d+\)?\n/);
  expect(r.stderr).not.toContain('internal error');
};

describe('osv validate', () => {
  it('prints a one-line summary and exits 0 for the example configuration', async () => {
    const r = await osv(packageRoot, 'validate', '-c', 'osv.config.example.yaml');
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('osv.config.example.yaml: valid (image "example", 3 programs, 3 libraries, 3 file entries, 1 module, runs: default, test)\n');
    expect(r.code).toBe(0);
  });

  it('prints every error with position and code frame, and exits 1', async () => {
    const dir = project({ 'osv.yaml': 'cmd: [a]\nrun:\n  memroy: 1G\n  cpus: two\n' });
    const r = await osv(dir, 'validate');
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(
      [
        `${dir}/osv.yaml:3:3: error: unknown key "memroy" in run (did you mean "memory"?)`,
        '  3 |   memroy: 1G',
        '    |   ^^^^^^',
        '  hint: allowed keys in run: hypervisor, memory, cpus, ports, accel, network, timeout, expect, volumes, qemu, kernelArgs',
        `${dir}/osv.yaml:4:9: error: run.cpus: expected an integer, got a string ("two")`,
        '  4 |   cpus: two',
        '    |         ^^^',
        '',
      ].join('\n'),
    );
  });

  it('reports errors as JSON with --json', async () => {
    const dir = project({ 'osv.yaml': 'cmd: [a]\nrun: {memory: 12X}\n' });
    const r = await osv(dir, 'validate', '--json');
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout) as { ok: boolean; errors: Array<{ code: string; source: { line: number; column: number } }> };
    expect(out.ok).toBe(false);
    expect(out.errors.map((e) => [e.code, e.source.line, e.source.column])).toEqual([['config.invalid-value', 2, 15]]);
  });

  it('checks --run names (a usage error, exit 2)', async () => {
    const dir = project({ 'osv.yaml': 'cmd: [a]\nruns:\n  test: {cmd: [b]}\n' });
    const r = await osv(dir, 'validate', '--run', 'tset');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('error: unknown run "tset" (did you mean "test"?)');
    expect((await osv(dir, 'validate', '--run', 'test')).code).toBe(0);
  });

  it('never shows a stack trace for hostile input', async () => {
    const dir = project({
      'binary.yaml': Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0x02, 0x01, 0x00, 0xff, 0xfe, 0x0a, 0x00]),
      'deep.yaml': `cmd: [a]\nenv: ${'['.repeat(20000)}${']'.repeat(20000)}\n`,
      'list.yaml': '- a\n- b\n',
      'dir/': '',
    });
    for (const file of ['binary.yaml', 'deep.yaml', 'list.yaml', 'dir', 'missing.yaml']) {
      const r = await osv(dir, 'validate', '-c', file);
      expect(r.code, file).toBe(1);
      expect(r.stderr, file).toMatch(/error: /);
      noStack(r);
    }
  });

  it('shows examples in --help', async () => {
    for (const cmd of ['validate', 'config', 'schema', 'init']) {
      const r = await osv(packageRoot, cmd, '--help');
      expect(r.code, cmd).toBe(0);
      expect(r.stdout, cmd).toContain('Examples:');
    }
  });
});

describe('osv config and osv schema', () => {
  it('prints a merged configuration that validates on its own, and again prints the same', async () => {
    const dir = project({
      'osv.yaml': 'extends: [conf/base.yaml, template:native]\nvars: {P: 8080}\ncmd: [/app, "${P}"]\n',
      'conf/base.yaml': 'files: [{src: ./static, dest: /static}]\nrun: {ports: ["${P}:80"]}\n',
    });
    const first = await osv(dir, 'config');
    expect(first.code).toBe(0);
    const merged = parse(first.stdout) as Record<string, unknown>;
    expect(merged['extends']).toBeUndefined();
    expect(merged['cmd']).toEqual(['/app', '8080']);
    expect(merged['files']).toEqual([{ src: path.join(dir, 'conf/static'), dest: '/static' }]);
    expect(merged['run']).toEqual({ ports: ['8080:80'], kernelArgs: ['--power-off-on-abort'] });
    const elsewhere = project({ 'osv.yaml': first.stdout });
    expect((await osv(elsewhere, 'validate')).code).toBe(0);
    expect((await osv(elsewhere, 'config')).stdout).toBe(first.stdout);
    const json = await osv(dir, 'config', '--json');
    expect(JSON.parse(json.stdout)).toEqual(merged);
  });

  it('prints the JSON Schemas', async () => {
    const main = JSON.parse((await osv(packageRoot, 'schema')).stdout) as { definitions: Record<string, unknown> };
    expect(main).toEqual(JSON.parse(readFileSync(path.join(packageRoot, 'schemas/osv.schema.json'), 'utf8')));
    const mod = JSON.parse((await osv(packageRoot, 'schema', '--module')).stdout) as { title: string };
    expect(mod.title).toBe('osv.module.yaml (an osv-up module)');
  });
});

describe('osv init', () => {
  it('writes a commented osv.yaml that validates, refuses to overwrite, and ignores .osv/', async () => {
    const dir = project({ '.gitignore': 'node_modules' });
    const r = await osv(dir, 'init', '--', '/usr/bin/python3', 'app.py', '--port', '8080');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('wrote osv.yaml and added to .gitignore .osv/\nnext: edit osv.yaml, then `osv validate` and `osv up`\n');
    const text = readFileSync(path.join(dir, 'osv.yaml'), 'utf8');
    expect(text.split('\n')[0]).toMatch(/^# yaml-language-server: \$schema=.*schemas\/osv\.schema\.json$/);
    expect(text).toContain('cmd: [/usr/bin/python3, app.py, "--port", "8080"]');
    expect(text).toContain('extends: [template:native]');
    expect(readFileSync(path.join(dir, '.gitignore'), 'utf8')).toBe('node_modules\n.osv/\n');
    expect((await osv(dir, 'validate')).code).toBe(0);

    const again = await osv(dir, 'init');
    expect(again.code).toBe(1);
    expect(again.stderr).toBe('error: osv.yaml already exists\n  hint: use --force to overwrite it, or -c FILE to write another file\n');

    const forced = await osv(dir, 'init', '--force', '--template', 'none', '--json');
    expect(forced.code).toBe(0);
    expect(JSON.parse(forced.stdout)).toEqual({ ok: true, file: path.join(dir, 'osv.yaml'), template: null, gitignore: 'present' });
    expect(readFileSync(path.join(dir, 'osv.yaml'), 'utf8')).not.toContain('extends');
  });

  it('suggests a template name', async () => {
    const dir = project({});
    const r = await osv(dir, 'init', '--template', 'natve');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error: unknown template "natve" \(did you mean "native"\?\)\n/);
    expect(existsSync(path.join(dir, 'osv.yaml'))).toBe(false);
    writeFileSync(path.join(dir, 'x'), '');
  });
});
