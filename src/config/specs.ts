// Read the list-valued keys (executables, libraries, files, env) of a schema-valid tree into
// typed specs: host paths made absolute, guest paths checked and normalized, modes read as
// octal. Shared by osv.yaml and osv.module.yaml.

import * as path from 'node:path';
import { report, baseDirOf, type LoadContext } from './context.js';
import { displayPath, type Path, type PNode, type PScalar } from './tree.js';
import { normalizeGuestPath, parseMode } from './values.js';
import { toSource, type Pos } from './texts.js';
import type { ExecutableSpec, FileSpec, LibrarySpec } from './types.js';

export class SpecReader {
  /** Nodes already reported, so a value shared by several named runs is reported once. */
  private readonly reported = new Set<string>();
  /** Where each spec's `dest` was written, for conflict messages. */
  readonly destPos = new WeakMap<object, Pos>();

  constructor(
    readonly ctx: LoadContext,
    /** Absolute sysroot in which absolute paths of executables, libraries and files live. */
    readonly sysroot: string,
  ) {}

  problem(node: PNode, at: Path, code: string, message: string, hint?: string): void {
    const key = `${node.pos.file}:${node.pos.offset}:${code}`;
    if (this.reported.has(key)) return;
    this.reported.add(key);
    const label = displayPath(at);
    report(this.ctx, code, label ? `${label}: ${message}` : message, node.pos, hint);
  }

  /**
   * A host path as written in a file: relative to that file (templates: to the project),
   * `~/` from $HOME; absolute paths are inside the sysroot when `inSysroot`.
   */
  hostPath(node: PScalar, inSysroot: boolean): string {
    const written = String(node.value);
    const home = this.ctx.env['HOME'];
    if (!inSysroot && home && (written === '~' || written.startsWith('~/'))) return path.join(home, written.slice(1));
    if (path.isAbsolute(written)) return inSysroot ? path.join(this.sysroot, written) : path.normalize(written);
    return path.resolve(baseDirOf(this.ctx, node.pos.file), written);
  }

  guestPath(node: PNode, at: Path): string | undefined {
    if (node.kind !== 'scalar' || typeof node.value !== 'string') return undefined;
    const r = normalizeGuestPath(node.value);
    if (r.ok) return r.value;
    this.problem(node, at, 'config.guest-path', r.message, 'guest paths are absolute paths inside the image, such as /app/config.json');
    return undefined;
  }

  mode(node: PNode | undefined, at: Path): number | undefined {
    if (node?.kind !== 'scalar') return undefined;
    const r = parseMode(node.raw === '' ? String(node.value) : node.raw);
    if (r.ok) return r.value;
    this.problem(node, at, 'config.invalid-value', r.message, 'modes are read as octal digits, as chmod does');
    return undefined;
  }

  /** A program name stays a name (looked up on PATH later); anything with a slash is a path. */
  private nameOrPath(node: PScalar): string {
    const s = String(node.value);
    return s.includes('/') ? this.hostPath(node, true) : s;
  }

  /**
   * The entries of a list whose items are a string or a map with `key` and optional `dest`
   * (executables, libraries): the main value, the checked dest, and the map's other keys.
   */
  private named(list: PNode | undefined, at: Path, key: string): Array<{ value: PScalar; dest?: string; destNode?: PNode; item: PNode }> {
    if (list?.kind !== 'seq') return [];
    return list.items.flatMap((item, i) => {
      const value = item.kind === 'map' ? item.entries.get(key)?.value : item;
      if (value?.kind !== 'scalar') return [];
      const destNode = item.kind === 'map' ? item.entries.get('dest')?.value : undefined;
      const dest = destNode ? this.guestPath(destNode, [...at, i, 'dest']) : undefined;
      return [{ value, item, ...(destNode ? { destNode } : {}), ...(dest ? { dest } : {}) }];
    });
  }

  executables(list: PNode | undefined, at: Path): ExecutableSpec[] {
    return this.named(list, at, 'src').map(({ value, dest, destNode, item }) =>
      this.withDest({ src: this.nameOrPath(value), written: String(value.value), ...(dest ? { dest } : {}), source: toSource(item.pos) }, destNode),
    );
  }

  libraries(list: PNode | undefined, at: Path): LibrarySpec[] {
    return this.named(list, at, 'name').map(({ value, dest, destNode, item }) => {
      const optional = item.kind === 'map' ? item.entries.get('optional')?.value : undefined;
      const spec: LibrarySpec = {
        name: this.nameOrPath(value),
        written: String(value.value),
        ...(dest ? { dest } : {}),
        optional: optional?.kind === 'scalar' && optional.value === true,
        source: toSource(item.pos),
      };
      return this.withDest(spec, destNode);
    });
  }

  files(list: PNode | undefined, at: Path): FileSpec[] {
    if (list?.kind !== 'seq') return [];
    const out: FileSpec[] = [];
    list.items.forEach((item, i) => {
      if (item.kind !== 'map') return;
      const here = [...at, i];
      const get = (k: string): PNode | undefined => item.entries.get(k)?.value;
      const destNode = get('dest');
      const dest = destNode ? this.guestPath(destNode, [...here, 'dest']) : undefined;
      const source = toSource(item.pos);
      const link = get('link');
      if (link?.kind === 'scalar') {
        const target = String(link.value);
        if (/[\0\n\r]/.test(target)) this.problem(link, [...here, 'link'], 'config.invalid-value', `link target ${JSON.stringify(target)} contains a NUL character or a line break`);
        else if (dest) out.push(this.withDest({ kind: 'link', dest, link: target, source }, destNode));
        return;
      }
      const mode = this.mode(get('mode'), [...here, 'mode']);
      if (get('dir')) {
        if (dest) out.push(this.withDest({ kind: 'dir', dest, ...(mode !== undefined ? { mode } : {}), source }, destNode));
        return;
      }
      const content = get('content');
      if (content?.kind === 'scalar') {
        if (dest) out.push(this.withDest({ kind: 'content', dest, content: String(content.value), ...(mode !== undefined ? { mode } : {}), source }, destNode));
        return;
      }
      const src = get('src');
      if (src?.kind !== 'scalar' || !dest) return;
      const exclude = get('exclude');
      const optional = get('optional');
      const resolve = get('resolve');
      out.push(this.withDest({
        kind: 'copy',
        src: this.hostPath(src, true),
        written: String(src.value),
        dest,
        exclude: exclude?.kind === 'seq' ? exclude.items.map((x) => (x.kind === 'scalar' ? String(x.value) : '')).filter(Boolean) : [],
        ...(mode !== undefined ? { mode } : {}),
        optional: optional?.kind === 'scalar' && optional.value === true,
        resolve: !(resolve?.kind === 'scalar' && resolve.value === false),
        source,
      }, destNode));
    });
    return out;
  }

  private withDest<T extends object>(spec: T, destNode: PNode | undefined): T {
    if (destNode) this.destPos.set(spec, destNode.pos);
    return spec;
  }

  /** A map of scalars as strings (env, vars). */
  strings(map: PNode | undefined): Record<string, string> {
    // No prototype: a key `__proto__` (a valid environment variable name) is a key like any
    // other, where `out[k] = v` on a plain object set the prototype and dropped the variable.
    const out = Object.create(null) as Record<string, string>;
    if (map?.kind !== 'map') return out;
    for (const [k, e] of map.entries) if (e.value.kind === 'scalar' && e.value.value !== null) out[k] = String(e.value.value);
    return out;
  }
}
