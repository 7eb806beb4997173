// `osv plan`: what would go into the image, and why, before anything is written.

import type { CommandModule } from '../command.js';
import type { PlanCommandOptions } from '../../plan/cli.js';

export const command: CommandModule = {
  register(program) {
    program
      .command('plan')
      .summary('show what would go into the image, and why')
      .description(
        'Plan the image without writing anything: every file, directory and symlink with its size, ' +
          'host source and the reason it is there (the configuration key, or the library chain that ' +
          'needed it), totals, the kernel, and the exact boot command line of each run. Trees copied ' +
          'by `files` are folded into one line unless --all is given.',
      )
      .option('-c, --config <file>', 'the configuration file (default: found in this directory)')
      .option('--run <name>', 'the named run whose command line is selected')
      .option('--all', 'list every entry, also inside copied directory trees')
      .option('--json', 'print the whole plan as JSON')
      .addHelpText(
        'after',
        `
Examples:
  $ osv plan                                   the plan as a table
  $ osv plan --all                             every file, also inside copied trees
  $ osv plan --run test                        select the command line of run "test"
  $ osv plan --json | jq '.entries[].guest'    every guest path

Exit status: 0 planned, 1 invalid configuration or missing files/libraries, 2 usage error.`,
      )
      .action(async (opts: PlanCommandOptions) => {
        const { planCommand } = await import('../../plan/cli.js');
        await planCommand(opts);
      });
  },
};
