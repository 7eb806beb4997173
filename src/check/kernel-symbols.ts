// The symbols the OSv kernel exports: the dynamic symbol table of loader-stripped.elf, which
// OSv's loader searches for every symbol an application needs. Read once per kernel and kept
// in the symbol cache under the kernel's sha256.
//
// Versions: OSv's kernel is linked with an anonymous version script (`{ global: ...; local: *; }`),
// so its exports carry no GNU version, and OSv's loader does not compare versions when it binds.
// An unversioned kernel definition therefore satisfies a reference of any version (glibc's ld.so
// accepts an unversioned definition for a versioned reference the same way). Should a kernel
// ever export versioned symbols, they are kept and compared like a library's.

import type { Arch } from '../config/types.js';
import { OsvError } from '../diagnostics/error.js';
import { err, ok, type Result } from '../diagnostics/result.js';
import * as C from '../elf/constants.js';
import { isElfError } from '../elf/error.js';
import { ElfFile } from '../elf/file.js';
import type { HostFs } from '../hostfs.js';
import { DynSymTable } from '../elf/symbol-table.js';
import { defVersion, exported, type DefVersion, type NameKey, type SymbolSource } from './object-symbols.js';
import { buildNameIndex, NameIndex, type NameIndexData } from './name-index.js';
import type { SymbolCache } from './symbol-cache.js';

/** What the cache stores for a kernel. */
export interface KernelExports {
  format: 3;
  sha256: string;
  /** e_machine of the kernel ELF. */
  machine: number;
  /** How many names. */
  count: number;
  /**
   * Every exported name (non-default versions left out: OSv's loader skips them), as a name
   * index: 15,000 names load in about a millisecond, where parsing them into an array or a Set
   * took longer than reading the ELF itself.
   */
  index: NameIndexData;
  /** Names exported with GNU versions: name -> versions ("" for an unversioned copy). */
  versioned: Record<string, string[]>;
}

export const UNVERSIONED: readonly DefVersion[] = Object.freeze([{ version: undefined, hidden: false }]);

/** The kernel's exports, ready for lookups. */
export class KernelSymbols implements SymbolSource {
  private readonly names: NameIndex;
  private readonly versioned: Map<string, DefVersion[]>;
  constructor(readonly exports: KernelExports) {
    this.names = new NameIndex(exports.index);
    this.versioned = new Map(Object.entries(exports.versioned).map(([n, vs]) => [n, vs.map((v) => ({ version: v === '' ? undefined : v, hidden: false }))]));
  }
  get size(): number {
    return this.exports.count;
  }
  get sha256(): string {
    return this.exports.sha256;
  }
  defsOf(name: string, key: NameKey): readonly DefVersion[] | undefined {
    if (!this.names.has(key.bytes, key.hash)) return undefined;
    return this.versioned.get(name) ?? UNVERSIONED;
  }
}

const machineOf: Record<Arch, number> = { x86_64: C.EM_X86_64, aarch64: C.EM_AARCH64 };

/** Read the exports of a kernel ELF (no cache). */
export function readKernelExports(fs: HostFs, elfPath: string, sha256: string): Result<KernelExports, OsvError> {
  let f: ElfFile | undefined;
  try {
    f = ElfFile.open(fs, elfPath);
    const t = DynSymTable.open(f);
    const versions = new Map<string, string[]>();
    for (let i = 1; t && i < t.count; i++) {
      if (!exported(t, i)) continue;
      const d = defVersion(t, i);
      if (d.hidden) continue; // OSv's loader skips non-default versions
      const name = t.name(i);
      if (name === '') continue;
      const list = versions.get(name);
      if (list) list.push(d.version ?? '');
      else versions.set(name, [d.version ?? '']);
    }
    const names = [...versions.keys()];
    if (names.some((n) => n.includes('\n'))) throw f.fail('elf.bad-string', 0, 'a dynamic symbol name contains a newline');
    const versioned: Record<string, string[]> = {};
    for (const [name, vs] of versions) if (vs.some((v) => v !== '')) versioned[name] = vs;
    if (names.length === 0) {
      return err(
        new OsvError({
          code: 'check.kernel-no-symbols',
          message: `${elfPath} exports no dynamic symbols, so it cannot be checked against`,
          hint: 'give OSv\'s loader-stripped.elf or loader.elf (not loader.img or vmlinuz.bin)',
        }),
      );
    }
    return ok({ format: 3, sha256, machine: f.header.machine, count: names.length, index: buildNameIndex(names), versioned });
  } catch (e) {
    if (isElfError(e)) return err(new OsvError({ code: 'check.kernel-unreadable', message: `cannot read the kernel's symbols: ${e.message}`, hint: e.hint ?? 'give OSv\'s loader-stripped.elf', cause: e }));
    throw e;
  } finally {
    f?.close();
  }
}

/** The kernel's exports, from the cache when present, else read from the ELF and cached. */
export function loadKernelSymbols(
  kernel: { elf: string; sha256: string },
  arch: Arch,
  fs: HostFs,
  cache: SymbolCache,
): Result<{ symbols: KernelSymbols; cached: boolean }, OsvError> {
  const hit = cache.read(kernel.sha256);
  let symbols = hit ? usable(hit) : undefined;
  const cached = symbols !== undefined;
  if (!symbols) {
    const r = readKernelExports(fs, kernel.elf, kernel.sha256);
    if (!r.ok) return r;
    cache.write(kernel.sha256, r.value);
    symbols = usable(r.value)!;
  }
  const machine = symbols.exports.machine;
  if (machine !== machineOf[arch]) {
    return err(
      new OsvError({
        code: 'check.kernel-arch',
        message: `the kernel ${kernel.elf} is for ${C.machineName(machine)}, but the image is for ${arch}`,
        hint: `use an OSv kernel built for ${arch}, or set arch to match the kernel`,
      }),
    );
  }
  return ok({ symbols, cached });
}

/** One KernelSymbols per loaded exports object (a cache that memoizes hands back the same one). */
const built = new WeakMap<KernelExports, KernelSymbols>();

/** The exports ready for lookups, or undefined when a cached entry is damaged (then re-read). */
function usable(exports: KernelExports): KernelSymbols | undefined {
  let symbols = built.get(exports);
  if (symbols) return symbols;
  try {
    symbols = new KernelSymbols(exports);
  } catch {
    return undefined;
  }
  built.set(exports, symbols);
  return symbols;
}
