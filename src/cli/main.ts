// The commander CLI (bin/osv.js comes here unless fast-build.ts answered an up-to-date build).
// It only parses and dispatches. Each command module registers itself and imports its heavy
// stages lazily inside its action, so `osv --help` and small commands start fast.

import { Command, CommanderError } from 'commander';
import { toolVersion } from '../version.js';
import { ExitCode, OsvError } from '../diagnostics/error.js';
import { reportFailure } from './render.js';
import type { CommandModule } from './command.js';
import { GLOBAL_FLAGS } from '../tasks/flags.js';

// Registration order is the order `osv --help` lists them.
const commands: Array<[name: string, load: () => Promise<CommandModule>]> = [
  ['up', () => import('./commands/up.js').then((m) => m.command)],
  ['build', () => import('./commands/build.js').then((m) => m.command)],
  ['test', () => import('./commands/test.js').then((m) => m.command)],
  ['init', () => import('./commands/init.js').then((m) => m.command)],
  ['validate', () => import('./commands/validate.js').then((m) => m.command)],
  ['config', () => import('./commands/config.js').then((m) => m.command)],
  ['schema', () => import('./commands/schema.js').then((m) => m.command)],
  ['trace', () => import('./commands/trace.js').then((m) => m.command)],
  ['resolve', () => import('./commands/resolve.js').then((m) => m.command)],
  ['plan', () => import('./commands/plan.js').then((m) => m.command)],
  ['manifest', () => import('./commands/manifest.js').then((m) => m.command)],
  ['why', () => import('./commands/why.js').then((m) => m.command)],
  ['check', () => import('./commands/check.js').then((m) => m.command)],
  ['run', () => import('./commands/run.js').then((m) => m.command)],
  ['inspect', () => import('./commands/inspect.js').then((m) => m.command)],
  ['kernel', () => import('./commands/kernel.js').then((m) => m.command)],
  ['pull', () => import('./commands/pull.js').then((m) => m.command)],
  ['push', () => import('./commands/push.js').then((m) => m.command)],
  ['export', () => import('./commands/export.js').then((m) => m.command)],
  ['cache', () => import('./commands/cache.js').then((m) => m.command)],
  ['volume', () => import('./commands/volume.js').then((m) => m.command)],
];

/** The first word after the global options (`-C DIR` takes a value), or undefined. */
function commandWord(argv: string[]): string | undefined {
  const args = argv.slice(2);
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '-C' || a === '--dir') i++;
    else if (!a.startsWith('-')) return a;
  }
  return undefined;
}

export async function main(argv: string[]): Promise<void> {
  // A reader that has gone (`osv build --json | head -1`) ends the output, not the command.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') throw e;
  });
  const program = new Command('osv')
    .description('Build and run OSv unikernel images from a declarative osv.yaml')
    .version(toolVersion(), '-V, --version')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  for (const [flags, help] of GLOBAL_FLAGS) program.option(flags, help);
  program.hook('preAction', (cmd) => {
    const dir = cmd.opts<{ dir?: string }>().dir;
    if (!dir) return;
    try {
      process.chdir(dir);
    } catch (e) {
      throw new OsvError({ code: 'cli.bad-dir', message: `-C ${dir}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such directory' : (e as Error).message}`, exitCode: ExitCode.usage });
    }
  });
  program.configureOutput({ writeErr: (s) => process.stderr.write(s) });
  // Only the command being run is loaded (and registered); help and unknown words get them all,
  // a bare --version none.
  const wanted = commandWord(argv);
  const chosen = commands.filter(([name]) => name === wanted);
  const versionOnly = wanted === undefined && argv.slice(2).some((a) => a === '-V' || a === '--version');
  for (const [, load] of chosen.length === 1 ? chosen : versionOnly ? [] : commands) (await load()).register(program);
  try {
    await program.parseAsync(argv);
  } catch (e) {
    const code = e instanceof CommanderError ? (e.exitCode === 0 ? 0 : ExitCode.usage) : reportFailure(e, argv.includes('--json'));
    process.exitCode = OWN_FAILURES.has(code) && passesProgramStatus(program, wanted, argv) ? ExitCode.osvFailed : code;
  }
}

const OWN_FAILURES = new Set<number>([ExitCode.invalidInput, ExitCode.usage, ExitCode.buildFailed, ExitCode.guestFailed]);

/**
 * `osv up` and `osv run` exit with the program's own status, like `docker run`; so that a
 * program's 1 or 2 is not taken for osv-up's, their own failures exit 125 (not under --ci).
 */
function passesProgramStatus(program: Command, word: string | undefined, argv: string[]): boolean {
  if (word !== 'up' && word !== 'run') return false;
  const ci = program.commands.find((c) => c.name() === word)?.opts<{ ci?: boolean }>().ci ?? argv.includes('--ci');
  return !ci;
}
