// `osv build`: plan and write the image (incremental: an unchanged build does nothing).

import type { CommandModule } from '../command.js';
import { buildFlags } from '../../tasks/flags.js';

export const command: CommandModule = {
  register(program) {
    buildFlags(
      program
        .command('build')
        .summary('build the image (does nothing when nothing changed)')
        .description(
          'Resolve the kernel, plan the image, check every symbol the programs need, and write the ' +
            'filesystem and the disk under .osv/. Every host file the plan read is recorded: when none ' +
            'changed, nor the configuration, the kernel or the options, the build does no work and says so.',
        ),
    )
      .addHelpText(
        'after',
        `
Examples:
  $ osv build                          .osv/<name>.img, raw, kernel booted by the hypervisor
  $ osv build --format qcow2           convert with qemu-img
  $ osv build --output bootable        one self-booting file (loader.img + filesystem + command line)
  $ osv build --run test -o test.img   a bootable image of the named run "test"
  $ osv build --json | jq .            events and the result as JSON

Exit status: 0 built or up to date, 1 invalid configuration, 2 usage, 3 the build failed.`,
      )
      .action(async (opts) => {
        const { buildCommand } = await import('../../tasks/build-command.js');
        await buildCommand(opts);
      });
  },
};
