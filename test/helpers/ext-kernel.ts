// The OSv kernel of OSV_KERNEL for tests that mount named volumes: why such a test cannot run
// (no kernel, a kernel that does not resolve, or one without OSv's ext module), or undefined.

import { resolveKernelPath } from '../../src/kernel/local.js';

export const osvKernel = process.env['OSV_KERNEL'];
export const osvKernelFiles = osvKernel ? resolveKernelPath(osvKernel, 'x86_64', 'OSV_KERNEL') : undefined;

/** Why OSV_KERNEL cannot boot anything here. */
export const kernelReason: string | undefined = !osvKernel
  ? 'OSV_KERNEL is not set (an OSv kernel directory with libext.so and liblwext4.so, or an OSv build directory)'
  : !osvKernelFiles?.ok
    ? `OSV_KERNEL: ${osvKernelFiles?.ok === false ? osvKernelFiles.error.message : ''}`
    : undefined;

/** Why OSV_KERNEL cannot mount a writable named volume here. */
export const extKernelReason: string | undefined =
  kernelReason ?? (osvKernelFiles?.ok && !osvKernelFiles.value.ext ? `OSV_KERNEL (${osvKernel}) has no ext module: libext.so and liblwext4.so are neither beside the kernel nor in an OSv build` : undefined);
