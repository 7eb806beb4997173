// `osv export kubevirt [REF]`: KubeVirt manifests for a pushed image.

import type { CommandModule } from '../command.js';

export const command: CommandModule = {
  register(program) {
    const exp = program.command('export').summary('write manifests for other engines (kubevirt)');
    exp
      .command('kubevirt')
      .summary('a KubeVirt VirtualMachine (or VirtualMachinePool) and Service for a pushed image')
      .description(
        'Prints a kubevirt.io/v1 VirtualMachine that boots the image pushed by `osv push` the way osv-up does: ' +
          'direct kernel boot (firmware.kernelBoot: the kernel at /boot/loader-stripped.elf, kernelArgs = the ' +
          "run's OSv command line plus --power-off-on-abort), the image's /disk/ qcow2 as a containerDisk first " +
          "in disks[], memory and CPUs from the run, a masquerade pod-network interface listing the run's guest " +
          'ports, and a Service for those ports; runStrategy Always. --replicas N makes a VirtualMachinePool ' +
          '(pool.kubevirt.io/v1alpha1) instead. The image is pinned by digest. REF defaults to the last ' +
          '`osv push` of this project.',
      )
      .argument('[ref]', 'registry/repo:tag (default: the project\'s last push)')
      .option('--run <name>', 'which run of the image (default: the one it boots by default)')
      .option('--name <name>', 'object name (default: the image\'s name)')
      .option('--namespace <ns>', 'metadata.namespace')
      .option('--replicas <n>', 'a VirtualMachinePool of N VMs instead of one VirtualMachine')
      .option('-o, --output <file>', 'write the YAML to FILE instead of stdout')
      .option('--arch <arch>', 'x86_64 or aarch64 (default: this machine\'s)')
      .option('--config <file>', 'the configuration file whose last push to export (default: osv.yaml here)')
      .addHelpText(
        'after',
        `
Examples:
  $ osv push registry.example.com/team/web:1.0
  $ osv export kubevirt -o web.yaml
  $ kubectl apply -f web.yaml
  $ osv export kubevirt registry.example.com/team/web:1.0 --replicas 3 --namespace demo`,
      )
      .action(async (ref: string | undefined, opts) => {
        const { exportKubevirt } = await import('../../tasks/export-command.js');
        await exportKubevirt(ref, opts);
      });
  },
};
