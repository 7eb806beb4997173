// Flags shared by `osv build`, `osv up` and `osv test`, declared once, and `osv push`'s. The build
// and push flags are data so that the fast paths (cli/fast-build.ts, cli/fast-push.ts) can hand
// the same table to util.parseArgs without loading commander.

import type { Command } from 'commander';

export const collect = (value: string, previous: string[]): string[] => [...previous, value];

/** A flag as commander spells it ("-o, --out <path>", "--no-check") and its help. */
export type FlagSpec = readonly [flags: string, help: string];

/** The program's own options, given before the command word. */
export const GLOBAL_FLAGS: readonly FlagSpec[] = [['-C, --dir <dir>', 'run as if osv was started in <dir> (like make -C and git -C)']];

export const BUILD_FLAGS: readonly FlagSpec[] = [
  ['--config <file>', 'the configuration file (default: osv.yaml found in this directory)'],
  ['--run <name>', 'a named run from `runs:` (its command line, env and run settings)'],
  ['-o, --out <path>', 'where to write the image (default: .osv/<name>.img)'],
  ['--format <format>', 'raw (default; Firecracker needs raw) or qcow2'],
  ['--output <layout>', 'disk (default: booted with the kernel given to the hypervisor) or bootable (one self-booting file)'],
  ['--no-check', 'build even when the symbol check finds errors'],
  ['--locked', 'build only from image digests osv.lock pins: a from: reference missing from it is an error (for CI)'],
  ['--force', 'rebuild even when nothing changed'],
  ['--json', 'machine-readable output: JSON events and a JSON result'],
  ['-q, --quiet', 'no progress output'],
];

export const PUSH_FLAGS: readonly FlagSpec[] = [
  ['--config <file>', 'the configuration file (default: osv.yaml found in this directory)'],
  ['--run <name>', 'the run `osv run REF` boots by default (every run goes into the image)'],
  ['--no-check', 'build even when the symbol check finds errors'],
  ['--locked', 'build only from image digests osv.lock pins'],
  ['--force', 'rebuild even when nothing changed'],
  ['--json', 'print the digest and every blob (what was uploaded, skipped or mounted) as JSON'],
  ['-q, --quiet', 'no output'],
];

export function buildFlags(cmd: Command): Command {
  for (const [flags, help] of BUILD_FLAGS) cmd.option(flags, help);
  return cmd;
}

export function runFlags(cmd: Command): Command {
  return cmd
    .option('-e, --exec <cmdline>', 'boot with this OSv command line instead of the planned one')
    .option('-p, --port <host:guest>', 'forward a host port to the guest (repeatable; HOST:GUEST[/udp])', collect, [])
    .option('-P, --publish-all', "forward every port the from: image exposes (its ExposedPorts) from the same host port")
    .option('-m, --memory <size>', 'guest memory, e.g. 512M, 2G (default: run.memory)')
    .option('-c, --cpus <n>', 'virtual CPUs (default: run.cpus)')
    .option('--accel <mode>', 'auto (KVM when it can run OSv, else TCG), kvm or tcg')
    .option('--hypervisor <name>', 'qemu or firecracker')
    .option('--network <net>', 'user, none, tap:NAME or bridge:NAME')
    .option('--machine <machine>', "pc (default) or q35, KubeVirt's machine: PCIe root ports and modern-only virtio (QEMU, x86)")
    .option('--boot <mode>', 'kernel (direct kernel boot, default) or image (a bootable image\'s own boot sector)')
    .option('-t, --timeout <seconds>', 'stop the VM and fail after this many seconds (default: run.timeout; for osv test and --ci, 60)')
    .option('--expect <regex>', 'fail unless a console line matches this regular expression')
    .option('--stop-on-expect', 'stop the VM and succeed as soon as the expected line appears (for servers, which never power off)')
    .option('--kernel-log', "show OSv's own debug lines on the console (hidden by default; --json reports them)")
    .option('--gdb <port>', "QEMU's gdb stub on 127.0.0.1:PORT (then: gdb loader.elf -ex 'target remote :PORT')")
    .option('--gdb-wait', 'with --gdb: start the guest paused until the debugger continues it')
    .option('--vnc <display>', 'a VGA card and a VNC display on 127.0.0.1:DISPLAY (port 5900+DISPLAY)')
    .option('-n, --dry-run', 'build, then print the exact hypervisor command instead of running it');
}
