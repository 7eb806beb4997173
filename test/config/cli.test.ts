// The config commands. A few run as a user runs them, `node bin/osv.js ...` (dist/ is built
// by test/setup/build-cli.ts); the rest call the same actions in-process, which is the same
// code without the process start-up, so the suite stays fast on a busy machine.

import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Command, CommanderError } from 'commander';
import { parse } from 'yaml';
import { configCommand, initCommand, schemaCommand, validateCommand, type Io } from '../../src/config/cli.js';
import { packageRoot } from '../../src/config/paths.js';
import { OsvError, OsvErrors } from '../../src/diagnostics/error.js';
import { renderError } from '../../src/cli/render.js';
import { command as validateCli } from '../../src/cli/commands/validate.js';
import { command as configCli } from '../../src/cli/commands/config.js';
import { command as schemaCli } from '../../src/cli/commands/schema.js';
import { command as initCli } from '../../src/cli/commands/init.js';
import { project, removeProjects } from './helpers.js';
import { runOsvAsync, type OsvResult } from '../helpers/osv.js';

afterAll(removeProjects);

const osv = (cwd: string, ...args: string[]): Promise<OsvResult> => runOsvAsync(args, { cwd, env: { ...process.env, NO_COLOR: '1', OSV_DEBUG: '' }, timeout: 60_000 });

/** An in-process Io that collects the output. */
function io(cwd: string): Io & { text: () => string } {
  const lines: string[] = [];
  return { cwd, out: (s) => void lines.push(s.endsWith('\n') ? s : s + '\n'), text: () => lines.join('') };
}

/** The errors an action threw (OsvError or OsvErrors), rendered as the CLI renders them. */
async function failure(p: Promise<unknown>): Promise<{ exitCode: number; text: string; errors: OsvError[] }> {
  try {
    await p;
  } catch (e) {
    const errors = e instanceof OsvErrors ? e.errors : e instanceof OsvError ? [e] : [];
    if (!errors.length) throw e;
    return { exitCode: (e as OsvError | OsvErrors).exitCode, text: errors.map(renderError).join('\n'), errors };
  }
  throw new Error('the command succeeded');
}

describe('as a process', () => {
  it('validate: a one-line summary and exit 0', async () => {
    const r = await osv(packageRoot, 'validate', '-c', 'osv.config.example.yaml');
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('osv.config.example.yaml: valid (image "example", 3 programs, 3 libraries, 4 file entries, 1 module, runs: default, test)\n');
    expect(r.code).toBe(0);
  });

  it('validate: every error with position, code frame and hint, and exit 1', async () => {
    const dir = project({ 'osv.yaml': 'cmd: [a]\nrun:\n  memroy: 1G\n  cpus: two\n' });
    const r = await osv(dir, 'validate');
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(
      [
        `${dir}/osv.yaml:3:3: error: unknown key "memroy" in run (did you mean "memory"?)`,
        '  3 |   memroy: 1G',
        '    |   ^^^^^^',
        '  hint: allowed keys in run: hypervisor, memory, cpus, ports, accel, network, timeout, expect, volumes, machine, qemu, kernelArgs',
        `${dir}/osv.yaml:4:9: error: run.cpus: expected an integer, got a string ("two")`,
        '  4 |   cpus: two',
        '    |         ^^^',
        '',
      ].join('\n'),
    );
  });

  it('validate --json: the errors as JSON, exit 1', async () => {
    const dir = project({ 'osv.yaml': 'cmd: [a]\nrun: {memory: 12X}\n' });
    const r = await osv(dir, 'validate', '--json');
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout) as { ok: boolean; errors: Array<{ code: string; source: { line: number; column: number } }> };
    expect(out.ok).toBe(false);
    expect(out.errors.map((e) => [e.code, e.source.line, e.source.column])).toEqual([['config.invalid-value', 2, 15]]);
  });

  it('validate: no stack trace for a binary file or a deeply nested one', async () => {
    const dir = project({
      'binary.yaml': Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0x02, 0x01, 0x00, 0xff, 0xfe, 0x0a, 0x00]),
      'deep.yaml': `cmd: [a]\nenv: ${'['.repeat(20000)}${']'.repeat(20000)}\n`,
    });
    for (const [file, message] of [
      ['binary.yaml', 'error: binary.yaml is not UTF-8 text'],
      ['deep.yaml', 'error: YAML syntax error: values are nested too deeply'],
    ] as const) {
      const r = await osv(dir, 'validate', '-c', file);
      expect(r.code, file).toBe(1);
      expect(r.stderr, file).toContain(message);
      expect(r.stderr, file).not.toMatch(/\n\s+at .+:\d+:\d+\)?\n|internal error/);
    }
  });

  it('no internal error for a 3000-file extends chain, a glob [z-a], or vars that double 24 times (issue #20)', { timeout: 60_000 }, async () => {
    const files: Record<string, string> = { 'chain.yaml': 'extends: [c1.yaml]\ncmd: [/bin/true]\n' };
    for (let i = 1; i < 3000; i++) files[`c${i}.yaml`] = `extends: [c${i + 1}.yaml]\n`;
    files['c3000.yaml'] = 'name: bottom\n';
    const vars = ['vars:', '  v0: xx', ...Array.from({ length: 24 }, (_, i) => `  v${i + 1}: "\${v${i}}\${v${i}}"`), 'cmd: [/bin/true, "${v24}"]', ''];
    files['vars.yaml'] = vars.join('\n');
    files['glob.yaml'] = 'cmd: [/bin/true]\nfiles:\n  - src: "/etc/[z-a]*"\n    dest: /etc\n';
    const dir = project(files);
    for (const [args, message] of [
      [['validate', '-c', 'chain.yaml'], 'error: extends chain is more than 64 files deep'],
      [['validate', '-c', 'vars.yaml'], 'makes this value longer than 1024 KiB'],
      [['plan', '-c', 'glob.yaml'], 'error: files[0]: /etc/[z-a]* matches no file'],
    ] as const) {
      const r = await osv(dir, ...args);
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.stderr, args.join(' ')).toContain(message);
      expect(r.stderr, args.join(' ')).not.toMatch(/\n\s+at .+:\d+:\d+\)?\n|internal error|Invalid regular expression/);
    }
  });

  it('init writes a file that validates', async () => {
    const dir = project({ '.gitignore': 'node_modules' });
    const r = await osv(dir, 'init', '--', '/usr/bin/python3', 'app.py', '--port', '8080');
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^template:python: \/usr\/bin\/python3 is Python 3\.\d+ \(\/usr\/bin\/python3\.\d+\)\n/);
    expect(r.stdout).toContain('\nwrote osv.yaml and added to .gitignore .osv/\nnext: edit osv.yaml, then `osv validate` and `osv up`\n');
    expect(r.code).toBe(0);
    const o = io(dir);
    await validateCommand({}, o);
    expect(o.text()).toBe('osv.yaml: valid (image "' + path.basename(dir).replace(/[^A-Za-z0-9._-]+/g, '-') + '", 2 programs, 1 library, 2 file entries, 0 modules, one run)\n');
  });
});

