// `osv config`: the fully merged, interpolated configuration.

import type { CommandModule } from '../command.js';

export const command: CommandModule = {
  register(program) {
    program
      .command('config')
      .summary('print the merged, interpolated configuration')
      .description(
        'Print the configuration as osv sees it: every extends file and template merged in, variables ' +
          'interpolated, relative host paths made absolute. The output is itself a valid osv.yaml. ' +
          'Errors are reported as by `osv validate`.',
      )
      .option('-c, --config <file>', 'the configuration file (default: found in this directory)')
      .option('--json', 'print JSON instead of YAML')
      .addHelpText(
        'after',
        `
Examples:
  $ osv config                          the merged configuration as YAML
  $ osv config --json | jq .run         one section, as JSON
  $ LOG_LEVEL=debug osv config          see what \${env:LOG_LEVEL} becomes`,
      )
      .action(async (opts: { config?: string; json?: boolean }) => {
        const { configCommand } = await import('../../config/cli.js');
        await configCommand(opts);
      });
  },
};
