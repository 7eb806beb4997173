// `osv kernel pull|list|path|rm`: the OSv kernels osv-up downloads and caches. The actions live
// in src/kernel/cli.ts and are imported when a subcommand runs.

import type { CommandModule } from '../command.js';

export const command: CommandModule = {
  register(program) {
    const kernel = program
      .command('kernel')
      .summary('download, list, locate and remove OSv kernels')
      .description(
        'Kernels named by kernel.version, and osv-up\'s default release for a project that names no kernel ' +
          '(osvunikernel/osv-nightly-releases@ci-master-latest, src/kernel/default-release.ts), are downloaded from GitHub releases into ' +
          '$XDG_CACHE_HOME/osv-up/kernels (default ~/.cache/osv-up) and pinned by sha256 in osv.lock next to ' +
          'osv.yaml; a cached kernel that does not match the lock is refused. kernel.path (an OSv build ' +
          'directory, loader-stripped.elf or loader.img) and OSV_KERNEL (one run\'s override) need no download.',
      )
      .addHelpText(
        'after',
        `
Examples:
  $ osv kernel pull                 the project's kernel (kernel.version, else osv-up's default), pinned in osv.lock
  $ osv kernel pull v0.57.0         a release by tag
  $ osv kernel pull osvunikernel/osv-nightly-releases@ci-master-latest
  $ osv kernel list                 what is cached
  $ osv kernel path                 the files the project builds with
  $ osv kernel rm v0.57.0           remove a cached version (--all: every one)

Without network, pull says which release assets to download by hand and where to put them.
Set OSV_GITHUB_API to use another GitHub API endpoint (a mirror or GitHub Enterprise).`,
      );

    kernel
      .command('pull')
      .description('download a release kernel into the cache (in a project: pin it in osv.lock)')
      .argument('[version]', '"latest", a tag such as v0.57.0, or owner/repo@tag (default: the project\'s kernel.version, else osv-up\'s default release)')
      .option('--arch <arch>', 'x86_64 or aarch64 (default: the project\'s arch, else x86_64)')
      .option('--hidden', 'prefer the hidden-symbols kernel variant (kernel.hiddenSymbols)')
      .option('-c, --config <file>', 'the configuration file (default: discovered from the current directory)')
      .option('--json', 'print the result as JSON')
      .addHelpText('after', '\nExamples:\n  $ osv kernel pull\n  $ osv kernel pull v0.57.0 --arch aarch64 --json')
      .action(async (version: string | undefined, opts) => {
        const { pullCommand } = await import('../../kernel/cli.js');
        await pullCommand(version, opts);
      });

    kernel
      .command('list')
      .description('list the cached kernels with their sha256')
      .option('--json', 'print the list as JSON')
      .addHelpText('after', '\nExamples:\n  $ osv kernel list\n  $ osv kernel list --json | jq ".kernels[].version"')
      .action(async (opts) => {
        const { listCommand } = await import('../../kernel/cli.js');
        await listCommand(opts);
      });

    kernel
      .command('path')
      .description('print the kernel files the project builds with (OSV_KERNEL, kernel.path, kernel.version or the default release)')
      .option('-c, --config <file>', 'the configuration file (default: discovered from the current directory)')
      .option('--offline', 'never download; fail with instructions when the kernel is not cached')
      .option('--json', 'print the kernel bundle as JSON')
      .addHelpText('after', '\nExamples:\n  $ osv kernel path\n  $ qemu-system-x86_64 -kernel "$(osv kernel path | head -1)" ...\n  $ OSV_KERNEL=~/osv/build/last osv kernel path --json')
      .action(async (opts) => {
        const { pathCommand } = await import('../../kernel/cli.js');
        await pathCommand(opts);
      });

    kernel
      .command('rm')
      .description('remove a cached kernel version')
      .argument('[version]', 'the version to remove')
      .option('--all', 'remove every cached kernel')
      .option('--json', 'print what was removed as JSON')
      .addHelpText('after', '\nExamples:\n  $ osv kernel rm v0.57.0\n  $ osv kernel rm --all')
      .action(async (version: string | undefined, opts) => {
        const { rmCommand } = await import('../../kernel/cli.js');
        await rmCommand(version, opts);
      });
  },
};