describe('osv validate', () => {
  it('checks --run names (a usage error, exit 2)', async () => {
    const dir = project({ 'osv.yaml': 'cmd: [a]\nruns:\n  test: {cmd: [b]}\n' });
    const f = await failure(validateCommand({ run: 'tset' }, io(dir)));
    expect(f.exitCode).toBe(2);
    expect(f.errors[0]!.message).toBe('unknown run "tset" (did you mean "test"?)');
    await validateCommand({ run: 'test' }, io(dir));
  });

  it('prints the summary and the merged configuration as JSON', async () => {
    const dir = project({ 'osv.yaml': 'name: j\ncmd: [a]\nmodules: [./m]\nruns: {t: {}}\n', 'm/usr.manifest': '' });
    const o = io(dir);
    await validateCommand({ json: true, print: true }, o);
    expect(JSON.parse(o.text())).toEqual({
      ok: true,
      file: path.join(dir, 'osv.yaml'),
      name: 'j',
      files: 0,
      executables: 0,
      libraries: 0,
      modules: ['m'],
      runs: ['default', 't'],
      loadedFiles: [path.join(dir, 'osv.yaml')],
      config: { name: 'j', cmd: ['a'], modules: [path.join(dir, 'm')], runs: { t: {} } },
    });
  });

  it('reports a missing file or directory without a stack', async () => {
    const dir = project({ 'sub/': '' });
    expect((await failure(validateCommand({ config: 'nope.yaml' }, io(dir)))).text).toBe(`error: configuration file nope.yaml not found\n  hint: the path is relative to ${dir}`);
    expect((await failure(validateCommand({ config: 'sub' }, io(dir)))).text).toBe(`error: configuration file sub is not a regular file\n  hint: the path is relative to ${dir}`);
    expect((await failure(validateCommand({}, io(path.join(dir, 'sub'))))).errors[0]!.code).toBe('config.not-found');
  });
});

