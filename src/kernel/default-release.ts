// The kernel a project boots when it names none (no `kernel` key, no OSV_KERNEL): one release,
// chosen by this version of osv-up, named here and nowhere else.
//
// Why this one (facts §8): OSv's official releases (cloudius-systems/osv) publish loader images
// whose exact asset list could not be checked offline, while the nightly repository's release
// `ci-master-latest` is documented to carry the direct-boot ELF (`*.elf.x86_64.gz`) beside the
// loader.img (`*.qemu.x86_64.gz`). Of its two kernels the "hidden" one is built `fs=rofs`,
// the filesystem osv-up writes by default; it is built with conf_hide_symbols=1, so it does
// not export libstdc++ and images ship it (hiddenSymbols). The zfs kernel is the other one.
//
// Its sha256 cannot be known offline, and the tag moves with every nightly build: it is pinned
// on first use, in the project's osv.lock, as a kernel.version is (trust on first use). Fill in
// `sha256` below once a release is fixed, and every download is checked against it as well.

import type { Arch } from '../config/types.js';
import type { AssetRole } from './releases.js';

export interface DefaultRelease {
  /** As `kernel.version` would name it (owner/repo@tag). */
  version: string;
  repo: string;
  tag: string;
  arch: Arch;
  /** The exact asset names, gzip'd: the ELF for direct boot and the loader.img for bootable images. */
  assets: Record<AssetRole, string>;
  /** The unpacked files' sha256 when osv-up knows them (checked on download); else trust on first use. */
  sha256: Partial<Record<AssetRole, string>>;
  /** Built with conf_hide_symbols=1: libstdc++ is shipped in the image. */
  hiddenSymbols: boolean;
  /** The root filesystems it can mount (its bootfs carries no ext or zfs library). */
  filesystems: ReadonlyArray<'rofs' | 'ext'>;
}

const REPO = 'osvunikernel/osv-nightly-releases';
const TAG = 'ci-master-latest';

export const DEFAULT_RELEASE: DefaultRelease = {
  version: `${REPO}@${TAG}`,
  repo: REPO,
  tag: TAG,
  arch: 'x86_64',
  assets: { elf: 'loader-hidden.elf.x86_64.gz', img: 'osv-loader-hidden.qemu.x86_64.gz' },
  sha256: {},
  hiddenSymbols: true,
  filesystems: ['rofs'],
};

/** The default release for an architecture, or undefined when osv-up has none for it. */
export function defaultRelease(arch: Arch): DefaultRelease | undefined {
  return DEFAULT_RELEASE.arch === arch ? DEFAULT_RELEASE : undefined;
}

/** The default release when `version` names it (a pull or a lock of it uses its exact assets). */
export function asDefaultRelease(version: string, arch: Arch): DefaultRelease | undefined {
  const d = defaultRelease(arch);
  return d && d.version === version ? d : undefined;
}

/** Where GitHub serves an asset of a release (facts §8), for the by-hand instructions. */
export const assetUrl = (repo: string, tag: string, name: string): string => `https://github.com/${repo}/releases/download/${tag}/${name}`;

/** Whether a configuration's kernel is the default: it names none, and OSV_KERNEL is unset. */
export function usesDefaultKernel(kernel: { version?: string; path?: string }, env: Record<string, string | undefined>): boolean {
  return kernel.version === undefined && kernel.path === undefined && !env['OSV_KERNEL'];
}
