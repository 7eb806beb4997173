// Finding the hypervisor binaries: an explicit setting, then the environment, then PATH.
// A missing binary is an error that names the Debian package to install.

import { which } from '../which.js';
import type { Arch } from '../config/types.js';
import { OsvError } from '../diagnostics/error.js';
import { err, ok, type Result } from '../diagnostics/result.js';

export { which };

export const qemuSystemName = (arch: Arch): string => `qemu-system-${arch}`;
const qemuPackage = (arch: Arch): string => (arch === 'aarch64' ? 'qemu-system-arm' : 'qemu-system-x86');

export interface BinaryLookup {
  /** `run.qemu` from osv.yaml (or a --qemu flag). */
  configured?: string;
  /** Where `configured` came from, for messages (default: run.qemu). */
  configuredFrom?: string;
  env?: NodeJS.ProcessEnv;
}

/** run.qemu, else $OSV_QEMU, else qemu-system-<arch> on PATH. */
export function findQemu(arch: Arch, lookup: BinaryLookup = {}): Result<string> {
  const env = lookup.env ?? process.env;
  const explicit = lookup.configured ?? env['OSV_QEMU'];
  const from = lookup.configured ? (lookup.configuredFrom ?? 'run.qemu') : 'OSV_QEMU';
  if (explicit) {
    const found = which(explicit, env['PATH'] ?? '');
    if (found) return ok(found);
    return err(
      new OsvError({
        code: 'run.qemu-not-found',
        message: `QEMU binary '${explicit}' (from ${from}) does not exist or is not executable`,
        hint: `fix ${from}, or ${from.startsWith('--') ? 'leave it out' : 'unset it'} to use ${qemuSystemName(arch)} from PATH`,
      }),
    );
  }
  const found = which(qemuSystemName(arch), env['PATH'] ?? '');
  if (found) return ok(found);
  return err(
    new OsvError({
      code: 'run.qemu-not-found',
      message: `${qemuSystemName(arch)} is not installed (not found on PATH)`,
      hint: `install it: sudo apt-get install ${qemuPackage(arch)} (Debian/Ubuntu), or set OSV_QEMU to its path`,
    }),
  );
}

/** $FIRECRACKER_PATH, else `firecracker` on PATH. */
export function findFirecracker(lookup: BinaryLookup = {}): Result<string> {
  const env = lookup.env ?? process.env;
  const explicit = lookup.configured ?? env['FIRECRACKER_PATH'];
  const found = which(explicit ?? 'firecracker', env['PATH'] ?? '');
  if (found) return ok(found);
  return err(
    new OsvError({
      code: 'run.firecracker-not-found',
      message: explicit
        ? `Firecracker binary '${explicit}' does not exist or is not executable`
        : 'firecracker is not installed (not found on PATH)',
      hint:
        'download a release binary from https://github.com/firecracker-microvm/firecracker/releases ' +
        'and put it on PATH (or set FIRECRACKER_PATH), or use `hypervisor: qemu`',
    }),
  );
}
