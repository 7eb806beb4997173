// The configuration as a tree of positioned nodes. Every value remembers the file, line and
// column that wrote it, through extends-merging and interpolation, so that schema and
// semantic errors can point at the exact spot, in whichever file it is.

import { isAlias, isMap, isScalar, isSeq, Scalar, type Document, type Node as YamlNode } from 'yaml';
import type { Pos, SourceTexts } from './texts.js';

export type ScalarValue = string | number | boolean | null;

export interface PScalar {
  kind: 'scalar';
  value: ScalarValue;
  /** The text as written (for `mode: 0755`, which YAML 1.2 reads as decimal 755). */
  raw: string;
  /** Written unquoted: after interpolation its type is re-read (`cpus: ${N}` is a number). */
  plain: boolean;
  pos: Pos;
}
export interface PEntry {
  key: Pos;
  value: PNode;
}
export interface PMap {
  kind: 'map';
  entries: Map<string, PEntry>;
  pos: Pos;
}
export interface PSeq {
  kind: 'seq';
  items: PNode[];
  pos: Pos;
}
export type PNode = PScalar | PMap | PSeq;

/** Location of a node: keys and list indexes from the root. */
export type Path = ReadonlyArray<string | number>;

export interface ConvertProblem {
  message: string;
  pos: Pos;
}

/**
 * Aliases are expanded, so a few lines can stand for billions of values ("billion laughs").
 * No real configuration comes near this many values; past it, conversion stops.
 */
export const MAX_NODES = 100_000;
/** Lists and maps nested deeper than this are refused (the tree is walked recursively). */
export const MAX_DEPTH = 500;

/** Convert a parsed YAML document into a positioned tree. Aliases are expanded. */
export function fromYaml(
  doc: Document,
  file: string,
  texts: SourceTexts,
  problems: ConvertProblem[],
): PNode | undefined {
  const active = new Set<YamlNode>();
  let budget = MAX_NODES;
  let depth = 0;
  let tooDeep = false;
  const resolved = new Map<object, YamlNode | null>();
  const expanding: Pos[] = [];
  // An aliased value is converted once per use but sits at one place: compute that once.
  const positions = new Map<YamlNode, Pos>();
  const posOf = (n: YamlNode | null | undefined, fallback: number): Pos => {
    const r = n?.range;
    if (!n || !r) return texts.pos(file, fallback, fallback);
    let p = positions.get(n);
    if (!p) positions.set(n, (p = texts.pos(file, r[0], r[1])));
    return p;
  };
  const convert = (n: unknown, fallback: number): PNode => {
    // reported at the outermost alias being expanded: the one that set the expansion off
    if (--budget === 0) problems.push({ message: `the document expands to more than ${MAX_NODES} values (through aliases?)`, pos: expanding[0] ?? texts.pos(file, fallback, fallback) });
    if (budget <= 0) return { kind: 'scalar', value: null, raw: '', plain: true, pos: texts.pos(file, fallback, fallback) };
    if (isAlias(n)) {
      // resolve() searches the document for the anchor: once per alias is enough
      let target = resolved.get(n);
      if (target === undefined) {
        target = n.resolve(doc) ?? null;
        resolved.set(n, target);
      }
      if (!target) {
        const pos = posOf(n, fallback);
        problems.push({ message: `unknown alias "*${n.source}"`, pos });
        return { kind: 'scalar', value: null, raw: '', plain: true, pos };
      }
      if (active.has(target)) {
        const pos = posOf(n, fallback);
        problems.push({ message: `alias "*${n.source}" refers to a value that contains it`, pos });
        return { kind: 'scalar', value: null, raw: '', plain: true, pos };
      }
      expanding.push(posOf(n, fallback));
      try {
        return convert(target, n.range?.[0] ?? fallback);
      } finally {
        expanding.pop();
      }
    }
    if ((isMap(n) || isSeq(n)) && depth >= MAX_DEPTH) {
      const pos = posOf(n, fallback);
      if (!tooDeep) problems.push({ message: `values are nested more than ${MAX_DEPTH} levels deep`, pos });
      tooDeep = true;
      return { kind: 'scalar', value: null, raw: '', plain: true, pos };
    }
    depth++;
    try {
      return convertNode(n, fallback);
    } finally {
      depth--;
    }
  };
  const convertNode = (n: unknown, fallback: number): PNode => {
    if (isMap(n)) {
      active.add(n);
      const entries = new Map<string, PEntry>();
      for (const pair of n.items) {
        const k = pair.key as YamlNode | null;
        const keyPos = posOf(k, fallback);
        if (k !== null && !isScalar(k)) {
          problems.push({ message: 'a key must be a plain name, not a list or a map', pos: keyPos });
          continue;
        }
        const key = k === null || k.value === null ? '' : String(k.value);
        const value = convert(pair.value, keyPos.end);
        entries.set(key, { key: keyPos, value });
      }
      active.delete(n);
      return { kind: 'map', entries, pos: posOf(n, fallback) };
    }
    if (isSeq(n)) {
      active.add(n);
      const items = n.items.map((it) => convert(it, n.range?.[0] ?? fallback));
      active.delete(n);
      return { kind: 'seq', items, pos: posOf(n, fallback) };
    }
    if (isScalar(n)) {
      const v = n.value;
      const value: ScalarValue =
        v === null || v === undefined
          ? null
          : typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean'
            ? v
            : typeof v === 'bigint'
              ? Number(v)
              : String(v);
      const raw = typeof n.source === 'string' ? n.source : value === null ? '' : String(value);
      return { kind: 'scalar', value, raw, plain: n.type === Scalar.PLAIN || n.type === undefined, pos: posOf(n, fallback) };
    }
    // `key:` with nothing after it
    const pos = texts.pos(file, fallback, fallback);
    return { kind: 'scalar', value: null, raw: '', plain: true, pos };
  };
  if (doc.contents === null || doc.contents === undefined) return undefined;
  return convert(doc.contents, 0);
}

