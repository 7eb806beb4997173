// `osv validate`: load and check the configuration, report every problem at once.

import type { CommandModule } from '../command.js';
import type { ValidateOptions } from '../../config/cli.js';

export const command: CommandModule = {
  register(program) {
    program
      .command('validate')
      .summary('check the configuration and report every problem at once')
      .description(
        'Load the configuration (osv.yaml, or the file given with -c), merge what it extends, interpolate ' +
          'its variables and check it against the schema and the semantic rules. Prints a one-line summary ' +
          'and exits 0, or prints every error with its file:line:column and exits 1.',
      )
      .option('-c, --config <file>', 'the configuration file (default: osv.yaml, osv.yml, .osvrc, .osvrc.yaml, .osvrc.json, osv.config.yaml or package.json#osv in this directory)')
      .option('--run <name>', 'also check that this named run exists')
      .option('--print', 'also print the merged configuration, as `osv config` does')
      .option('--json', 'print the result (or the errors) as JSON')
      .addHelpText(
        'after',
        `
Examples:
  $ osv validate                       check ./osv.yaml
  $ osv validate -c deploy/osv.yaml    check another file
  $ osv validate --run test            also check that run "test" exists
  $ osv validate --json | jq .errors   machine-readable errors

Exit status: 0 valid, 1 invalid configuration, 2 usage error.`,
      )
      .action(async (opts: ValidateOptions) => {
        const { validateCommand } = await import('../../config/cli.js');
        await validateCommand(opts);
      });
  },
};
