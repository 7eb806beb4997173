// The actions of `osv validate`, `osv config`, `osv schema` and `osv init`, imported lazily by
// src/cli/commands/. They print data to stdout and throw OsvError(s), which the CLI renders.

import * as fs from 'node:fs';
import { maskDeep } from '../secrets.js';
import * as path from 'node:path';
import { OsvError, OsvErrors } from '../diagnostics/error.js';
import { nodeHostFs, type HostFs, type HostStat } from '../hostfs.js';
import { loadConfigDetailed, type Loaded } from './load.js';
import { checkRunName } from './runs.js';
import { configToYaml } from './print.js';
import { readSchemas } from './schema.js';
import { initText } from './init.js';
import { suggestion } from './suggest.js';
import { templatesDir } from './paths.js';
import type { Config } from './types.js';
import { printLine } from '../output.js';
import type { InitDraft } from '../init/draft.js';
import { homedir } from 'node:os';
import { plural } from '../units.js';
import { checkReplaceable, makeDirs, writeFileAtomic } from '../atomic.js';

/** Where a command runs and prints: the process, or a test. */
export interface Io {
  cwd: string;
  /** One line (or block) of output. */
  out: (s: string) => void;
}

const processIo = (): Io => ({ cwd: process.cwd(), out: printLine });

async function load(opts: { config?: string; run?: string }, io: Io): Promise<Loaded> {
  const r = await loadConfigDetailed({ cwd: io.cwd, ...(opts.config !== undefined ? { configFile: opts.config } : {}) });
  if (!r.ok) throw r.error;
  if (opts.run !== undefined) {
    const run = checkRunName(r.value.config, opts.run);
    if (!run.ok) throw run.error;
  }
  return r.value;
}

/** A path relative to the working directory when it is below it, else absolute. */
function displayPath(p: string, cwd: string): string {
  const rel = path.relative(cwd, p);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : p;
}


export function summary(c: Config): Record<string, unknown> {
  return {
    file: c.file,
    name: c.name,
    files: c.files.length,
    executables: c.executables.length,
    libraries: c.libraries.length,
    modules: c.modules.map((m) => m.name),
    runs: ['default', ...Object.keys(c.runs)],
    loadedFiles: c.loadedFiles,
  };
}

export interface ValidateOptions {
  config?: string;
  run?: string;
  print?: boolean;
  json?: boolean;
}

export async function validateCommand(opts: ValidateOptions, io: Io = processIo()): Promise<void> {
  const { out } = io;
  const { config: c, printable: plain } = await load(opts, io);
  const printable = maskDeep(plain, c.secrets);
  if (opts.json) {
    out(JSON.stringify({ ok: true, ...summary(c), ...(opts.print ? { config: printable } : {}) }, null, 2));
    return;
  }
  if (opts.print) out(configToYaml(printable));
  const rel = displayPath(c.file, io.cwd);
  const runs = Object.keys(c.runs);
  const parts = [
    `image "${c.name}"`,
    plural(c.executables.length + 1, 'program'),
    plural(c.libraries.length, 'library'),
    plural(c.files.length, 'file entry'),
    plural(c.modules.length, 'module'),
    runs.length ? `runs: default, ${runs.join(', ')}` : 'one run',
  ];
  out(`${rel}: valid (${parts.join(', ')})`);
}

export async function configCommand(opts: { config?: string; json?: boolean }, io: Io = processIo()): Promise<void> {
  const { config, printable } = await load(opts, io);
  const shown = maskDeep(printable, config.secrets);
  io.out(opts.json ? JSON.stringify(shown, null, 2) : configToYaml(shown));
}

export function schemaCommand(opts: { module?: boolean }, io: Io = processIo()): void {
  const s = readSchemas();
  io.out(JSON.stringify(opts.module ? s.module : s.main, null, 2));
}

export interface InitCliOptions {
  template?: string;
  force?: boolean;
  config?: string;
  json?: boolean;
}

/** HostFs that sees `file` with `text` in it: validate what init would write before writing. */
function withFile(base: HostFs, file: string, text: string): HostFs {
  const stat: HostStat = { kind: 'file', size: Buffer.byteLength(text), mtimeMs: Date.now(), ctimeMs: Date.now(), ino: 0, dev: 0, mode: 0o644 };
  return {
    ...base,
    lstat: (p) => (p === file ? stat : base.lstat(p)),
    stat: (p) => (p === file ? stat : base.stat(p)),
    readFile: (p) => (p === file ? Buffer.from(text) : base.readFile(p)),
  };
}

function templateNames(): string[] {
  try {
    return fs.readdirSync(templatesDir).filter((n) => n.endsWith('.yaml')).map((n) => n.slice(0, -5)).sort();
  } catch {
    return [];
  }
}