// ---- small accessors -------------------------------------------------------------------

export const isPMap = (n: PNode | undefined): n is PMap => n?.kind === 'map';
export const isPSeq = (n: PNode | undefined): n is PSeq => n?.kind === 'seq';
export const isPScalar = (n: PNode | undefined): n is PScalar => n?.kind === 'scalar';

export function child(n: PNode | undefined, key: string | number): PNode | undefined {
  if (n === undefined) return undefined;
  if (n.kind === 'map' && typeof key === 'string') return n.entries.get(key)?.value;
  if (n.kind === 'seq' && typeof key === 'number') return n.items[key];
  return undefined;
}

export function at(n: PNode | undefined, path: Path): PNode | undefined {
  let cur = n;
  for (const k of path) cur = child(cur, k);
  return cur;
}

export function str(n: PNode | undefined): string | undefined {
  return n?.kind === 'scalar' && typeof n.value === 'string' ? n.value : undefined;
}

/** A JSON value of the tree, plus an index from JSON pointer to node (and key position). */
export interface PlainIndex {
  nodes: Map<string, PNode>;
  keys: Map<string, Pos>;
}

export const escapePointer = (s: string): string => s.replace(/~/g, '~0').replace(/\//g, '~1');
export const unescapePointer = (s: string): string => s.replace(/~1/g, '/').replace(/~0/g, '~');

export function pointerToPath(ptr: string): Array<string | number> {
  if (ptr === '') return [];
  return ptr
    .slice(1)
    .split('/')
    .map(unescapePointer)
    .map((s) => (/^(0|[1-9][0-9]*)$/.test(s) ? Number(s) : s));
}

export function toPlain(n: PNode, index?: PlainIndex, ptr = ''): unknown {
  index?.nodes.set(ptr, n);
  switch (n.kind) {
    case 'scalar':
      return n.value;
    case 'seq':
      return n.items.map((it, i) => toPlain(it, index, `${ptr}/${i}`));
    case 'map': {
      const out: Array<[string, unknown]> = [];
      for (const [k, e] of n.entries) {
        const p = `${ptr}/${escapePointer(k)}`;
        index?.keys.set(p, e.key);
        out.push([k, toPlain(e.value, index, p)]);
      }
      // fromEntries defines own properties, so a key named "__proto__" is just a key
      return Object.fromEntries(out);
    }
  }
}

/** `files[2].dest`, `env.PORT`, `runs["a b"]`: a path as the user would write it. */
export function displayPath(path: Path): string {
  let out = '';
  for (const k of path) {
    if (typeof k === 'number') out += `[${k}]`;
    else if (/^[A-Za-z_$][A-Za-z0-9_$-]*$/.test(k)) out += out === '' ? k : `.${k}`;
    else out += `[${JSON.stringify(k)}]`;
  }
  return out;
}
