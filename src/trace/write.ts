// Adds trace findings to osv.yaml without disturbing what the user wrote. The yaml library's
// Document API finds the `libraries`/`files` sequences and their exact source ranges; new items
// are rendered by the same library and spliced into the original text, so every other byte
// (comments, blank lines, quoting, indentation) stays as it was. When the shape is unusual
// (the key holds null, several documents), the whole document is re-rendered instead, which
// still keeps comments. Either way the result is parsed again and checked before it is used.

import { isDeepStrictEqual } from 'node:util';
import { Document, isMap, isSeq, parseDocument, stringify, type YAMLSeq } from 'yaml';
import { OsvError } from '../diagnostics/error.js';
import type { Addition } from './report.js';

type Key = Addition['key'];

export interface WriteGroup {
  key: Key;
  /** A comment put above the group's new items (without the leading '#'). */
  comment?: string;
  values: Addition['value'][];
}

export interface WriteResult {
  text: string;
  /** Values added, per key (duplicates of existing entries are skipped). */
  added: Array<{ key: Key; value: Addition['value'] }>;
  /** 'splice' kept every original byte; 'render' re-rendered the document. */
  mode: 'splice' | 'render' | 'unchanged';
}

const lineStart = (text: string, at: number): number => text.lastIndexOf('\n', at - 1) + 1;
const afterLine = (text: string, at: number): number => {
  if (at > 0 && text[at - 1] === '\n') return at;
  const nl = text.indexOf('\n', at);
  return nl < 0 ? text.length : nl + 1;
};

