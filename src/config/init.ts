// The osv.yaml that `osv init` writes: short, commented, and valid as written.

import * as path from 'node:path';
import { defaultName } from './normalize.js';
import { mainSchemaPath } from './paths.js';

export interface InitOptions {
  /** The directory the file is written in. */
  dir: string;
  /** The boot command; default a hello-world echo. */
  command?: string[];
  /** A built-in template name, or undefined for none. */
  template?: string;
  /** The template builds `cmd` itself (from its variables): without a command, leave it to it. */
  templateHasCmd?: boolean;
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

export function initText(o: InitOptions): string {
  const schema = path.relative(o.dir, mainSchemaPath).split(path.sep).join('/');
  const given = Boolean(o.command?.length);
  const cmd = given ? o.command! : (o.template ? HELLO[o.template] : undefined) ?? ['echo', 'Hello from OSv'];
  const byTemplate = !given && o.templateHasCmd === true;
  const lines = [
    `# yaml-language-server: $schema=${schema.startsWith('.') ? schema : './' + schema}`,
    '#',
    '# How to build and boot this project as an OSv unikernel. Check it with `osv validate`,',
    '# boot it with `osv up`, see every option in osv.config.example.yaml (osv-up repository).',
    '',
    '# The image name. Default: the directory name.',
    `name: ${defaultName(o.dir)}`,
    '',
  ];
  if (o.template)
    lines.push(
      `# Defaults merged under this file (built-in template "${o.template}").`,
      `extends: [template:${o.template}]`,
      '',
    );
  lines.push(
    '# The program to boot and its arguments. A name without a slash is found on PATH; its',
    '# shared libraries are found and added automatically.',
    ...(byTemplate
      ? [`# The template builds the command from its variables (docs/templates.md); set them under`, `# vars:, or replace it: cmd: [...]. \`osv config\` shows the result.`]
      : [`cmd: [${cmd.map(yamlWord).join(', ')}]`]),
    '',
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
    '# Libraries the program loads with dlopen (the ELF scan cannot see those).',
    '# libraries: [libnss_dns.so.2]',
    '',
    '# How `osv up` runs it.',
    'run:',
    '  memory: 512M',
    '  cpus: 2',
    '  # ports: ["8080:8080"]     # HOST:GUEST, forwarded from 127.0.0.1',
    '  # expect: "Hello"          # CI: succeed when the console shows this',
    '',
  );
  return lines.join('\n');
}
