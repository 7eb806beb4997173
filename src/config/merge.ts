// Merge rules for `extends` and for named runs: maps merge key by key, lists concatenate,
// scalars (and values whose kind differs) are replaced by the later file. An empty list
// clears (appending nothing would be pointless, so `ports: []` means "no ports"). `cmd` is an
// argv, not a collection, so a later `cmd` replaces an earlier one. Nodes keep their positions.

import type { PMap, PNode, PEntry } from './tree.js';

/** Keys whose list value replaces rather than concatenates. */
const REPLACING_LISTS = new Set(['cmd']);

export function mergeNodes(base: PNode | undefined, over: PNode, key?: string): PNode {
  if (base === undefined) return over;
  if (base.kind === 'map' && over.kind === 'map') return mergeMaps(base, over);
  if (base.kind === 'seq' && over.kind === 'seq' && over.items.length > 0 && !(key !== undefined && REPLACING_LISTS.has(key)))
    return { kind: 'seq', items: [...base.items, ...over.items], pos: over.pos };
  return over;
}

export function mergeMaps(base: PMap, over: PMap): PMap {
  const entries = new Map<string, PEntry>(base.entries);
  for (const [k, e] of over.entries) {
    const prev = entries.get(k);
    entries.set(k, prev ? { key: e.key, value: mergeNodes(prev.value, e.value, k) } : e);
  }
  return { kind: 'map', entries, pos: over.pos };
}
