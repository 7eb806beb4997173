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
              'Like `docker run`, it exits with the program\'s own exit status: OSv prints it on the console when ' +
              'booted with --verbose, which osv-up adds, hiding the kernel\'s other debug lines (--kernel-log shows ' +
              'them). With --ci (= osv test) it gives a verdict instead: the kernel powers off on an abort, the ' +
              'console is watched for OSv\'s failure lines, run.expect and run.timeout (default 60 s) are enforced, ' +
              'and the command exits 0 only on a clean end with status 0, else 4 with a one-line reason.',
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

Exit status: the program's own; 125 osv-up failed (invalid input, usage, the build, the
hypervisor), 126 no status (an OSv failure line, a timeout, an unmet expect), 127 OSv could not
load the program, 130 interrupted. With --ci (= osv test): 0 pass, 1 invalid input, 2 usage,
3 build failed, 4 the guest failed (a nonzero status, a failure line, a timeout), 130 interrupted.`,
      )
      .action(async (opts) => {
        const { up } = await import('../../tasks/up.js');
        process.exitCode = await up({ cwd: process.cwd(), ...opts });
      });
  },
};
