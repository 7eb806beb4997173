// Facts about each target architecture that glibc's ld.so builds in: which ELF files it
// accepts, the ld.so.cache flags of its libraries, $PLATFORM, and its default directories.

import type { Arch } from '../config/types.js';
import { ELFCLASS64, ELFDATA2LSB, EM_AARCH64, EM_X86_64 } from '../elf/constants.js';

export interface ArchFacts {
  arch: Arch;
  elfClass: number;
  elfData: number;
  machine: number;
  /**
   * ld.so.cache entry flags ld.so accepts (dl-cache.h `_dl_cache_check_flags`, exactly the
   * ABI's default id on both): FLAG_ELF_LIBC6 (0x03) | the ABI's "required" flag (x86-64
   * 0x0300, AArch64 0x0a00). For reference, ldconfig writes i386 libraries as 0x0003 (or
   * 0x0001, FLAG_ELF, when they do not link libc) and x32 ones as 0x0803.
   */
  cacheFlags: readonly number[];
  /** AT_PLATFORM, what `$PLATFORM` expands to. */
  platform: string;
  /** Debian multiarch tuple. */
  multiarch: string;
  /** The dynamic linker's path that gcc links into programs (PT_INTERP). */
  interpreter: string;
}

export const archFacts: Record<Arch, ArchFacts> = {
  x86_64: {
    arch: 'x86_64',
    elfClass: ELFCLASS64,
    elfData: ELFDATA2LSB,
    machine: EM_X86_64,
    cacheFlags: [0x0303],
    platform: 'x86_64',
    multiarch: 'x86_64-linux-gnu',
    interpreter: '/lib64/ld-linux-x86-64.so.2',
  },
  aarch64: {
    arch: 'aarch64',
    elfClass: ELFCLASS64,
    elfData: ELFDATA2LSB,
    machine: EM_AARCH64,
    cacheFlags: [0x0a03],
    platform: 'aarch64',
    multiarch: 'aarch64-linux-gnu',
    interpreter: '/lib/ld-linux-aarch64.so.1',
  },
};

/** The system search path and `$LIB` of one ld.so build. */
export interface LdsoLayout {
  defaultDirs: string[];
  lib: string;
}

/**
 * glibc's compiled-in default directories differ by distribution. Debian and Ubuntu patch
 * them to the multiarch layout (`ld.so --help` on this Debian x86_64 host prints
 * /lib/x86_64-linux-gnu, /usr/lib/x86_64-linux-gnu, /lib, /usr/lib and `$LIB` is
 * lib/x86_64-linux-gnu); upstream glibc on 64-bit x86 and AArch64 uses slibdir=/lib64, so
 * /lib64, /usr/lib64 and `$LIB`=lib64 (Fedora, RHEL, SUSE). We pick the layout the sysroot
 * has: multiarch when its multiarch directory exists.
 */
export function ldsoLayout(facts: ArchFacts, hasMultiarchDir: boolean): LdsoLayout {
  const t = facts.multiarch;
  return hasMultiarchDir
    ? { defaultDirs: [`/lib/${t}`, `/usr/lib/${t}`, '/lib', '/usr/lib'], lib: `lib/${t}` }
    : { defaultDirs: ['/lib64', '/usr/lib64'], lib: 'lib64' };
}
