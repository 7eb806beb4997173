// `osv run [IMAGE]`: boot an already-built image under QEMU or Firecracker. The runner lives in
// src/run/ and is imported when the command runs.

import type { CommandModule } from '../command.js';

const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

export const command: CommandModule = {
  register(program) {
    program
      .command('run')
      .summary('boot an image that is already built')
      .description(
        'Boot IMAGE (default: the newest image under .osv/) and stream its console here. A `disk` image boots ' +
          'the OSv kernel directly (--kernel or OSV_KERNEL), which reaches the program in about half a second ' +
          'even without KVM; a `bootable` image can also boot by itself (--boot image, slower). Ctrl-C stops the ' +
          'VM (exit 130).\n\n' +
          'Like `docker run`, the command exits with the program\'s own exit status, which OSv prints on its ' +
          'console when booted with --verbose (osv-up adds it and hides the kernel\'s other debug lines; ' +
          '--kernel-log shows them). Without a status it exits 125 (osv-up or the hypervisor failed), 127 (OSv ' +
          'could not load the program) or 126 (a failure line such as a missing symbol or an abort, a timeout, ' +
          'or a status OSv did not report). --ci gives a verdict instead: exit 0 on a pass, 4 on any failure, ' +
          'a nonzero status included, with a one-line reason, and adds --power-off-on-abort.\n\n' +
          'An image built by `osv build` boots with what its build record (IMAGE.build.json) says: the kernel, ' +
          'the command line, and the run settings of osv.yaml (memory, CPUs, ports, volumes, timeout, expect); ' +
          'flags override them and -p adds forwards. --run NAME picks another run of the same configuration.\n\n' +
          'An image pushed by `osv push` (REF) boots on any machine, with no osv.yaml and no OSV_KERNEL: it is ' +
          'pulled into the cache by digest (verified), and its kernel, disk, command lines and run settings come ' +
          'from it; the disk is never written (the VM writes to a throwaway overlay, as under KubeVirt).',
      )
      .argument('[image]', 'the disk image (default: newest .osv/**/*.img), or an image pushed by `osv push` (registry/repo:tag, oci:DIR:TAG, oci-archive:FILE)')
      .option('-k, --kernel <path>', 'OSv kernel for direct boot: loader-stripped.elf, or an OSv build directory (default: $OSV_KERNEL, else the kernel the image was built with)')
      .option('--run <name>', 'a named run of the configuration the image was built from: its command line and VM settings')
      .option('-e, --exec <cmdline>', 'the OSv command line, e.g. "--rootfs=rofs /hello" (default: the one the image was built with)')
      .option('-p, --port <host:guest>', 'forward a host port to the guest (repeatable; HOST:GUEST[/udp], ADDRESS:HOST:GUEST)', collect)
      .option('-m, --memory <size>', 'guest memory, e.g. 512M, 2G (default: the run\'s run.memory, else 512M)')
      .option('-c, --cpus <n>', 'virtual CPUs (default: run.cpus, else 2)')
      .option('--accel <mode>', 'auto (KVM when it can run OSv, else TCG), kvm or tcg (default: run.accel, else auto)')
      .option('--hypervisor <name>', 'qemu or firecracker (default: run.hypervisor, else qemu)')
      .option('--network <net>', 'user, none, tap:NAME or bridge:NAME (default: run.network, else user)')
      .option('--machine <machine>', "pc (default: run.machine, else pc) or q35, KubeVirt's machine: PCIe root ports and modern-only virtio")
      .option('--volume <path[:ro]>', 'attach another disk as the next virtio-blk device (repeatable)', collect)
      .option('--boot <mode>', 'kernel (direct kernel boot) or image (the image\'s own boot sector)')
      .option('--arch <arch>', 'guest architecture: x86_64 or aarch64 (default: the image\'s)')
      .option('--qemu <path>', 'the QEMU binary (default: $OSV_QEMU, else qemu-system-<arch> on PATH)')
      .option('--ci', 'CI mode: exit 0 only on a pass (0/4, like osv test), add --power-off-on-abort, and print the verdict')
      .option('-t, --timeout <seconds>', 'stop the VM and fail after this many seconds (default: the run\'s run.timeout; with --ci, 60)')
      .option('--kernel-log', "show OSv's own debug lines on the console (hidden by default; --json reports them)")
      .option('--expect <regex>', 'fail unless a console line matches this regular expression')
      .option('--gdb <port>', "QEMU's gdb stub on 127.0.0.1:PORT (then: gdb loader.elf -ex 'target remote :PORT')")
      .option('--gdb-wait', 'with --gdb: start the guest paused until the debugger continues it')
      .option('--vnc <display>', 'a VGA card and a VNC display on 127.0.0.1:DISPLAY (port 5900+DISPLAY)')
      .option('-n, --dry-run', 'print the exact hypervisor command (shell-quoted) and do nothing')
      .option('--json', 'print the command and the verdict as JSON (the console goes to stderr)')
      .addHelpText(
        'after',
        `
Examples:
  $ osv run .osv/hello.img --kernel build/loader-stripped.elf
  $ osv run --run test                                 boot the newest image with the \`test\` run's command
  $ OSV_KERNEL=~/osv/loader-stripped.elf osv run -e "--rootfs=rofs /hello"
  $ osv run app.img -p 8080:8000 -m 1G -c 4            forward localhost:8080 to the guest's port 8000
  $ osv run app.img --ci --timeout 30 --expect "^42$"  exit 0 only if the guest printed 42 and powered off
  $ osv run app.img --dry-run                          show the QEMU command line
  $ osv run app.img --hypervisor firecracker --network tap:fc0
  $ osv run registry.example.com/team/app:1.0          pull and boot a pushed image
  $ osv run oci-archive:app.tar --machine q35          boot it as KubeVirt would lay the VM out

Exit codes: the program's own status; 125 osv-up or the hypervisor failed (bad input, usage),
126 no status (an OSv failure line, a timeout, an unmet --expect), 127 OSv could not load the
program, 130 Ctrl-C. With --ci: 0 pass, 1 bad input, 2 usage, 4 the guest failed (a nonzero
status, a failure line, a timeout, an unmet --expect, a hypervisor error), 130 Ctrl-C.`,
      )
      .action(async (image: string | undefined, opts) => {
        const { looksLikeImageRef } = await import('../../tasks/osv-image-fetch.js');
        if (image !== undefined && looksLikeImageRef(image, process.cwd())) {
          const { runImageRef } = await import('../../tasks/run-ref.js');
          await runImageRef(image, opts);
          return;
        }
        const { runRunCommand } = await import('../../run/cli.js');
        await runRunCommand(image, opts);
      });
  },
};
