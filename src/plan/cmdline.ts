// The OSv boot command line: loader options first (`--rootfs=`, kernel args, `--env=`,
// `--cwd=`), each one whitespace-free token where a backslash escapes the next character; then
// the application command, whose words are quoted per OSv's command syntax (facts doc §5).

import { OsvError, type Source } from '../diagnostics/error.js';
import type { Result } from '../diagnostics/result.js';
import { err, ok } from '../diagnostics/result.js';
import { maskText } from '../secrets.js';

/** OSv refuses a command line of 1024 bytes or more (it must fit, NUL included, in 1024). */
export const MAX_CMDLINE_BYTES = 1023;

export interface CmdlineInput {
  rootfs: string;
  kernelArgs: string[];
  /** In the order given (module env first, then the run's). */
  env: Array<[string, string]>;
  cwd?: string;
  /** The program's guest path, then its arguments. */
  argv: string[];
  /** Where the run was declared, for messages. */
  source?: Source;
  /** `cmd`, `runs.test.cmd`... for messages. */
  key: string;
  /** Values never to quote in a message (src/secrets.ts). */
  secrets?: readonly string[];
}

/**
 * The terminator that makes the program end as a Linux process does (facts §5.4): when main
 * returns, OSv stops the program's other threads. Without it OSv waits for every thread the
 * program started, and a JVM (whose daemon threads never end) or node (its inspector thread)
 * keeps the VM running after its work is done.
 */
export const END_WITH_MAIN = '!';

/** A loader option token: the loader splits on blanks, and a backslash escapes the next character. */
export function escapeOption(token: string): string {
  return token.replace(/[\\ \t\n]/g, (c) => `\\${c}`);
}

const QUOTED_ESCAPES: Record<string, string> = {
  '\\': '\\\\',
  '"': '\\"',
  '\x07': '\\a',
  '\b': '\\b',
  '\f': '\\f',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
  '\v': '\\v',
};

/**
 * The first non-ASCII character of a word, or undefined. OSv's command-line parser reads ASCII
 * only: any byte above 0x7f (`café`, a no-break space) makes it print "Failed to parse command
 * line." and power off, and no quoting or escape gets such a byte through (facts doc §5).
 */
export function firstNonAscii(word: string): string | undefined {
  const m = /[^\x00-\x7f]/u.exec(word);
  return m ? m[0] : undefined;
}

const codePoint = (c: string): string => `U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;

/** One word of the application command, double-quoted when OSv would otherwise split or escape it. */
export function quoteWord(word: string): string {
  if (word !== '' && !/[\s;&!"'\\\x07\b\f\v]/.test(word)) return word;
  return `"${word.replace(/[\\"\x07\b\f\n\r\t\v]/g, (c) => QUOTED_ESCAPES[c] ?? c)}"`;
}

export function buildCmdline(input: CmdlineInput): Result<{ cmdline: string; warnings: string[] }, OsvError> {
  const fail = (message: string, hint: string, code = 'plan.cmdline'): Result<never, OsvError> =>
    err(new OsvError({ code, message, hint, ...(input.source ? { source: input.source } : {}) }));
  const warnings: string[] = [];
  const tokens = [`--rootfs=${input.rootfs}`];

  // Every word, named as the user wrote it, checked before anything is quoted.
  const words: Array<[string, string]> = [
    ...input.kernelArgs.map((a): [string, string] => ['run.kernelArgs', a]),
    ...input.env.flatMap(([k, v]): Array<[string, string]> => [[`env name ${JSON.stringify(k)}`, k], [`env.${k}`, v]]),
    ...(input.cwd !== undefined ? [['cwd', input.cwd] as [string, string]] : []),
    ...input.argv.map((a, i): [string, string] => [`${input.key}[${i}]`, a]),
  ];
  for (const [what, word] of words) {
    const bad = firstNonAscii(word);
    if (bad === undefined) continue;
    return fail(
      `${what} ${maskText(JSON.stringify([...word].length > 40 ? `${[...word].slice(0, 40).join('')}…` : word), input.secrets ?? [])} contains ${JSON.stringify(bad)} (${codePoint(bad)}), which OSv cannot take on its command line: ` +
        'it reads ASCII only, prints "Failed to parse command line." and powers off',
      what.startsWith(input.key)
        ? 'use ASCII in cmd; put other text in a file in the image (files: content) and pass its path'
        : 'use ASCII here; put other text in a file in the image (files: content) that the program reads',
      'plan.cmdline-not-ascii',
    );
  }

  for (const arg of input.kernelArgs) {
    if (!arg.startsWith('-')) return fail(`kernel argument "${arg}" does not start with "-"`, 'OSv would take it as the start of the program: kernel arguments are options like --verbose');
    if (/^--rootfs(=|$)/.test(arg)) return fail(`kernel argument "${arg}" sets the root file system`, 'set `filesystem` instead; osv-up writes --rootfs itself');
    if (/^--[^=]+=$/.test(arg)) return fail(`kernel argument "${arg}" has an empty value`, 'OSv rejects options with an empty value');
    tokens.push(escapeOption(arg));
  }
  for (const [key, value] of input.env) {
    if (key === '' || key.includes('=')) return fail(`environment variable name "${key}" is empty or contains "="`, 'use a name like MY_VAR');
    tokens.push(escapeOption(`--env=${key}=${value}`));
  }
  if (input.cwd !== undefined) {
    if (input.cwd === '') return fail('cwd is empty', 'give an absolute guest directory such as /app, or leave cwd out');
    tokens.push(escapeOption(`--cwd=${input.cwd}`));
  }

  const envNames = new Set(input.env.map(([k]) => k));
  for (const word of input.argv) {
    const dollar = word.indexOf('$');
    if (dollar >= 0) {
      const name = word.slice(dollar + 1);
      if (!envNames.has(name)) {
        warnings.push(
          `${input.key}: OSv replaces everything from "$" to the end of the word in "${word}" with the value of the variable "${name}" ` +
            `(empty when unset; there is no escape)`,
        );
      }
    }
  }
  const app = input.argv.map(quoteWord).join(' ');
  const cmdline = app === '' ? tokens.join(' ') : `${tokens.join(' ')} ${app} ${END_WITH_MAIN}`;
  if (cmdline.includes('\0')) return fail(`the command line contains a NUL byte`, 'remove the NUL byte from cmd, env or cwd');
  const bytes = Buffer.byteLength(cmdline);
  if (bytes > MAX_CMDLINE_BYTES) {
    return fail(
      `the boot command line is ${bytes} bytes; OSv accepts at most ${MAX_CMDLINE_BYTES}`,
      'shorten cmd or env; long settings can go in a file in the image that the program reads',
      'plan.cmdline-too-long',
    );
  }
  return ok({ cmdline, warnings });
}
