// `osv schema`: the JSON Schema of osv.yaml, for editors and other tools.

import type { CommandModule } from '../command.js';

export const command: CommandModule = {
  register(program) {
    program
      .command('schema')
      .summary('print the JSON Schema of osv.yaml')
      .description(
        'Print the JSON Schema (draft-07) that defines osv.yaml: every key with its description, default ' +
          'and examples. Editors that use yaml-language-server read it from the first line of the file: ' +
          '`# yaml-language-server: $schema=PATH`.',
      )
      .option('--module', 'print the schema of osv.module.yaml instead')
      .addHelpText(
        'after',
        `
Examples:
  $ osv schema > osv.schema.json        save it next to your osv.yaml
  $ osv schema | jq '.definitions.run.properties | keys'
  $ osv schema --module                 the schema of module files`,
      )
      .action(async (opts: { module?: boolean }) => {
        const { schemaCommand } = await import('../../config/cli.js');
        schemaCommand(opts);
      });
  },
};
