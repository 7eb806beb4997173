// `${NAME}` (from vars), `${env:NAME}`, `${env:NAME:-default}` (the default may hold references
// itself), `${home:PROG}` (program-home.ts) and `$$` in string values.
// Runs on the merged tree, so a template can use a variable the project file defines.
// Variables may use other variables; a cycle is an error. Keys are never interpolated.

import { posKey, report, type LoadContext } from './context.js';
import { isPMap, type PEntry, type PMap, type PNode, type PScalar, type ScalarValue } from './tree.js';
import { suggestion } from './suggest.js';
import type { Pos } from './texts.js';
import { programHome } from './program-home.js';

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

type Ref = { kind: 'var'; name: string } | { kind: 'env'; name: string; fallback?: string } | { kind: 'home'; name: string } | { kind: 'bad' };

function parseRef(body: string): Ref {
  if (body.startsWith('home:')) {
    const name = body.slice(5);
    return /^[A-Za-z0-9_.+-]+$/.test(name) ? { kind: 'home', name } : { kind: 'bad' };
  }
  if (body.startsWith('env:')) {
    const rest = body.slice(4);
    const dash = rest.indexOf(':-');
    const name = dash >= 0 ? rest.slice(0, dash) : rest;
    if (!NAME.test(name)) return { kind: 'bad' };
    return dash >= 0 ? { kind: 'env', name, fallback: rest.slice(dash + 2) } : { kind: 'env', name };
  }
  return NAME.test(body) ? { kind: 'var', name: body } : { kind: 'bad' };
}

/** YAML 1.2 core-schema reading of an unquoted scalar's text. */
export function readPlainScalar(text: string): ScalarValue {
  if (/^[-+]?[0-9]+$/.test(text)) {
    const n = Number(text);
    return Number.isSafeInteger(n) ? n : text;
  }
  if (/^0o[0-7]+$/.test(text)) return parseInt(text.slice(2), 8);
  if (/^0x[0-9a-fA-F]+$/.test(text)) return parseInt(text.slice(2), 16);
  if (/^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/.test(text)) return Number(text);
  if (/^(true|True|TRUE)$/.test(text)) return true;
  if (/^(false|False|FALSE)$/.test(text)) return false;
  if (/^(null|Null|NULL|~)?$/.test(text)) return null;
  return text;
}

/** `text` as a string value that interpolates back to itself: every `$` written `$$`. */
export const escapeInterpolation = (text: string): string => text.replaceAll('$', '$$$$');

/** The longest string interpolation may make: a boot command line is 1 KiB, a file written from text rarely more than this. */
export const MAX_EXPANDED = 1024 * 1024;

export class Interpolator {
  private readonly cache = new Map<string, string | undefined>();
  private readonly resolving: string[] = [];
  private readonly vars: PMap | undefined;

  constructor(
    private readonly ctx: LoadContext,
    tree: PNode | undefined,
  ) {
    const v = isPMap(tree) ? tree.entries.get('vars')?.value : undefined;
    this.vars = isPMap(v) ? v : undefined;
  }

  /** The position of `${...}` inside a node's text, when it can be found; else the node's. */
  private refPos(node: PScalar, token: string): Pos {
    const text = this.ctx.texts.text(node.pos.file);
    if (text !== undefined) {
      const i = text.slice(node.pos.offset, node.pos.end).indexOf(token);
      if (i >= 0) return this.ctx.texts.pos(node.pos.file, node.pos.offset + i, node.pos.offset + i + token.length);
    }
    return node.pos;
  }

  private variable(name: string, node: PScalar, token: string): string | undefined {
    if (this.cache.has(name)) return this.cache.get(name);
    const entry = this.vars?.entries.get(name);
    if (!entry) {
      const names = this.vars ? [...this.vars.entries.keys()] : [];
      report(
        this.ctx,
        'config.undefined-var',
        `undefined variable "${name}"${suggestion(name, names)}`,
        this.refPos(node, token),
        `define it under vars:, or read the environment with \${env:${name}}; write $$ for a literal $`,
      );
      return undefined;
    }
    const at = this.resolving.indexOf(name);
    if (at >= 0) {
      const chain = [...this.resolving.slice(at), name].join(' → ');
      report(this.ctx, 'config.var-cycle', `variable cycle: ${chain}`, this.refPos(node, token), 'a variable cannot use itself, directly or through others');
      return undefined;
    }
    const v = entry.value;
    // Non-scalar values are reported by the schema (vars.NAME: expected ...).
    if (v.kind !== 'scalar' || v.value === null) return undefined;
    this.resolving.push(name);
    const value = typeof v.value === 'string' ? this.expand(v) : String(v.value);
    this.resolving.pop();
    this.cache.set(name, value);
    return value;
  }

  /** A `vars` entry's own value: resolved as that variable, so a cycle's chain starts with it. */
  private varValue(name: string, value: PNode): PNode {
    if (value.kind !== 'scalar' || typeof value.value !== 'string' || !value.value.includes('$')) return value;
    const v = this.variable(name, value, '');
    return v === undefined || v === value.value ? value : { ...value, value: v, raw: v };
  }

