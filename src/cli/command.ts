import type { Command } from 'commander';

/** A CLI command: registers its flags and a lazy action on the program. */
export interface CommandModule {
  register(program: Command): void;
}
