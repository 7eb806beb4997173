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
            'Build incrementally, check symbols, boot with --power-off-on-abort, and exit 0 only when the program ' +
              'exited with status 0 (OSv reports it with --verbose, which osv-up adds), the guest powered off by ' +
              'itself, no OSv failure line appeared and every expectation held; otherwise exit 4 with a one-line ' +
              'reason naming the status or quoting the console line that decided it. A run that never ends fails ' +
              'after run.timeout, by default 60 s (servers: --stop-on-expect). A status OSv did not report is a ' +
              'failure, never a pass.',
          ),
      ),
    )
      .addHelpText(
        'after',
        `
Examples:
  $ osv test                              the default run
  $ osv test --run smoke --expect "ready"
  $ osv test --json > result.json
  $ osv test --run server --expect "listening" --stop-on-expect
  $ osv test registry.example.com/team/app:1.0   boot a pushed image, pass or fail
  $ osv test .osv/app.img                 boot a built image file (osv run .osv/app.img --ci)

Exit status: 0 pass, 1 invalid input, 2 usage, 3 build failed, 4 the guest failed (a nonzero
exit status, an OSv failure line, a timeout, an unmet expect, an unknown status), 130 interrupted.`,
      )
      .argument('[ref]', 'an image pushed by `osv push` (no osv.yaml, no OSV_KERNEL needed), or an image file, as `osv run` takes them: boot it in CI mode instead of building')
      .action(async (ref: string | undefined, opts) => {
        if (ref !== undefined) {
          // As `osv run IMAGE` reads its argument: an existing file (or a name ending .img,
          // .qcow2, .raw) is an image file, anything else a reference.
          const { looksLikeImageRef } = await import('../../tasks/osv-image-fetch.js');
          if (!looksLikeImageRef(ref, process.cwd())) {
            const { runRunCommand } = await import('../../run/cli.js');
            await runRunCommand(ref, { ...opts, ci: true });
            return;
          }
          const { runImageRef } = await import('../../tasks/run-ref.js');
          await runImageRef(ref, { ...opts, ci: true });
          return;
        }
        const { up } = await import('../../tasks/up.js');
        process.exitCode = await up({ cwd: process.cwd(), ...opts, ci: true });
      });
  },
};
