// `osv inspect IMAGE`: partitions, command line, filesystem, file tree and a consistency check.
// The inspector lives in src/image/ and is imported when the command runs.

import type { CommandModule } from '../command.js';

export const command: CommandModule = {
  register(program) {
    program
      .command('inspect')
      .summary('show what an image contains and check that it is consistent')
      .description(
        'Read IMAGE (raw, or qcow2 through qemu-img) without booting it: the layout (disk: MBR + filesystem; ' +
          'bootable: OSv loader + filesystem; or a bare filesystem), the partitions as OSv sees them, the command ' +
          'line stored at byte 512, the root filesystem (ROFS or ext4), its file tree with sizes, and a consistency ' +
          'check (every inode, directory entry and file extent in range; e2fsck -n for ext4). Exits 1 when the ' +
          'check finds problems.',
      )
      .argument('<image>', 'the image file')
      .option('--no-tree', 'omit the file tree')
      .option('--json', 'print the report as JSON')
      .addHelpText(
        'after',
        `
Examples:
  $ osv inspect .osv/hello.img
  $ osv inspect .osv/app.qcow2 --no-tree
  $ osv inspect .osv/hello.img --json | jq '.tree[] | select(.kind == "file") | .path'

Exit status: 0 consistent, 1 problems found (or not an image), 2 usage.`,
      )
      .action(async (image: string, opts: { tree: boolean; json?: boolean }) => {
        const { inspectCommand } = await import('../../image/cli.js');
        await inspectCommand(image, opts);
      });
  },
};
