// `osv pull`: resolve the from: image again, pin it in osv.lock, bring it into the cache.

import type { CommandModule } from '../command.js';

export const command: CommandModule = {
  register(program) {
    program
      .command('pull')
      .summary('resolve the from: image again, pin its digest in osv.lock and cache it')
      .description(
        'Builds use the digest osv.lock pins for the from: image and never move with a tag. `osv pull` ' +
          'asks the registry (or the layout or archive) again, writes what the reference now resolves to ' +
          'for the project\'s arch into osv.lock, and pulls that image into the shared cache ' +
          '($XDG_CACHE_HOME/osv-up/oci). Credentials come from docker\'s config.json (and its credential ' +
          'helpers), $REGISTRY_AUTH_FILE or containers/auth.json; none: anonymous.',
      )
      .option('-c, --config <file>', 'the configuration file (default: found in this directory)')
      .option('--json', 'print the result as JSON')
      .option('-q, --quiet', 'no output')
      .addHelpText('after', '\nExamples:\n  $ osv pull                 pin what the tag points to now\n  $ osv pull --json | jq .digest\n\nExit status: 0 pinned and cached, 1 invalid configuration or image, 3 the pull failed.')
      .action(async (opts) => {
        const { pullCommand } = await import('../../tasks/pull-command.js');
        await pullCommand(opts);
      });
  },
};
