// The osv.yaml that `osv init` writes: short, commented, and valid as written.

import * as path from 'node:path';
import { defaultName } from './normalize.js';
import { mainSchemaPath } from './paths.js';
import type { InitDraft } from '../init/draft.js';

export interface InitOptions {
  /** The directory the file is written in. */
  dir: string;
  /** The boot command; default a hello-world echo. */
  command?: string[];
  /** A built-in template name, or undefined for none. */
  template?: string;
  /** The template builds `cmd` itself (from its variables): without a command, leave it to it. */
  templateHasCmd?: boolean;
  /** The template's run.memory (java's 1G), left to it. */
  templateMemory?: string;
  /** What init recognised in the command (src/init): the template's variables, files, env, cmd. */
  draft?: InitDraft;
  /** The kernel `osv up` will boot, said in a comment. */
  kernel?: { osvKernel?: string; defaultRelease?: string };
}

/** A first command that runs with each template's runtime (native: anything on PATH). */
const HELLO: Record<string, string[]> = {
  python: ['/usr/bin/python3', '-c', "print('Hello from OSv')"],
  node: ['/usr/bin/node', '-e', "console.log('Hello from OSv')"],
};

/**
 * A YAML scalar for a command word that loads back as exactly that word: `$` doubled (values
 * are interpolated), plain when that is unambiguous, else JSON-quoted (valid YAML).
 */
export function yamlWord(word: string): string {
  const s = word.replace(/\$/g, '$$$$');
  return /^[A-Za-z0-9_./+=@%-][A-Za-z0-9_./+=@%:,-]*$/.test(s) && !/^[-+]?\.?[0-9]/.test(s) && !/^(true|false|null|yes|no|on|off|~)$/i.test(s) && !s.startsWith('-') ? s : JSON.stringify(s);
}

/** Text as `# ` comment lines of at most `width` columns. */
function comment(text: string, width = 94): string[] {
  const lines: string[] = [];
  let line = '#';
  for (const word of text.split(' ')) {
    if (line.length + 1 + word.length > width && line !== '#') {
      lines.push(line);
      line = '#';
    }
    line += ` ${word}`;
  }
  return [...lines, line];
}

/** Comment lines that say which kernel boots: the file names none, so the comment must. */
function kernelLines(k: NonNullable<InitOptions['kernel']>): string[] {
  const fallback = k.defaultRelease
    ? `osv-up's default release, ${k.defaultRelease} (downloaded once, pinned in osv.lock)`
    : 'nothing: osv-up has no default kernel for this architecture';
  return [
    ...comment(
      k.osvKernel
        ? `The kernel: none is named here, so \`osv up\` boots OSV_KERNEL (${k.osvKernel} in the shell that ran osv init), and without it ${fallback}.`
        : `The kernel: none is named here and OSV_KERNEL is not set, so \`osv up\` boots ${fallback}.`,
    ),
    '# To choose one: `kernel: {version: v0.57.0}` (a release) or `kernel: {path: ~/osv/build/last}`.',
    '',
  ];
}

/** `key: value` lines of a block map, indented, with a comment above each value that has one. */
function blockMap(entries: Array<{ name: string; value: string; comment?: string }>): string[] {
  return entries.flatMap((e) => [...(e.comment ? [`  # ${e.comment}`] : []), `  ${yamlKey(e.name)}: ${yamlWord(e.value)}`]);
}

const yamlKey = (k: string): string => (/^[A-Za-z_][A-Za-z0-9_]*$/.test(k) ? k : JSON.stringify(k));

function draftLines(d: InitDraft): string[] {
  const out: string[] = [];
  if (d.vars.length) out.push('# The template\'s variables (docs/templates.md), as osv init found them.', 'vars:', ...blockMap(d.vars), '');
  if (d.files.length) {
    out.push('# Files: {src, dest} copies a file or a tree; src is relative to this file.', 'files:');
    for (const g of d.files) {
      out.push(`  # ${g.comment}`);
      for (const f of g.files) out.push(`  - src: ${yamlWord(f.src)}`, `    dest: ${yamlWord(f.dest)}`, ...(f.exclude?.length ? [`    exclude: [${f.exclude.map(yamlWord).join(', ')}]`] : []));
    }
    out.push('');
  }
  const env = Object.entries(d.env);
  if (env.length) out.push('# Environment variables of the program.', 'env:', ...blockMap(env.map(([name, value]) => ({ name, value }))), '');
  if (d.cwd !== undefined) out.push('# The working directory of the program.', `cwd: ${yamlWord(d.cwd)}`, '');
  return out;
}

export function initText(o: InitOptions): string {
  const schema = path.relative(o.dir, mainSchemaPath).split(path.sep).join('/');
  const given = Boolean(o.command?.length);
  const draft = o.draft;
  const cmd = draft?.cmd ?? (given ? o.command! : (o.template ? HELLO[o.template] : undefined) ?? ['echo', 'Hello from OSv']);
  const byTemplate = draft ? draft.cmd === undefined : !given && o.templateHasCmd === true;
  const lines = [
    `# yaml-language-server: $schema=${schema.startsWith('.') ? schema : './' + schema}`,
    '#',
    '# How to build and boot this project as an OSv unikernel. Check it with `osv validate`,',
    '# boot it with `osv up`, see every option in osv.config.example.yaml (osv-up repository).',
    '',
    '# The image name. Default: the directory name.',
    `name: ${defaultName(o.dir)}`,
    '',
    ...(o.kernel ? kernelLines(o.kernel) : []),
  ];
  if (o.template)
    lines.push(
      `# Defaults merged under this file (built-in template "${o.template}"${draft ? `: ${draft.why}` : ''}).`,
      `extends: [template:${o.template}]`,
      '',
    );
  if (draft) lines.push(...draftLines(draft));
  lines.push(
    '# The program to boot and its arguments. A name without a slash is found on PATH; its',
    '# shared libraries are found and added automatically.',
    ...(byTemplate
      ? [`# The template builds the command from its variables (docs/templates.md); set them under`, `# vars:, or replace it: cmd: [...]. \`osv config\` shows the result.`]
      : [`cmd: [${cmd.map(yamlWord).join(', ')}]`]),
    '',
  );
  if (!draft?.files.length)
    lines.push(
      '# Environment variables of the program.',
      '# env:',
      '#   LANG: C.UTF-8',
      '',
      '# More files: {src, dest} copies a file or a tree, {dest, content} writes the text given,',
      '# {dest, link} makes a symlink, {dest, dir: true} an empty directory. src is relative to',
      '# this file.',
      '# files:',
      '#   - src: ./static',
      '#     dest: /static',
      '',
    );
  lines.push(
    '# Libraries the program loads with dlopen (the ELF scan cannot see those).',
    '# libraries: [libnss_dns.so.2]',
    '',
    '# How `osv up` runs it.',
    'run:',
    o.templateMemory ? `  # memory: ${o.templateMemory.padEnd(17)}# the template's; a value here replaces it` : '  memory: 512M',
    '  cpus: 2',
    '  # ports: ["8080:8080"]     # HOST:GUEST, forwarded from 127.0.0.1',
    '  # expect: "Hello"          # CI: succeed when the console shows this',
    '',
  );
  return lines.join('\n');
}
