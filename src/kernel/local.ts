// A kernel given as a path: a loader-stripped.elf (or loader.elf), a loader.img, or an OSv
// build directory (build/release.x64, the build/last symlink, or the OSv checkout itself).
// Files are recognised by content; next to a given file its siblings are picked up too, so a
// path to loader-stripped.elf also finds the loader.img and libenviron.so of the same build.

import * as fs from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { err, ok, type Result } from '../diagnostics/result.js';
import { ExitCode, OsvError } from '../diagnostics/error.js';
import type { Arch } from '../config/types.js';
import { classifyFile } from './classify.js';
import { KERNEL_FILES } from './cache.js';
import { EXT_MODULE_FILES, type ExtModule } from './types.js';
import { fileProblem, statsKindName } from '../hostfs.js';

export interface KernelFiles {
  elf?: string;
  img?: string;
  libenviron?: string;
  /** OSv's ext module, when both of its files are found (see extModuleIn). */
  ext?: ExtModule;
  /** The directory the files came from. */
  dir: string;
}

const ELF_NAMES = [KERNEL_FILES.elf, 'loader.elf'];

function invalid(code: string, message: string, hint: string, details: string[] = []): OsvError {
  return new OsvError({ code, message, hint, details, exitCode: ExitCode.invalidInput });
}

const isFile = (p: string): boolean => fs.statSync(p, { throwIfNoEntry: false })?.isFile() ?? false;

/** The kernel files in a directory (following symlinks such as build/last). */
function fromDir(dir: string, arch: Arch, what: string): Result<KernelFiles, OsvError> {
  const real = fs.realpathSync(dir);
  // An OSv checkout: use its last build.
  if (!ELF_NAMES.some((n) => isFile(join(real, n))) && !isFile(join(real, KERNEL_FILES.img)) && fs.existsSync(join(real, 'build', 'last')))
    return fromDir(join(real, 'build', 'last'), arch, what);
  const files: KernelFiles = { dir: real };
  const elfName = ELF_NAMES.find((n) => isFile(join(real, n)));
  if (elfName) files.elf = join(real, elfName);
  if (isFile(join(real, KERNEL_FILES.img))) files.img = join(real, KERNEL_FILES.img);
  if (isFile(join(real, KERNEL_FILES.libenviron))) files.libenviron = join(real, KERNEL_FILES.libenviron);
  const ext = extModuleIn(real);
  if (ext) files.ext = ext;
  if (!files.elf && !files.img)
    return err(
      invalid(
        'kernel.not-found',
        `${what} ${dir} has no OSv kernel`,
        'point it at an OSv build directory (build/release.x64 or build/last), a loader-stripped.elf or a loader.img',
        [`looked for ${[...ELF_NAMES, KERNEL_FILES.img].join(', ')} in ${real}`],
      ),
    );
  return checkKinds(files, arch, what);
}

/** Each file must be what its role says, for the right architecture. */
function checkKinds(files: KernelFiles, arch: Arch, what: string): Result<KernelFiles, OsvError> {
  if (files.elf) {
    const k = classifyFile(files.elf);
    if (k.kind !== 'elf')
      return err(invalid('kernel.not-elf', `${files.elf} is not an ELF file`, 'rebuild OSv, or point at the right file'));
    if (k.arch !== arch)
      return err(invalid('kernel.wrong-arch', `${files.elf} is a kernel for ${k.arch}, but the image is for ${arch}`, `set arch: ${k.arch === 'other' ? arch : k.arch} or use a ${arch} kernel`));
  }
  if (files.img && classifyFile(files.img).kind !== 'img')
    return err(invalid('kernel.not-loader-img', `${files.img} is not an OSv loader.img (no boot sector)`, `check ${what}`));
  return ok(files);
}

/** Resolve `path` (file or directory) to kernel files. `what` names the setting for messages. */
export function resolveKernelPath(path: string, arch: Arch, what = 'kernel.path'): Result<KernelFiles, OsvError> {
  let st: fs.Stats | undefined;
  try {
    st = fs.statSync(path, { throwIfNoEntry: false });
  } catch (e) {
    return err(invalid('kernel.unreadable', `${what} ${path} ${fileProblem(e)}`, 'point at loader-stripped.elf, loader.img or the build directory'));
  }
  if (st && !st.isFile() && !st.isDirectory())
    return err(invalid('kernel.not-kernel', `${what} ${path} is ${statsKindName(st)}, not an OSv kernel`, 'point at loader-stripped.elf, loader.img or the build directory'));
  if (!st)
    return err(
      invalid('kernel.not-found', `${what} ${path} does not exist`, 'build OSv (./scripts/build fs=rofs) and point at build/last, or use kernel.version to download a release'),
    );
  if (st.isDirectory()) return fromDir(path, arch, what);
  const dir = dirname(fs.realpathSync(path));
  const k = classifyFile(path);
  const files: KernelFiles = { dir };
  if (k.kind === 'elf') {
    if (k.shared)
      return err(invalid('kernel.not-kernel', `${path} is a shared library, not an OSv kernel`, 'point at loader-stripped.elf, loader.img or the build directory'));
    files.elf = fs.realpathSync(path);
    const img = join(dir, KERNEL_FILES.img);
    if (isFile(img) && classifyFile(img).kind === 'img') files.img = img;
  } else if (k.kind === 'img') {
    files.img = fs.realpathSync(path);
    const elf = ELF_NAMES.map((n) => join(dir, n)).find(isFile);
    if (elf && classifyFile(elf).kind === 'elf') files.elf = elf;
  } else {
    return err(
      invalid(
        'kernel.not-kernel',
        `${what} ${path} is neither an ELF kernel nor a loader.img`,
        k.kind === 'gzip' ? `it is gzip-compressed: gunzip ${basename(path)} first` : 'point at loader-stripped.elf, loader.img or the build directory',
      ),
    );
  }
  const env = join(dir, KERNEL_FILES.libenviron);
  if (isFile(env)) files.libenviron = env;
  const ext = extModuleIn(dir);
  if (ext) files.ext = ext;
  return checkKinds(files, arch, what);
}

/**
 * OSv's ext module for the kernel in `dir` (a real path): libext.so and liblwext4.so side by
 * side there, else where an OSv build keeps them (EXT_MODULE_FILES). Both or nothing.
 */
export function extModuleIn(dir: string): ExtModule | undefined {
  const { libext, liblwext4 } = EXT_MODULE_FILES;
  const beside = { libext: join(dir, libext.name), liblwext4: join(dir, liblwext4.name) };
  if (isFile(beside.libext) && isFile(beside.liblwext4)) return beside;
  const inBuild = { libext: join(dir, libext.inBuild), liblwext4: join(dir, '..', '..', liblwext4.inTree) };
  if (isFile(inBuild.libext) && isFile(inBuild.liblwext4)) return { libext: inBuild.libext, liblwext4: fs.realpathSync(inBuild.liblwext4) };
  return undefined;
}
