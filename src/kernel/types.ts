// A kernel bundle: the OSv files an image is built and booted with.

export interface KernelBundle {
  /** loader-stripped.elf (or loader.elf): for direct kernel boot and for `osv check`. */
  elf?: string;
  /** loader.img: boot sector + compressed kernel, for `bootable` images. */
  img?: string;
  /** libenviron.so, shipped as /libenviron.so when present. */
  libenviron?: string;
  /**
   * OSv's ext file-system module, from the same OSv build: shipped (as /usr/lib/fs/libext.so and
   * /usr/lib/liblwext4.so) when a named volume is mounted. Absent from release kernels.
   */
  ext?: ExtModule;
  /** sha256 (hex) of the primary file (elf, else img): the cache and lock key. */
  sha256: string;
  /** Where it came from, for messages. */
  origin: 'path' | 'release' | 'env';
  /** The release version when origin is 'release'. */
  version?: string;
  /** The kernel hides libstdc++ (conf_hide_symbols=1). */
  hiddenSymbols: boolean;
  /** sha256 of each file (elf and img may both be present; a build keys on the one it uses). */
  sha256s?: { elf?: string; img?: string; libenviron?: string };
  /** The release tag `version` resolved to (e.g. "latest" -> "v0.57.0"). */
  tag?: string;
  /** What the user must know about how this kernel was (not) checked, shown with it. */
  note?: string;
}

/** The two files of OSv's ext module: the VFS driver and the lwext4 library it needs. */
export interface ExtModule {
  libext: string;
  liblwext4: string;
}

/**
 * Where an OSv build keeps them, for the kernel directory `dir` (build/<mode>.<arch>): the
 * module beside the kernel, lwext4 in the source tree two levels up. An `fs=ext` build also
 * leaves both beside the kernel, as a kernel directory copied out of a build should.
 */
export const EXT_MODULE_FILES = {
  libext: { name: 'libext.so', inBuild: 'modules/libext/libext.so', guest: '/usr/lib/fs/libext.so' },
  liblwext4: { name: 'liblwext4.so', inTree: 'modules/lwext4/upstream/lwext4/build_lib_only/src/liblwext4.so', guest: '/usr/lib/liblwext4.so' },
} as const;
