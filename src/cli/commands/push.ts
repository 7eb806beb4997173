// `osv push REF`: the built image as an OCI image (a KubeVirt containerDisk and kernelBoot image).

import { PUSH_FLAGS } from '../../tasks/flags.js';
import type { CommandModule } from '../command.js';

export const command: CommandModule = {
  register(program) {
    const push = program
      .command('push')
      .summary('build, then push the image to an OCI registry, layout or archive')
      .description(
        'Builds the project as a kernel-less qcow2 disk when needed (like `osv up`), then pushes an ordinary ' +
          'linux/<arch> OCI image holding the OSv kernel at /boot/loader-stripped.elf (its own layer, shared by ' +
          'every application on the same kernel) and the disk at /disk/<name>.qcow2, both owned by uid/gid 107: ' +
          'a KubeVirt containerDisk and kernelBoot image in one. Its config carries each run\'s command line and ' +
          'settings, the kernel\'s version and sha256 and the osv-up version, so that `osv run REF` boots it ' +
          'anywhere without osv.yaml. Same build, same digest. Blobs the registry has are skipped; blobs this ' +
          'machine pushed to another repository of the registry are mounted from there. Credentials as for ' +
          'from: (docker config, credential helpers, $REGISTRY_AUTH_FILE, containers/auth.json).',
      )
      .argument('<ref>', 'registry/repo:tag, oci:DIR[:TAG] or oci-archive:FILE[:TAG]');
    // The flags' table is shared with the fast path (cli/fast-push.ts), which reads them without commander.
    for (const [flags, help] of PUSH_FLAGS) push.option(flags, help);
    push
      .addHelpText(
        'after',
        `
Examples:
  $ osv push registry.example.com/team/hello:1.0
  $ osv push oci:out/layout:1.0                write an OCI image layout directory
  $ osv push oci-archive:hello.tar             one tarball, for air-gapped hand-over
  $ osv push localhost:5000/hello:1 --json | jq -r .digest

Exit status: 0 pushed, 1 invalid input or access denied, 2 usage, 3 the build or the push failed.`,
      )
      .action(async (ref: string, opts) => {
        const { pushCommand } = await import('../../tasks/push-command.js');
        await pushCommand(ref, opts);
      });
  },
};
