// The values osv.yaml leaves to osv-up, in one place: the configuration normalizer fills them
// in, and `osv run` falls back to the run settings among them for an image without a record.

import type { Accel, Arch, FilesystemKind, Hypervisor, ImageFormat, ImageOutput } from './types.js';

export const DEFAULTS = {
  arch: 'x86_64' as Arch,
  sysroot: '/',
  filesystem: 'rofs' as FilesystemKind,
  hypervisor: 'qemu' as Hypervisor,
  memory: 512 * 2 ** 20,
  cpus: 2,
  accel: 'auto' as Accel,
  network: 'user',
  output: 'disk' as ImageOutput,
  format: 'raw' as ImageFormat,
  /** A named volume without `size` (its file is sparse: it takes what is written). */
  volumeSize: 2 ** 30,
  /** `osv test` and `--ci` without run.timeout: a run that never ends is a failure, not a pass. */
  ciTimeoutSeconds: 60,
};
