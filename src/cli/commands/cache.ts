// `osv cache ls|prune`: the shared image cache.

import type { CommandModule } from '../command.js';

export const command: CommandModule = {
  register(program) {
    const cache = program
      .command('cache')
      .summary('list and free the image cache')
      .description('Images named by from: are kept, content-addressed, in $XDG_CACHE_HOME/osv-up/oci (default ~/.cache), shared by every project: layers uncompressed, under their diff_id.');
    cache
      .command('ls')
      .description('list the cached images with their digest, platform and size')
      .option('--json', 'print the list as JSON')
      .action(async (opts) => {
        const { cacheLsCommand } = await import('../../oci/cache-cli.js');
        await cacheLsCommand(opts);
      });
    cache
      .command('prune')
      .description("remove cached images, except those the current project's osv.lock pins (--all: those too), and whatever no image refers to")
      .option('--all', 'remove every cached image')
      .option('--json', 'print what was removed as JSON')
      .addHelpText('after', '\nExamples:\n  $ osv cache prune          keep only this project\'s pinned images\n  $ osv cache prune --all')
      .action(async (opts) => {
        const { cachePruneCommand } = await import('../../oci/cache-cli.js');
        await cachePruneCommand(opts);
      });
  },
};
