// The no-op fast path reads `osv build`'s flags with util.parseArgs from the same table commander
// is given. Wherever it takes a command line, it must read it as commander does; anything else it
// must leave to commander.

import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { parseBuildArgs } from '../../src/cli/fast-build.js';
import { buildFlags, GLOBAL_FLAGS } from '../../src/tasks/flags.js';

/** What commander makes of `osv ARGS` with the real build flags: the build's options and -C. */
function commanderReads(args: string[]): Record<string, unknown> {
  const program = new Command('osv').exitOverride().configureOutput({ writeErr: () => {}, writeOut: () => {} });
  for (const [flags, help] of GLOBAL_FLAGS) program.option(flags, help);
  let seen: Record<string, unknown> | undefined;
  buildFlags(program.command('build')).action((opts: Record<string, unknown>) => {
    seen = { ...opts };
  });
  program.parse(args, { from: 'user' });
  if (!seen) throw new Error('the build action did not run');
  const dir = program.opts<{ dir?: string }>().dir;
  // commander fills in the default of a negatable flag (check: true); the fast path gives only what was said.
  if (seen['check'] === true) delete seen['check'];
  return dir === undefined ? seen : { ...seen, dir };
}

describe('parseBuildArgs', () => {
  const taken = [
    ['build'],
    ['build', '--json'],
    ['build', '-q', '--no-check'],
    ['-C', 'some/dir', 'build'],
    ['--dir=some/dir', 'build', '-o', 'a.img'],
    ['build', '--out=a.img', '--format', 'qcow2'],
    ['build', '-qo', 'x.img'],
    ['build', '-ox.img'],
    ['build', '--run', 'test', '--force'],
    ['build', '-o', 'a.img', '-o', 'b.img'],
    ['build', '--output', 'bootable', '--config', 'other.yaml'],
    ['build', '-C', 'some/dir', '--json'], // commander takes the program's flags after the command word too
  ];
  it.each(taken)('reads %j as commander does', (...args: string[]) => {
    const fast = parseBuildArgs(args);
    expect(fast).toBeDefined();
    expect(fast).toEqual(commanderReads(args));
  });

  const left = [
    [],
    ['up'],
    ['build', '--help'],
    ['build', '-h'],
    ['-q', 'build'], // a build flag before the command word: commander refuses it
    ['build', 'extra'],
    ['build', '--', 'x'],
    ['build', '--bogus'],
    ['build', '--run'], // no value
    ['build', '--run', '--force'], // a value that looks like a flag
    ['build', '--json=yes'],
    ['--version', 'build'],
  ];
  it.each(left)('leaves %j to commander', (...args: string[]) => {
    expect(parseBuildArgs(args)).toBeUndefined();
  });
});
