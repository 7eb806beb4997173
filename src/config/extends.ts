// Read the root file and everything it extends, in merge order: a depth-first walk that
// lists each file after the files it extends, each file once (a file reached twice, as in a
// diamond, is merged at its first place). A file reached again while it is being read is a
// cycle, reported with the whole chain.

import * as path from 'node:path';
import { parseConfigText } from './parse.js';
import { report, readText, displayFile, type LoadContext } from './context.js';
import { isPMap, type PMap, type PNode, type PScalar } from './tree.js';
import { suggestion } from './suggest.js';
import { mergeMaps } from './merge.js';
import type { Pos } from './texts.js';

export interface LoadedFile {
  file: string;
  tree: PNode;
}

const TEMPLATE_PREFIX = 'template:';

/** Parse one configuration file; package.json contributes its `osv` key. Undefined after an error. */
export function readConfigFile(ctx: LoadContext, file: string, via?: Pos): PNode | undefined {
  const r = readText(ctx, file);
  if ('error' in r) {
    report(ctx, 'config.read', `configuration file ${displayFile(ctx, file)} ${r.error}`, via, via ? undefined : `check the path given to --config`);
    return undefined;
  }
  if (r.badByteAt !== undefined) {
    ctx.texts.add(file, r.text);
    report(ctx, 'config.encoding', `${displayFile(ctx, file)} is not UTF-8 text`, ctx.texts.pos(file, r.badByteAt, r.badByteAt + 1), 'save the file as UTF-8');
    return undefined;
  }
  const parsed = parseConfigText(file, r.text, ctx.texts);
  if (parsed.errors.length) {
    ctx.errors.push(...parsed.errors);
    return undefined;
  }
  let tree = parsed.tree;
  if (path.basename(file) === 'package.json') {
    tree = isPMap(tree) ? tree.entries.get('osv')?.value : undefined;
    if (!tree) {
      report(ctx, 'config.not-found', `${displayFile(ctx, file)} has no "osv" key`, via, 'put the configuration under "osv" in package.json, or use osv.yaml');
      return undefined;
    }
  }
  // An empty file is an empty configuration.
  return tree ?? { kind: 'map', entries: new Map(), pos: ctx.texts.pos(file, 0, 0) };
}

export function listTemplates(ctx: LoadContext): string[] {
  try {
    return ctx.fs
      .readdir(ctx.templatesDir)
      .filter((n) => n.endsWith('.yaml'))
      .map((n) => n.slice(0, -'.yaml'.length));
  } catch {
    return [];
  }
}

/** Where an `extends` entry points, or undefined after reporting why it cannot be used. */
function resolveExtends(ctx: LoadContext, from: string, entry: PScalar, label: string): string | undefined {
  const written = String(entry.value);
  if (written.startsWith(TEMPLATE_PREFIX)) {
    const name = written.slice(TEMPLATE_PREFIX.length);
    const file = path.join(ctx.templatesDir, `${name}.yaml`);
    if (/^[A-Za-z0-9_-]+$/.test(name) && ctx.fs.stat(file)?.kind === 'file') {
      ctx.templateFiles.add(file);
      return file;
    }
    const known = listTemplates(ctx);
    report(ctx, 'config.unknown-template', `${label}: unknown template "${name}"${suggestion(name, known)}`, entry.pos, `built-in templates: ${known.map((t) => TEMPLATE_PREFIX + t).join(', ') || '(none)'}`);
    return undefined;
  }
  const base = path.dirname(from);
  const file = path.resolve(base, written);
  const st = ctx.fs.stat(file);
  if (st?.kind === 'file') return file;
  report(
    ctx,
    'config.extends-not-found',
    `${label}: ${st ? 'not a file' : 'file not found'}: ${written}`,
    entry.pos,
    `paths in extends are relative to ${base}; built-in templates are written template:NAME`,
  );
  return undefined;
}

/** The files to merge, bases first, root last; errors go to ctx.errors. */
export function loadChain(ctx: LoadContext, rootFile: string): LoadedFile[] {
  const out: LoadedFile[] = [];
  const done = new Set<string>();
  const stack: string[] = [];

  const visit = (file: string, via?: Pos): void => {
    const cycleAt = stack.indexOf(file);
    if (cycleAt >= 0) {
      const chain = [...stack.slice(cycleAt), file].map((f) => displayFile(ctx, f)).join(' → ');
      report(ctx, 'config.extends-cycle', `extends cycle: ${chain}`, via, 'remove one of these extends entries');
      return;
    }
    if (done.has(file)) return;
    const tree = readConfigFile(ctx, file, via);
    if (!tree) return;
    stack.push(file);
    const ext = isPMap(tree) ? tree.entries.get('extends') : undefined;
    if (ext && isPMap(tree)) {
      // A single string is a one-element list, so that lists from several files concatenate.
      const seq = ext.value.kind === 'scalar' && typeof ext.value.value === 'string' ? { kind: 'seq' as const, items: [ext.value], pos: ext.value.pos } : ext.value;
      tree.entries.set('extends', { key: ext.key, value: seq });
      if (seq.kind === 'seq') {
        seq.items.forEach((item, i) => {
          // non-strings are left to the schema, which reports them with the others
          if (item.kind !== 'scalar' || typeof item.value !== 'string' || item.value === '') return;
          const label = ext.value.kind === 'seq' ? `extends[${i}]` : 'extends';
          const target = resolveExtends(ctx, file, item, label);
          if (target) visit(target, item.pos);
        });
      }
    }
    stack.pop();
    done.add(file);
    out.push({ file, tree });
  };

  visit(rootFile);
  return out;
}

/** Fold the chain into one tree. A non-map file (a list, a scalar) replaces; the schema reports it. */
export function mergeChain(files: LoadedFile[]): PNode | undefined {
  let acc: PNode | undefined;
  for (const f of files) acc = acc && isPMap(acc) && isPMap(f.tree) ? mergeMaps(acc, f.tree as PMap) : f.tree;
  return acc;
}
