// The merged, interpolated configuration as one self-contained osv.yaml: no `extends`, and
// relative host paths made absolute (they were relative to different files).

import * as path from 'node:path';
import { stringify } from 'yaml';
import type { Path, PNode } from './tree.js';

const idx = (p: Path, i: number): string | number | undefined => p[i];

/** Is the value at `p` a host path that is relative to the file that wrote it? */
function isRelativeHostPath(p: Path, v: string): boolean {
  if (path.isAbsolute(v) || v.startsWith('~')) return false;
  const hasSlash = v.includes('/');
  const [a, , c] = [idx(p, 0), idx(p, 1), idx(p, 2)];
  const run = a === 'run' ? p.slice(1) : a === 'runs' && idx(p, 2) === 'run' ? p.slice(3) : undefined;
  if (run) {
    if (run[0] === 'qemu' && run.length === 1) return hasSlash;
    return run[0] === 'volumes' && (run.length === 2 || (run.length === 3 && (run[2] === 'path' || run[2] === 'from')));
  }
  if (p.length === 1 && a === 'sysroot') return true;
  if (a === 'kernel' && p.length === 2 && idx(p, 1) === 'path') return true;
  if (a === 'modules') return p.length === 2 || (p.length === 3 && c === 'path');
  if (a === 'files') return p.length === 3 && c === 'src';
  if (a === 'executables') return hasSlash && (p.length === 2 || (p.length === 3 && c === 'src'));
  if (a === 'libraries') return hasSlash && (p.length === 2 || (p.length === 3 && c === 'name'));
  return false;
}

/** The keys of the object schema that describes the map at `p`, in schema order. */
function keyOrder(schema: Record<string, any>, p: Path): string[] | undefined {
  const d = schema['definitions'];
  const keys = (s: { properties?: object } | undefined): string[] | undefined => (s?.properties ? Object.keys(s.properties) : undefined);
  if (p.length === 0) return keys(schema);
  if (p.length === 1 && (p[0] === 'run' || p[0] === 'kernel' || p[0] === 'image')) return keys(d[p[0]]);
  if (p[0] === 'runs' && p.length === 2) return keys(d.namedRun);
  if (p[0] === 'runs' && p.length === 3 && p[2] === 'run') return keys(d.run);
  return undefined;
}

/** Keys in the schema's order (the order the reference documents them), others after. */
function ordered<T>(entries: Array<[string, T]>, order: string[] | undefined): Array<[string, T]> {
  if (!order) return entries;
  const rank = (k: string): number => (order.indexOf(k) + order.length + 1) % (order.length + 1);
  return entries.map((e, i) => ({ e, i })).sort((a, b) => rank(a.e[0]) - rank(b.e[0]) || a.i - b.i).map(({ e }) => e);
}

export function printableConfig(tree: PNode, baseDirOf: (file: string) => string, schema: Record<string, unknown> = {}): unknown {
  const walk = (n: PNode, p: Path): unknown => {
    switch (n.kind) {
      case 'scalar':
        return typeof n.value === 'string' && isRelativeHostPath(p, n.value) ? path.resolve(baseDirOf(n.pos.file), n.value) : n.value;
      case 'seq':
        return n.items.map((it, i) => walk(it, [...p, i]));
      case 'map':
        return Object.fromEntries(
          ordered([...n.entries], keyOrder(schema, p))
            .filter(([k]) => !(p.length === 0 && (k === 'extends' || k === '$schema')))
            .map(([k, e]) => [k, walk(e.value, [...p, k])]),
        );
    }
  };
  return walk(tree, []);
}

export function configToYaml(value: unknown): string {
  return stringify(value, { lineWidth: 0 });
}
