// `osv test`: `osv up --ci`, for CI pipelines.

import type { CommandModule } from '../command.js';
import { buildFlags, runFlags } from '../../tasks/flags.js';

export const command: CommandModule = {
  register(program) {
    runFlags(
      buildFlags(
        program
          .command('test')
          .summary('build and boot in CI mode (same as osv up --ci)')
          .description(
            'Build incrementally, check symbols, boot with --power-off-on-abort, and exit 0 only when the guest ' +
              'powered off normally and every expectation (run.expect, run.timeout) held; otherwise exit 4 with a ' +
              'one-line reason quoting the console line that decided it.',
          ),
      ),
    )
      .addHelpText(
        'after',
        `
Examples:
  $ osv test                              the default run
  $ osv test --run smoke --expect "ready"
  $ osv test --json > result.json`,
      )
      .action(async (opts) => {
        const { up } = await import('../../tasks/up.js');
        process.exitCode = await up({ cwd: process.cwd(), ...opts, ci: true });
      });
  },
};
