// One symbol lookup: does anything a needing object can see define the symbol, in the version
// it needs? Existence does not depend on the search order (only which definition wins does),
// so a lookup is "some object of the scope, or the kernel, has a matching definition".

import type { ImageObject } from './image.js';
import type { KernelSymbols } from './kernel-symbols.js';
import { nameKey, type DefVersion, type Need } from './object-symbols.js';
import { KERNEL, type Loaded } from './loader.js';
import type { BindClass, Severity, SymbolKind } from './types.js';

export type LookupResult =
  | { status: 'found'; by: Loaded }
  /** Defined, but in other versions only: "object: version" for each. */
  | { status: 'version'; offered: string[] }
  | { status: 'none' };

/**
 * A definition matches an unversioned reference when it is not a hidden (non-default)
 * version; a versioned reference when it has that version or is unversioned (the kernel's
 * exports, a library built without versions), as glibc's ld.so accepts.
 */
export function matches(defs: readonly DefVersion[], version: string | undefined): boolean {
  for (const d of defs) {
    if (version === undefined ? !d.hidden : d.version === version || (d.version === undefined && !d.hidden)) return true;
  }
  return false;
}

// Plain loops, no closures: this runs for every needed symbol of every object.
export function lookup(need: Need, scope: readonly ImageObject[], kernel: KernelSymbols | undefined, self?: ImageObject): LookupResult {
  let offered: string[] | undefined;
  const key = (need.key ??= nameKey(need.name));
  for (const o of scope) {
    if (o === self && need.bind === 'copy') continue; // the copy is filled from another object
    const defs = o.symbols.defsOf(need.name, key);
    if (defs === undefined) continue;
    if (matches(defs, need.version)) return { status: 'found', by: o };
    offered = describe(offered, defs, o.soname);
  }
  const kdefs = kernel?.defsOf(need.name, key);
  if (kdefs !== undefined) {
    if (matches(kdefs, need.version)) return { status: 'found', by: KERNEL };
    offered = describe(offered, kdefs, 'kernel');
  }
  return offered ? { status: 'version', offered } : { status: 'none' };
}

function describe(into: string[] | undefined, defs: readonly DefVersion[], label: string): string[] {
  const out = into ?? [];
  for (const d of defs) out.push(`${label}: ${d.version ?? '(unversioned)'}${d.hidden ? ' (non-default)' : ''}`);
  return out;
}

/**
 * How bad a missing symbol is. The loader aborts on a COPY or TLS relocation it cannot bind;
 * a data object bound at load points at an unmapped page, so the first access faults: errors.
 * A function fails only when called (through the PLT: OSv's "failed looking up symbol";
 * through a pointer bound at load: a fault): warnings. A load-time reference of unknown type
 * is taken for data.
 */
export function severityOf(kind: SymbolKind, bind: BindClass): Severity {
  if (bind === 'copy' || bind === 'tls' || kind === 'tls' || kind === 'data') return 'error';
  if (bind === 'load' && kind === 'unknown') return 'error';
  return 'warning';
}
