// `osv why`: why one path is in the image.

import type { CommandModule } from '../command.js';
import type { WhyCommandOptions } from '../../plan/cli.js';

export const command: CommandModule = {
  register(program) {
    program
      .command('why')
      .summary('explain why a path is in the image')
      .argument('<path>', 'a guest path (/usr/lib/libz.so.1) or a file name (libz.so.1)')
      .description(
        'Plan the image and print the reasons one entry is there: the configuration key and line that ' +
          'declared it, or the chain of libraries that needed it, the search rule that found it and the ' +
          'paths tried first. A library the OSv kernel provides is reported as such.',
      )
      .option('-c, --config <file>', 'the configuration file (default: found in this directory)')
      .option('--run <name>', 'plan with this named run selected')
      .option('--json', 'print the entry and its reasons as JSON')
      .addHelpText(
        'after',
        `
Examples:
  $ osv why /usr/lib/libssl.so.3      which program needed it, and how it was found
  $ osv why libc.so.6                 provided by the kernel: not shipped
  $ osv why /etc/fstab --json`,
      )
      .action(async (target: string, opts: WhyCommandOptions) => {
        const { whyCommand } = await import('../../plan/cli.js');
        await whyCommand(target, opts);
      });
  },
};
