// `osv pull`: resolve the from: image again, pin it in osv.lock, bring it into the cache.

import type { CommandModule } from '../command.js';

export const command: CommandModule = {
  register(program) {
    program
      .command('pull')
      .summary('resolve the from: image again and pin it in osv.lock; or fetch a pushed image (REF) for osv run')
      .description(
        'Builds use the digest osv.lock pins for the from: image and never move with a tag. `osv pull` ' +
          'asks the registry (or the layout or archive) again, writes what the reference now resolves to ' +
          'for the project\'s arch into osv.lock, and pulls that image into the shared cache ' +
          '($XDG_CACHE_HOME/osv-up/oci). Credentials come from docker\'s config.json (and its credential ' +
          'helpers), $REGISTRY_AUTH_FILE or containers/auth.json; none: anonymous.',
      )
      .argument('[ref]', 'an image pushed by `osv push`: fetch it for `osv run REF` (kernel and disk into the cache) instead')
      .option('-c, --config <file>', 'the configuration file (default: found in this directory)')
      .option('--arch <arch>', 'with REF: the platform to pull, x86_64 or aarch64 (default: this machine\'s)')
      .option('--json', 'print the result as JSON')
      .option('-q, --quiet', 'no output')
      .addHelpText('after', '\nExamples:\n  $ osv pull                 pin what the tag points to now\n  $ osv pull registry.example.com/team/app:1.0   fetch a pushed image for osv run\n  $ osv pull --json | jq .digest\n\nExit status: 0 pinned and cached, 1 invalid configuration or image, 3 the pull failed.')
      .action(async (ref: string | undefined, opts) => {
        if (ref !== undefined) {
          const { pullImageRef } = await import('../../tasks/run-ref.js');
          await pullImageRef(ref, opts);
          return;
        }
        const { pullCommand } = await import('../../tasks/pull-command.js');
        await pullCommand(opts);
      });
  },
};
