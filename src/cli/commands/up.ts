// `osv up`: validate, plan, build (incremental), boot and stream the console.

import type { CommandModule } from '../command.js';
import { buildFlags, runFlags } from '../../tasks/flags.js';

export const command: CommandModule = {
  register(program) {
    runFlags(
      buildFlags(
        program
          .command('up')
          .summary('build the image if needed and boot it')
          .description(
            'The everyday command: validate osv.yaml, plan, build incrementally, then boot under QEMU ' +
              '(KVM when it can run OSv, else TCG) or Firecracker, with the console on this terminal. ' +
              'Ctrl-C stops the VM (exit 130).\n\n' +
              'OSv does not pass the program\'s exit status to the hypervisor. With --ci the kernel powers off on ' +
              'an abort, the console is watched for OSv\'s failure lines, run.expect and run.timeout are ' +
              'enforced, and the command exits non-zero with a one-line reason quoting the console line that decided it.',
          ),
      ).option('--ci', 'CI mode: power off on abort, check symbols, fail on OSv failure lines, timeouts and unmet expectations'),
    )
      .addHelpText(
        'after',
        `
Examples:
  $ osv up                              build and boot the default run
  $ osv up --run server -p 8080:8000    a named run, with a port forward
  $ osv up --ci --timeout 30            for CI: exit 0 only on a clean power-off
  $ osv up -n                           build, then print the QEMU command

Exit status: 0 the guest powered off normally, 1 invalid input, 2 usage, 3 build failed,
4 the guest failed (CI: a failure line, a timeout, an unmet expect), 130 interrupted.`,
      )
      .action(async (opts) => {
        const { up } = await import('../../tasks/up.js');
        process.exitCode = await up({ cwd: process.cwd(), ...opts });
      });
  },
};
