// `osv manifest`: the plan in OSv's usr.manifest syntax.

import type { CommandModule } from '../command.js';
import type { ManifestCommandOptions } from '../../plan/cli.js';

export const command: CommandModule = {
  register(program) {
    program
      .command('manifest')
      .summary("write the plan as an OSv manifest (usable as OSv's append.manifest)")
      .description(
        'Write the planned image contents in OSv\'s manifest syntax ("/guest/path: /host/path", ' +
          '"->target" for symlinks, a host directory for an empty directory; "%" written as "%%"). ' +
          'Generated files (/etc/fstab, /etc/hosts) have no host file: with -o FILE they are written to ' +
          'FILE.files/ and the manifest points there; on stdout they are shown as comments.',
      )
      .option('-c, --config <file>', 'the configuration file (default: found in this directory)')
      .option('-o, --output <file>', 'write the manifest to this file (and generated files to FILE.files/)')
      .option('--run <name>', 'the named run whose command line is noted in the header')
      .option('--json', 'print the manifest (or where it was written) as JSON')
      .addHelpText(
        'after',
        `
Examples:
  $ osv manifest                                     print the manifest
  $ osv manifest -o ~/osv/build/release/append.manifest
  $ ~/osv/scripts/build image=empty fs=rofs --append-manifest   build it with OSv's own scripts`,
      )
      .action(async (opts: ManifestCommandOptions) => {
        const { manifestCommand } = await import('../../plan/cli.js');
        await manifestCommand(opts);
      });
  },
};