describe('osv config and osv schema', () => {
  it('prints a merged configuration that validates on its own, and prints the same again', async () => {
    const dir = project({
      'osv.yaml': 'extends: [conf/base.yaml, template:native]\nvars: {P: 8080}\ncmd: [/app, "${P}"]\n',
      'conf/base.yaml': 'files: [{src: ./static, dest: /static}]\nrun: {ports: ["${P}:80"]}\n',
    });
    const first = io(dir);
    await configCommand({}, first);
    const merged = parse(first.text()) as Record<string, unknown>;
    expect(merged).toEqual({
      vars: { P: 8080 },
      cmd: ['/app', '8080'],
      libraries: [{ name: 'libgcc_s.so.1', optional: true }],
      files: [{ src: path.join(dir, 'conf/static'), dest: '/static' }],
      run: { ports: ['8080:80'], kernelArgs: ['--power-off-on-abort'] },
    });
    const elsewhere = project({ 'osv.yaml': first.text() });
    await validateCommand({}, io(elsewhere));
    const second = io(elsewhere);
    await configCommand({}, second);
    expect(second.text()).toBe(first.text());
    const json = io(dir);
    await configCommand({ json: true }, json);
    expect(JSON.parse(json.text())).toEqual(merged);
  });

  it('prints the JSON Schemas', () => {
    const o = io(packageRoot);
    schemaCommand({}, o);
    expect(JSON.parse(o.text())).toEqual(JSON.parse(readFileSync(path.join(packageRoot, 'schemas/osv.schema.json'), 'utf8')));
    const m = io(packageRoot);
    schemaCommand({ module: true }, m);
    expect((JSON.parse(m.text()) as { title: string }).title).toBe('osv.module.yaml (an osv-up module)');
  });
});

describe('osv init', () => {
  it('refuses to overwrite, --force overwrites, and .osv/ is ignored once', async () => {
    const dir = project({});
    await initCommand([], {}, io(dir));
    const text = readFileSync(path.join(dir, 'osv.yaml'), 'utf8');
    expect(text.split('\n')[0]).toMatch(/^# yaml-language-server: \$schema=.*schemas\/osv\.schema\.json$/);
    expect(text).toContain('cmd: [echo, "Hello from OSv"]');
    expect(text).toContain('extends: [template:native]');
    expect(readFileSync(path.join(dir, '.gitignore'), 'utf8')).toBe('.osv/\n');

    const again = await failure(initCommand([], {}, io(dir)));
    expect(again.exitCode).toBe(1);
    expect(again.text).toBe('error: osv.yaml already exists\n  hint: use --force to overwrite it, or --config FILE to write another file');

    const forced = io(dir);
    await initCommand(['./build/server'], { force: true, template: 'none', json: true }, forced);
    expect(JSON.parse(forced.text())).toEqual({
      ok: true,
      file: path.join(dir, 'osv.yaml'),
      template: null,
      why: `--template none (osv init recognised native: ./build/server does not exist: nothing to recognise)`,
      notes: [],
      gitignore: 'present',
      missing: './build/server',
    });
    const written = readFileSync(path.join(dir, 'osv.yaml'), 'utf8');
    expect(written).not.toContain('extends');
    expect(written).toContain('cmd: [./build/server]');
    expect(readFileSync(path.join(dir, '.gitignore'), 'utf8')).toBe('.osv/\n');
  });

  it('starts from each runtime template: its hello command, or the template\'s own cmd', async () => {
    const py = project({});
    await initCommand([], { template: 'python' }, io(py));
    expect(readFileSync(path.join(py, 'osv.yaml'), 'utf8')).toContain(`cmd: [/usr/bin/python3, "-c", "print('Hello from OSv')"]`);
    // template:java builds cmd from its variables: init must not replace it with a stand-in.
    const java = project({});
    await initCommand([], { template: 'java' }, io(java));
    const text = readFileSync(path.join(java, 'osv.yaml'), 'utf8');
    expect(text).toContain('extends: [template:java]');
    expect(text).not.toMatch(/^cmd:/m);
  });

  it('suggests a template name and writes nothing', async () => {
    const dir = project({});
    const f = await failure(initCommand([], { template: 'natve' }, io(dir)));
    expect(f.exitCode).toBe(2);
    expect(f.errors[0]!.message).toBe('unknown template "natve" (did you mean "native"?)');
    expect(existsSync(path.join(dir, 'osv.yaml'))).toBe(false);
  });
});

describe('--help', () => {
  const commands = { validate: validateCli, config: configCli, schema: schemaCli, init: initCli };
  it.each(Object.keys(commands))('osv %s --help shows examples', async (name) => {
    let text = '';
    const program = new Command('osv').exitOverride().configureOutput({ writeOut: (s) => void (text += s), writeErr: (s) => void (text += s) });
    commands[name as keyof typeof commands].register(program);
    await expect(program.parseAsync(['node', 'osv', name, '--help'])).rejects.toBeInstanceOf(CommanderError);
    expect(text).toContain(`Usage: osv ${name}`);
    expect(text).toMatch(/\nExamples:\n {2}\$ osv /);
  });
});