/** Sequence indentation used in the file: the column of `-` under a top-level key (0 or more). */
function detectStyle(text: string): { indent: number; indentSeq: boolean } {
  const m = /^[^\s#][^\n]*:[ \t]*(?:#[^\n]*)?\n(?:[ \t]*(?:#[^\n]*)?\n)*( *)- /m.exec(text);
  const nested = /^[^\s#-][^\n]*:[ \t]*\n( +)[^\s-]/m.exec(text);
  const seqCol = m ? m[1]!.length : 2;
  const indent = nested ? nested[1]!.length : seqCol > 0 ? seqCol : 2;
  return { indent, indentSeq: seqCol > 0 };
}

/** Does an existing item already say the same thing (same library name, same file or dir)? */
function sameEntry(item: unknown, value: Addition['value']): boolean {
  // A library is named by `name` (or is the string); a file entry by its guest path `dest`.
  const id = (v: unknown): string | undefined => {
    if (typeof v === 'string') return v;
    if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      if (typeof o['name'] === 'string') return o['name'];
      if (typeof o['dest'] === 'string') return `dest:${o['dest']}`;
    }
    return undefined;
  };
  const a = id(item);
  const b = id(value);
  if (a === undefined || b === undefined) return false;
  return a === b;
}

function parse(text: string, file: string): Document {
  const doc = parseDocument(text, { keepSourceTokens: false });
  const e = doc.errors[0];
  if (e) {
    const [line, column] = e.linePos?.[0] ? [e.linePos[0].line, e.linePos[0].col] : [1, 1];
    throw new OsvError({
      code: 'trace.write.yaml',
      message: `cannot add to ${file}: it is not valid YAML (${e.message.split('\n')[0]})`,
      source: { file, line, column },
      hint: 'fix the file (osv validate shows every problem), then run osv trace --write again',
    });
  }
  if (doc.contents !== null && !isMap(doc.contents)) {
    throw new OsvError({
      code: 'trace.write.shape',
      message: `cannot add to ${file}: its top level is not a mapping of keys`,
      source: { file, line: 1, column: 1 },
    });
  }
  return doc;
}

/** Render sequence items as block lines at `col`, with the group comment above them. */
function blockItems(groups: Array<{ comment?: string; values: unknown[] }>, col: number, indent: number): string {
  const pad = ' '.repeat(col);
  let out = '';
  for (const g of groups) {
    if (!g.values.length) continue;
    if (g.comment) out += `${pad}# ${g.comment}\n`;
    const body = stringify(g.values, { indent, indentSeq: true, lineWidth: 0 });
    out += body
      .split('\n')
      .filter((l) => l.length)
      .map((l) => pad + l)
      .join('\n') + '\n';
  }
  return out;
}

/**
 * Add the groups' values to the file's sequences. Throws OsvError when the file is not YAML or
 * a key holds something other than a sequence.
 */
export function addToConfig(text: string, groups: WriteGroup[], file: string): WriteResult {
  const doc = parse(text, file);
  const added: WriteResult['added'] = [];
  const perKey = new Map<Key, Array<{ comment?: string; values: Addition['value'][] }>>();
  for (const g of groups) {
    const node = doc.get(g.key, true);
    if (node !== undefined && node !== null && !isSeq(node) && !(typeof node === 'object' && 'value' in node && node.value === null)) {
      const pos = (node as { range?: [number, number, number] }).range?.[0] ?? 0;
      const before = text.slice(0, pos).split('\n');
      throw new OsvError({
        code: 'trace.write.shape',
        message: `cannot add to ${file}: \`${g.key}\` is not a list`,
        source: { file, line: before.length, column: (before[before.length - 1]?.length ?? 0) + 1 },
        hint: `write \`${g.key}:\` as a YAML list (\`- item\` lines) and run osv trace --write again`,
      });
    }
    const existing = isSeq(node) ? node.toJSON() : [];
    const fresh: Addition['value'][] = [];
    for (const v of g.values) {
      if ([...existing, ...fresh].some((item) => sameEntry(item, v))) continue;
      fresh.push(v);
      added.push({ key: g.key, value: v });
    }
    if (fresh.length) {
      const list = perKey.get(g.key) ?? [];
      list.push({ ...(g.comment ? { comment: g.comment } : {}), values: fresh });
      perKey.set(g.key, list);
    }
  }
  if (!added.length) return { text, added, mode: 'unchanged' };

  const expected = doc.toJS() ?? {};
  for (const [key, gs] of perKey) expected[key] = [...((expected[key] as unknown[] | null) ?? []), ...gs.flatMap((g) => g.values)];

  const spliced = splice(text, doc, perKey);
  if (spliced !== undefined && isDeepStrictEqual(parseDocument(spliced).toJS(), expected) && !parseDocument(spliced).errors.length) {
    return { text: spliced, added, mode: 'splice' };
  }
  const rendered = render(text, doc, perKey);
  if (!isDeepStrictEqual(parseDocument(rendered).toJS(), expected)) {
    throw new OsvError({
      code: 'trace.write.internal',
      message: `could not add the findings to ${file} safely; the file was left unchanged`,
      hint: 'add the entries the report lists by hand',
    });
  }
  return { text: rendered, added, mode: 'render' };
}

function splice(
  text: string,
  doc: Document,
  perKey: Map<Key, Array<{ comment?: string; values: Addition['value'][] }>>,
): string | undefined {
  const style = detectStyle(text);
  const edits: Array<{ at: number; insert: string }> = [];
  let appended = '';
  for (const [key, gs] of perKey) {
    const node = doc.get(key, true);
    if (isSeq(node) && node.range) {
      const seq = node as YAMLSeq;
      // `[a, b]`: the list is rewritten in block style (render), one entry a line, as a person
      // would write more than a few of them.
      if (seq.flow) return undefined;
      {
        const first = seq.items[0] as { range?: [number, number, number] } | undefined;
        const start = seq.range![0];
        const col = start - lineStart(text, start);
        if (!first) return undefined;
        edits.push({ at: afterLine(text, seq.range![1]), insert: blockItems(gs, col, style.indent) });
      }
    } else if (node === undefined) {
      const col = style.indentSeq ? style.indent : 0;
      appended += `${key}:\n${blockItems(gs, col, style.indent)}`;
    } else {
      // `key:` with nothing after it: the items go on the lines below the key.
      const pair = isMap(doc.contents) ? doc.contents.items.find((p) => (p.key as { value?: unknown } | null)?.value === key) : undefined;
      const keyRange = (pair?.key as { range?: [number, number, number] } | undefined)?.range;
      if (!keyRange) return undefined;
      const col = keyRange[0] - lineStart(text, keyRange[0]) + (style.indentSeq ? style.indent : 0);
      edits.push({ at: afterLine(text, keyRange[1]), insert: blockItems(gs, col, style.indent) });
    }
  }
  if (doc.errors.length || /^(---|\.\.\.)\s*$/m.test(text.trimEnd().split('\n').slice(1).join('\n'))) return undefined;
  let out = text;
  for (const e of edits.sort((a, b) => b.at - a.at)) out = out.slice(0, e.at) + e.insert + out.slice(e.at);
  if (appended) out = (out.length && !out.endsWith('\n') ? out + '\n' : out) + appended;
  return out;
}

function render(
  text: string,
  doc: Document,
  perKey: Map<Key, Array<{ comment?: string; values: Addition['value'][] }>>,
): string {
  const style = detectStyle(text);
  for (const [key, gs] of perKey) {
    let node = doc.get(key, true);
    if (!isSeq(node)) {
      node = doc.createNode([]);
      doc.set(key, node);
    }
    (node as YAMLSeq).flow = false;
    for (const g of gs) {
      g.values.forEach((v, i) => {
        const item = doc.createNode(v);
        if (i === 0 && g.comment) item.commentBefore = ` ${g.comment}`;
        (node as YAMLSeq).items.push(item);
      });
    }
  }
  if (doc.contents === null) doc.contents = doc.createNode({}) as never;
  return doc.toString({ indent: style.indent, indentSeq: style.indentSeq, lineWidth: 0, flowCollectionPadding: false });
}
