// Where osv-up keeps downloaded kernels and its small caches: $XDG_CACHE_HOME/osv-up
// (default ~/.cache/osv-up). Kernels live in kernels/<version>/<arch>/ with a meta.json.

import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import type { Arch } from '../config/types.js';

export function cacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env['XDG_CACHE_HOME'];
  const base = xdg && isAbsolute(xdg) ? xdg : join(env['HOME'] || homedir(), '.cache');
  return join(base, 'osv-up');
}

/**
 * A version string as one safe directory name ("owner/repo@tag" keeps its meaning, loses its
 * slash). Never "", "." or "..": a leading dot becomes "_", so the name stays below kernels/.
 */
export const versionDirName = (version: string): string => version.replace(/[^A-Za-z0-9._@+-]/g, '_').replace(/^\./, '_') || '_';

export const kernelsDir = (env: NodeJS.ProcessEnv = process.env): string => join(cacheRoot(env), 'kernels');

export const kernelDir = (version: string, arch: Arch, env: NodeJS.ProcessEnv = process.env): string =>
  join(kernelsDir(env), versionDirName(version), arch);

/** Standard file names inside a kernel directory (as in an OSv build directory). */
export const KERNEL_FILES = {
  elf: 'loader-stripped.elf',
  img: 'loader.img',
  libenviron: 'libenviron.so',
} as const;
export type KernelRole = keyof typeof KERNEL_FILES;