/** Append `.osv/` (osv's cache and output directory) to .gitignore unless it is there. */
function ignoreOsvDir(dir: string): 'created' | 'added' | 'present' {
  const file = path.join(dir, '.gitignore');
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    fs.writeFileSync(file, '.osv/\n');
    return 'created';
  }
  if (text.split(/\r?\n/).some((l) => /^\/?\.osv\/?$/.test(l.trim()))) return 'present';
  fs.appendFileSync(file, `${text === '' || text.endsWith('\n') ? '' : '\n'}.osv/\n`);
  return 'added';
}

/** What a built-in template's text matches with `re` (a top-level `cmd`, its run.memory), or undefined. */
function templateDefines(name: string, re: RegExp): RegExpExecArray | undefined {
  try {
    return re.exec(fs.readFileSync(path.join(templatesDir, `${name}.yaml`), 'utf8')) ?? undefined;
  } catch {
    return undefined;
  }
}

/** What the host looks like to `osv init`: the environment (PATH, shims, JAVA_HOME) and the files. */
export interface InitHost {
  env: Record<string, string | undefined>;
  fs: HostFs;
}

/** The draft for the command: its runtime's, or the command as given when --template names another. */
async function draftFor(command: string[], template: string | undefined, cwd: string, host: InitHost): Promise<InitDraft | undefined> {
  if (!command.length) return undefined;
  const { detect, native } = await import('../init/detect.js');
  const argv = command as [string, ...string[]];
  const found = detect({ fs: host.fs, env: host.env, cwd, home: host.env['HOME'] ?? homedir() }, argv);
  if (template === undefined || template === found.runtime) return found;
  return native(argv, `--template ${template} (osv init recognised ${found.runtime}: ${found.why})`, found.notes);
}

export async function initCommand(command: string[], opts: InitCliOptions, io: Io = processIo(), host: InitHost = { env: process.env, fs: nodeHostFs }): Promise<void> {
  const { cwd, out } = io;
  const file = path.resolve(cwd, opts.config ?? 'osv.yaml');
  const rel = displayPath(file, cwd);
  if (opts.template !== undefined && opts.template !== 'none' && !templateNames().includes(opts.template)) {
    const names = templateNames();
    throw new OsvError({ code: 'init.unknown-template', message: `unknown template "${opts.template}"${suggestion(opts.template, names)}`, hint: `templates: ${[...names, 'none'].join(', ')}`, exitCode: 2 });
  }
  // A directory, FIFO or device there is never written into or replaced, --force or not.
  checkReplaceable(file);
  if (fs.existsSync(file) && !opts.force)
    throw new OsvError({ code: 'init.exists', message: `${rel} already exists`, hint: 'use --force to overwrite it, or --config FILE to write another file' });
  const draft = await draftFor(command, opts.template, path.dirname(file), host);
  const template = opts.template ?? draft?.runtime ?? 'native';
  const { defaultRelease } = await import('../kernel/default-release.js');
  const text = initText({
    dir: path.dirname(file),
    command,
    ...(draft ? { draft } : {}),
    ...(template !== 'none' ? { template, templateHasCmd: templateDefines(template, /^cmd:/m) !== undefined, templateMemory: templateDefines(template, /^run:\n(?:[ #].*\n)*  memory: (\S+)/m)?.[1] } : {}),
    kernel: { ...(host.env['OSV_KERNEL'] ? { osvKernel: host.env['OSV_KERNEL'] } : {}), ...(defaultRelease('x86_64') ? { defaultRelease: defaultRelease('x86_64')!.version } : {}) },
  });
  // What init writes must load: check it before touching the disk.
  const check = await loadConfigDetailed({ cwd, configFile: file, fs: withFile(nodeHostFs, file, text) });
  if (!check.ok) throw new OsvErrors(check.error.errors);
  makeDirs(path.dirname(file));
  writeFileAtomic(file, text);
  const gitignore = ignoreOsvDir(path.dirname(file));
  const program = command[0];
  const missing = program?.includes('/') && !fs.existsSync(path.resolve(cwd, program)) ? program : undefined;
  const chose = template === 'none' ? 'no template' : `template:${template}`;
  const why = draft ? draft.why : opts.template !== undefined ? '--template' : 'the default';
  if (opts.json) {
    out(JSON.stringify({ ok: true, file, template: template === 'none' ? null : template, why, notes: draft?.notes ?? [], gitignore, ...(missing ? { missing } : {}) }, null, 2));
    return;
  }
  out(`${chose}: ${why}`);
  for (const n of draft?.notes ?? []) out(`note: ${n}`);
  out(`wrote ${rel}${gitignore === 'present' ? '' : ` and ${gitignore === 'created' ? 'created .gitignore with' : 'added to .gitignore'} .osv/`}`);
  if (missing) out(`note: ${missing} does not exist yet; build it before \`osv up\``);
  out(`next: edit ${rel}, then \`osv validate\` and \`osv up\``);
}
