// `osv volume ls|inspect|rm|export`: the named volumes a project's runs keep their data in. The
// actions live in src/volumes/cli.ts and are imported when a subcommand runs.

import type { CommandModule } from '../command.js';

export const command: CommandModule = {
  register(program) {
    const volume = program
      .command('volume')
      .summary('list, inspect, remove and copy out the named volumes of a project')
      .description(
        'A named volume (`{name, dest}` in run.volumes) is an ext4 file system that a run makes on first use and ' +
          'mounts at dest. It lives outside the project and the image, in $XDG_DATA_HOME/osv-up/volumes (default ' +
          '~/.local/share/osv-up/volumes), one directory per project, so it survives rebuilds, kernel changes and ' +
          '`osv up`; only `osv volume rm` removes it. The project is the directory of the configuration file found ' +
          'here (or given with -c).',
      )
      .addHelpText(
        'after',
        `
Examples:
  $ osv volume ls                    this project's volumes: size, used, on disk, which runs use them
  $ osv volume ls --all              every project's
  $ osv volume inspect data          its files and a consistency check (e2fsck -n)
  $ osv volume export data ./backup  copy its files out (no root needed)
  $ osv volume rm data               remove it (refused while a VM has it)`,
      );

    volume
      .command('ls')
      .description('list the volumes of this project (--all: of every project)')
      .option('--all', 'every project\'s volumes, with the project each belongs to')
      .option('-c, --config <file>', 'the configuration file (default: discovered from the current directory)')
      .option('--json', 'print the list as JSON')
      .action(async (opts) => {
        const { lsCommand } = await import('../../volumes/cli.js');
        await lsCommand(opts);
      });

    volume
      .command('inspect')
      .description('a volume\'s sizes, the runs that use it, its files and a consistency check')
      .argument('<name>', 'the volume\'s name')
      .option('--no-tree', 'leave out the file list')
      .option('-c, --config <file>', 'the configuration file (default: discovered from the current directory)')
      .option('--json', 'print the report as JSON')
      .action(async (name: string, opts) => {
        const { inspectCommand } = await import('../../volumes/cli.js');
        await inspectCommand(name, opts);
      });

    volume
      .command('rm')
      .description('remove volumes and their data (refused while a VM has one)')
      .argument('<names...>', 'the volumes to remove')
      .option('-c, --config <file>', 'the configuration file (default: discovered from the current directory)')
      .option('--json', 'print what was removed as JSON')
      .action(async (names: string[], opts) => {
        const { rmCommand } = await import('../../volumes/cli.js');
        await rmCommand(names, opts);
      });

    volume
      .command('export')
      .description('copy a volume\'s files into a new or empty host directory')
      .argument('<name>', 'the volume\'s name')
      .argument('<dir>', 'where to put the files')
      .option('-c, --config <file>', 'the configuration file (default: discovered from the current directory)')
      .option('--json', 'print the result as JSON')
      .action(async (name: string, dir: string, opts) => {
        const { exportCommand } = await import('../../volumes/cli.js');
        await exportCommand(name, dir, opts);
      });
  },
};
