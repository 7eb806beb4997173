import { describe, expect, it } from 'vitest';
import { buildCmdline, escapeOption, quoteWord, type CmdlineInput } from '../../src/plan/cmdline.js';

const base: CmdlineInput = { rootfs: 'rofs', kernelArgs: [], env: [], argv: ['/app'], key: 'cmd' };
const build = (over: Partial<CmdlineInput>) => buildCmdline({ ...base, ...over });
const line = (over: Partial<CmdlineInput>): string => {
  const r = build(over);
  if (!r.ok) throw r.error;
  return r.value.cmdline;
};
const failure = (over: Partial<CmdlineInput>): string => {
  const r = build(over);
  if (r.ok) throw new Error(`expected an error, got ${r.value.cmdline}`);
  return r.error.message;
};

describe('loader options', () => {
  it('escapes blanks and backslashes with a backslash (quotes mean nothing there)', () => {
    expect(escapeOption('--env=A=b c')).toBe('--env=A=b\\ c');
    expect(escapeOption('--env=P=C:\\x\ty\nz')).toBe('--env=P=C:\\\\x\\\ty\\\nz');
    expect(escapeOption('--env=Q="x"')).toBe('--env=Q="x"');
  });

  it('orders --rootfs, kernel args, env (as given), cwd, then the program', () => {
    expect(line({ kernelArgs: ['--verbose', '--power-off-on-abort'], env: [['B', '2'], ['A', 'x y']], cwd: '/srv', argv: ['/app', 'arg'] })).toBe(
      '--rootfs=rofs --verbose --power-off-on-abort --env=B=2 --env=A=x\\ y --cwd=/srv /app arg !',
    );
    expect(line({ rootfs: 'ext' })).toBe('--rootfs=ext /app !');
    expect(line({ env: [['EMPTY', '']] })).toBe('--rootfs=rofs --env=EMPTY= /app !');
  });

  it.each<[Partial<CmdlineInput>, string]>([
    [{ kernelArgs: ['verbose'] }, 'kernel argument "verbose" does not start with "-"'],
    [{ kernelArgs: ['--rootfs=zfs'] }, 'kernel argument "--rootfs=zfs" sets the root file system'],
    [{ kernelArgs: ['--console='] }, 'kernel argument "--console=" has an empty value'],
    [{ env: [['', 'x']] as Array<[string, string]> }, 'environment variable name "" is empty or contains "="'],
    [{ env: [['A=B', 'x']] as Array<[string, string]> }, 'environment variable name "A=B" is empty or contains "="'],
    [{ cwd: '' }, 'cwd is empty'],
    [{ argv: ['/app', 'a\0b'] }, 'the command line contains a NUL byte'],
    [{ argv: ['/app', 'x'.repeat(1010)] }, 'the boot command line is 1031 bytes; OSv accepts at most 1023'],
  ])('refuses case %#', (over, message) => {
    expect(failure(over)).toBe(message);
  });

  it('accepts exactly 1023 bytes', () => {
    const arg = 'x'.repeat(1023 - '--rootfs=rofs /app  !'.length);
    expect(Buffer.byteLength(line({ argv: ['/app', arg] }))).toBe(1023);
    expect(failure({ argv: ['/app', `${arg}x`] })).toBe('the boot command line is 1024 bytes; OSv accepts at most 1023');
  });

  it('refuses a long non-ASCII word before counting its bytes, quoting only its start', () => {
    expect(failure({ argv: ['/app', 'é'.repeat(510)] })).toMatch(/^cmd\[1\] "é{40}…" contains "é"/);
  });
});

describe('application words (OSv command syntax)', () => {
  it.each([
    ['plain', 'plain'],
    ['-c', '-c'],
    ['print(6*7)', 'print(6*7)'],
    ['a b', '"a b"'],
    ['', '""'],
    ['x;y', '"x;y"'],
    ['x&y', '"x&y"'],
    ['x!', '"x!"'],
    ['say "hi"', '"say \\"hi\\""'],
    ['back\\slash', '"back\\\\slash"'],
    ["it's", '"it\'s"'],
    ['tab\there', '"tab\\there"'],
    ['line\nbreak', '"line\\nbreak"'],
  ])('%j is written as %s', (word, written) => {
    expect(quoteWord(word)).toBe(written);
  });

  it('warns about $ (OSv expands it with no escape) unless the variable is set in env', () => {
    const r = build({ argv: ['/app', '$HOME', 'cost$5', '$PORT'], env: [['PORT', '8080']] });
    if (!r.ok) throw r.error;
    expect(r.value.cmdline).toBe('--rootfs=rofs --env=PORT=8080 /app $HOME cost$5 $PORT !');
    expect(r.value.warnings).toEqual([
      'cmd: OSv replaces everything from "$" to the end of the word in "$HOME" with the value of the variable "HOME" (empty when unset; there is no escape)',
      'cmd: OSv replaces everything from "$" to the end of the word in "cost$5" with the value of the variable "5" (empty when unset; there is no escape)',
    ]);
  });
});

describe('what OSv cannot parse is refused at plan time (issue #20)', () => {
  // OSv reads its command line as ASCII: any byte above 0x7f prints "Failed to parse command
  // line." and powers off, whatever the quoting.
  it.each<[Partial<CmdlineInput>, string]>([
    [{ argv: ['/app', 'café'] }, 'cmd[1] "café" contains "é" (U+00E9)'],
    [{ argv: ['/app', 'a\u00a0b'] }, 'cmd[1] "a\u00a0b" contains "\u00a0" (U+00A0)'],
    [{ argv: ['/caf\u00e9'], key: 'runs.test.cmd' }, 'runs.test.cmd[0] "/café" contains "é" (U+00E9)'],
    [{ env: [['GREETING', 'grüß']] }, 'env.GREETING "grüß" contains "ü" (U+00FC)'],
    [{ env: [['NAMÉ', 'x']] }, 'env name "NAMÉ" "NAMÉ" contains "É" (U+00C9)'],
    [{ cwd: '/données' }, 'cwd "/données" contains "é" (U+00E9)'],
    [{ argv: ['/app', '\u{1F600}'] }, 'cmd[1] "\u{1F600}" contains "\u{1F600}" (U+1F600)'],
  ])('refuses non-ASCII case %#', (over, start) => {
    const r = build(over);
    if (r.ok) throw new Error(`expected an error, got ${r.value.cmdline}`);
    expect(r.error.code).toBe('plan.cmdline-not-ascii');
    expect(r.error.message.startsWith(start)).toBe(true);
    expect(r.error.message).toContain('Failed to parse command line.');
    expect(r.error.hint).toMatch(/use ASCII/);
  });

  it('takes every ASCII character, quoted or escaped as OSv reads it', () => {
    const ascii = Array.from({ length: 127 }, (_, i) => String.fromCharCode(i + 1)).join('');
    const r = build({ argv: ['/app', ascii], env: [['ALL', ascii.replace(/\0/g, '')]] });
    if (!r.ok) throw r.error;
    expect(r.value.cmdline).toContain(quoteWord(ascii));
  });
});