  /** The string with every reference replaced; undefined after reporting an error. */
  expand(node: PScalar): string | undefined {
    const out = this.expandText(node.value as string, node);
    // The value is meaningless now: no other error is reported at this node.
    if (out === undefined) this.ctx.poisoned.add(posKey(node.pos));
    return out;
  }

  /** The `}` that closes the `${` at `open`, counting nested `${...}` (in a default). */
  private static closing(s: string, open: number): number {
    let depth = 0;
    for (let i = open + 2; i < s.length; i++) {
      if (s[i] === '$' && s[i + 1] === '{') {
        depth++;
        i++;
      } else if (s[i] === '}') {
        if (depth === 0) return i;
        depth--;
      }
    }
    return -1;
  }

  private expandText(s: string, node: PScalar): string | undefined {
    if (!s.includes('$')) return s;
    let out = '';
    let failed = false;
    for (let i = 0; i < s.length; ) {
      const c = s[i]!;
      if (c !== '$' || (s[i + 1] !== '$' && s[i + 1] !== '{')) {
        out += c;
        i++;
        continue;
      }
      if (s[i + 1] === '$') {
        out += '$';
        i += 2;
        continue;
      }
      const close = Interpolator.closing(s, i);
      if (close < 0) {
        report(this.ctx, 'config.interpolation', `unterminated "\${" in ${JSON.stringify(s)}`, this.refPos(node, s.slice(i)), 'close it with }, or write $$ for a literal $');
        return undefined;
      }
      const token = s.slice(i, close + 1);
      const ref = parseRef(s.slice(i + 2, close));
      let value: string | undefined;
      if (ref.kind === 'bad') {
        report(this.ctx, 'config.interpolation', `invalid reference "${token}"`, this.refPos(node, token), 'write ${NAME}, ${env:NAME}, ${env:NAME:-default} or ${home:PROGRAM}; $$ is a literal $');
      } else if (ref.kind === 'var') {
        value = this.variable(ref.name, node, token);
      } else if (ref.kind === 'home') {
        const home = programHome(this.ctx.fs, this.ctx.env, ref.name);
        if (home.ok) value = home.home;
        else report(this.ctx, 'config.no-program-home', `${token}: ${home.why}`, this.refPos(node, token), `install ${ref.name}, put it on PATH, or set the value yourself`);
      } else {
        const env = this.ctx.env[ref.name];
        // The default is expanded only when it is used: an unused ${home:PROG} need not exist.
        if (ref.fallback !== undefined) value = env === undefined || env === '' ? this.expandText(ref.fallback, node) : env;
        else if (env !== undefined) value = env;
        else
          report(this.ctx, 'config.undefined-env', `environment variable "${ref.name}" is not set`, this.refPos(node, token), `set it, or give a default: \${env:${ref.name}:-VALUE}`);
        // A value from the host environment is a secret: masked wherever osv-up prints it.
        if (env !== undefined && env !== '' && value === env) this.ctx.secrets.add(env);
      }
      if (value === undefined) failed = true;
      else out += value;
      i = close + 1;
      if (out.length > MAX_EXPANDED) {
        report(this.ctx, 'config.interpolation-too-long', `${JSON.stringify(token)} makes this value longer than ${MAX_EXPANDED / 1024} KiB`, this.refPos(node, token), 'variables that repeat each other grow exponentially; keep long text in a file (files: src)');
        this.ctx.poisoned.add(posKey(node.pos));
        return undefined;
      }
    }
    return failed ? undefined : out;
  }

  /** A copy of the tree with every string value interpolated (keys, `extends` untouched). */
  tree(n: PNode, root = true): PNode {
    // Copy on write: a subtree without any change is returned as it is.
    switch (n.kind) {
      case 'map': {
        let entries: Map<string, PEntry> | undefined;
        for (const [k, e] of n.entries) {
          if (root && k === 'extends') continue;
          const value = root && k === 'vars' ? this.varsMap(e.value) : this.tree(e.value, false);
          if (value === e.value) continue;
          entries ??= new Map(n.entries);
          entries.set(k, { key: e.key, value });
        }
        return entries ? { ...n, entries } : n;
      }
      case 'seq': {
        const items = n.items.map((it) => this.tree(it, false));
        return items.some((it, i) => it !== n.items[i]) ? { ...n, items } : n;
      }
      case 'scalar': {
        if (typeof n.value !== 'string' || !n.value.includes('$')) return n;
        const v = this.expand(n);
        if (v === undefined || v === n.value) return n;
        return { ...n, value: n.plain ? readPlainScalar(v) : v, raw: v };
      }
    }
  }

  private varsMap(n: PNode): PNode {
    if (n.kind !== 'map') return n;
    let changed = false;
    const entries = new Map<string, PEntry>();
    for (const [name, e] of n.entries) {
      const value = this.varValue(name, e.value);
      changed ||= value !== e.value;
      entries.set(name, value === e.value ? e : { key: e.key, value });
    }
    return changed ? { ...n, entries } : n;
  }
}
