// A kernel bundle: the OSv files an image is built and booted with.

export interface KernelBundle {
  /** loader-stripped.elf (or loader.elf): for direct kernel boot and for `osv check`. */
  elf?: string;
  /** loader.img: boot sector + compressed kernel, for `bootable` images. */
  img?: string;
  /** libenviron.so, shipped as /libenviron.so when present. */
  libenviron?: string;
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
