// `osv check`: prove before booting that every symbol the program needs exists. The check
// lives in src/check/ and is imported when the command runs.

import type { CommandModule } from '../command.js';
import type { CheckCommandOptions } from '../../check/cli.js';

export const command: CommandModule = {
  register(program) {
    program
      .command('check')
      .summary('check that every symbol the program needs exists, before booting')
      .description(
        'Read the dynamic symbols of every ELF object the image would contain and look each symbol it ' +
          'needs up where OSv\'s loader will: in the objects loaded with it and in the kernel\'s exports ' +
          '(loader-stripped.elf). A missing data object is an error (the program cannot start); a missing ' +
          'function reached through the PLT is a warning (it fails only if called), as is a call OSv only ' +
          'stubs (fork, execve, system, ...). Findings are grouped by object, with the library chain that ' +
          'brought it in. The kernel\'s symbols are cached by its sha256 under ' +
          '$XDG_CACHE_HOME/osv-up/symbols. Without a kernel on this machine the check says what it could ' +
          'not check and checks the rest.',
      )
      .option('-c, --config <file>', 'the configuration file (default: found in this directory)')
      .option('--run <name>', 'the named run whose program is checked')
      .option('-k, --kernel <path>', 'the kernel to check against: loader-stripped.elf or an OSv build directory (default: $OSV_KERNEL, kernel.path, or the downloaded kernel.version)')
      .option('-v, --verbose', 'list every missing symbol with its version and how it is bound')
      .option('--json', 'print the whole report as JSON')
      .addHelpText(
        'after',
        `
Examples:
  $ osv check                                  check the default run's program
  $ osv check --run test                       check the program of run "test"
  $ OSV_KERNEL=~/osv/build/last osv check      check against a kernel you built
  $ osv check --verbose                        every missing symbol, not just a summary
  $ osv check --json | jq '.errors'            the errors as data

Exit status: 0 no errors (warnings allowed), 1 errors or invalid configuration, 2 usage error.`,
      )
      .action(async (opts: CheckCommandOptions) => {
        const { checkCommand } = await import('../../check/cli.js');
        await checkCommand(opts);
      });
  },
};
