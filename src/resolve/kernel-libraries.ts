// The libraries the OSv kernel itself provides (facts doc §7: core/elf.cc registers these
// sonames as aliases of the kernel object). They are listed in a closure but never shipped,
// and their own dependencies are not followed. This table is the only place that knows them.

import type { Arch } from '../config/types.js';

export interface KernelLibrary {
  soname: string;
  /** Only on this architecture. */
  arch?: Arch;
  /** Only when the kernel exports C++ symbols (built without conf_hide_symbols=1). */
  unlessHiddenSymbols?: boolean;
}

/** The kernel-provided sonames for one kernel configuration. */
export function kernelSonames(arch: Arch, hiddenSymbols: boolean): Set<string> {
  // The table lives in the function (called once per closure), not at module level, so that
  // mutation testing can tell which test reads each row (scripts/mutate-modules.mjs).
  const kernelLibraries: readonly KernelLibrary[] = [
    { soname: 'ld-linux-x86-64.so.2', arch: 'x86_64' },
    { soname: 'ld-linux-aarch64.so.1', arch: 'aarch64' },
    { soname: 'libresolv.so.2' },
    { soname: 'libc.so.6' },
    { soname: 'libm.so.6' },
    { soname: 'libc.musl-x86_64.so.1', arch: 'x86_64' },
    { soname: 'ld-musl-x86_64.so.1', arch: 'x86_64' },
    { soname: 'libpthread.so.0' },
    { soname: 'libdl.so.2' },
    { soname: 'librt.so.1' },
    { soname: 'libstdc++.so.6', unlessHiddenSymbols: true },
    { soname: 'libaio.so.1' },
    { soname: 'libxenstore.so.3.0' },
    { soname: 'libcrypt.so.1' },
    { soname: 'libutil.so' },
    // Not listed: libboost_system.so.1.55.0, aliased only by kernels built against Boost < 1.69
    // with visible symbols, which we cannot tell from outside; shipping it is harmless.
    // libgcc_s.so.1 is not provided: images ship the host's copy.
  ];
  return new Set(
    kernelLibraries
      .filter((l) => (l.arch === undefined || l.arch === arch) && !(l.unlessHiddenSymbols && hiddenSymbols))
      .map((l) => l.soname),
  );
}
