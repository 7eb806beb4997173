// The commands osv has, and what a command line asks for. Read by the start (start.ts), which
// picks the bundle that runs the command line, and by the program (program.ts). No imports: this
// is part of every command's start.

/** Every command, in the order `osv --help` lists them. */
export const COMMAND_NAMES = ['up', 'build', 'test', 'init', 'validate', 'config', 'schema', 'trace', 'resolve', 'plan', 'manifest', 'why', 'check', 'run', 'inspect', 'kernel', 'pull', 'push', 'export', 'cache', 'volume'] as const;

export type CommandName = (typeof COMMAND_NAMES)[number];

export const isCommandName = (word: string | undefined): word is CommandName => (COMMAND_NAMES as readonly (string | undefined)[]).includes(word);

/** The first word after the global options (`-C DIR` takes a value), or undefined. */
export function commandWord(argv: string[]): string | undefined {
  const args = argv.slice(2);
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '-C' || a === '--dir') i++;
    else if (!a.startsWith('-')) return a;
  }
  return undefined;
}

/** `osv --version` (or -V) without a command: the program answers it without any command. */
export const asksVersionOnly = (argv: string[]): boolean => commandWord(argv) === undefined && argv.slice(2).some((a) => a === '-V' || a === '--version');
