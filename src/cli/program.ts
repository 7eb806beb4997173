// The commander program: parses the command line and dispatches to the commands it is given.
// The whole CLI (main.ts) gives it every command; each command's own bundle gives it that one
// command, and the bundle for `osv --version` none (scripts/bundle-cli.mjs), so that a command
// line loads the code it runs only.

import { Command, CommanderError } from 'commander';
import { toolVersion } from '../version.js';
import { ExitCode, OsvError } from '../diagnostics/error.js';
import { reportFailure } from './render.js';
import type { CommandModule } from './command.js';
import { asksVersionOnly, COMMAND_NAMES, commandWord, type CommandName } from './command-line.js';
import { GLOBAL_FLAGS } from '../tasks/flags.js';
import { onStdoutError, writeStderr, writeStdout } from '../output.js';

/** The commands a program can run, each loaded when it is the one asked for. */
export type CommandLoaders = Partial<Record<CommandName, () => Promise<CommandModule>>>;

export async function runProgram(argv: string[], commands: CommandLoaders): Promise<void> {
  // A reader that has gone (`osv build | head -1`) ends the output, not the command: output.ts
  // for what the commands print, this for the stream, if something makes it (help, progress).
  onStdoutError((e) => {
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
      const code = (e as NodeJS.ErrnoException).code ?? '';
      const why = CHDIR_PROBLEMS[code] ?? (e as Error).message;
      throw new OsvError({ code: 'cli.bad-dir', message: `-C ${dir}: ${why}`, exitCode: ExitCode.usage });
    }
  });
  program.configureOutput({ writeOut: writeStdout, writeErr: writeStderr });
  // Only the command being run is loaded (and registered); help and unknown words get them all,
  // a bare --version none. Registration order is the order `osv --help` lists them.
  const wanted = commandWord(argv);
  const loaders = COMMAND_NAMES.flatMap((name) => (commands[name] ? [[name, commands[name]] as const] : []));
  const chosen = loaders.filter(([name]) => name === wanted);
  for (const [, load] of chosen.length === 1 ? chosen : asksVersionOnly(argv) ? [] : loaders) (await load()).register(program);
  try {
    await program.parseAsync(argv);
  } catch (e) {
    const code = e instanceof CommanderError ? (e.exitCode === 0 ? 0 : ExitCode.usage) : reportFailure(e, argv.includes('--json'));
    process.exitCode = OWN_FAILURES.has(code) && passesProgramStatus(program, wanted, argv) ? ExitCode.osvFailed : code;
  }
}

/** What chdir's errors say of -C DIR, in words (Node's own text quotes the syscall: "ENOTDIR: not a directory, chdir ..."). */
const CHDIR_PROBLEMS: Record<string, string> = {
  ENOENT: 'no such directory',
  ENOTDIR: 'not a directory',
  ELOOP: 'a loop of symbolic links',
  EACCES: 'permission denied',
  ENAMETOOLONG: 'a name too long',
};

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
