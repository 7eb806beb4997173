// loadConfig: discover, read and merge the extends chain, interpolate, validate against the
// schema, then normalize with semantic checks. Every problem found at any step of one file
// set is returned together; nothing throws for bad input.

import * as path from 'node:path';
import { OsvError, OsvErrors } from '../diagnostics/error.js';
import { err, ok, type Result } from '../diagnostics/result.js';
import { nodeHostFs, type HostFs } from '../hostfs.js';
import { baseDirOf, newContext, posKey, type LoadContext } from './context.js';
import { printableConfig } from './print.js';
import { discoverConfig, SEARCH_PLACES } from './discover.js';
import { loadChain, mergeChain } from './extends.js';
import { Interpolator } from './interpolate.js';
import { normalize } from './normalize.js';
import { templatesDir as packageTemplates } from './paths.js';
import { schemaErrors } from './schema-errors.js';
import { readSchemas } from './schema.js';
import type { PNode } from './tree.js';
import type { Config } from './types.js';

export interface LoadOptions {
  /** Where discovery starts, and the base of a relative configFile. */
  cwd: string;
  /** --config: this file instead of discovery. */
  configFile?: string;
  /** The environment for ${env:NAME}; default process.env. */
  env?: Record<string, string | undefined>;
  /** How configuration files are read; default the real file system. */
  fs?: HostFs;
  /** Where `template:NAME` files live; default the package's templates/. */
  templatesDir?: string;
}

export interface Loaded {
  config: Config;
  /** The merged, interpolated tree (what the schema validated). */
  tree: PNode;
  /** That tree as plain data with relative host paths made absolute: `osv config` prints it. */
  printable: unknown;
}

/** Errors sorted by file (in load order), then position, and without repeats. */
function sortErrors(ctx: LoadContext, files: string[]): OsvError[] {
  const rank = (f: string | undefined): number => {
    const i = f === undefined ? -1 : files.indexOf(f);
    return i < 0 ? files.length : i;
  };
  const seen = new Set<string>();
  return ctx.errors
    .filter((e) => INTERPOLATION.has(e.code) || !ctx.poisoned.has(where(e)))
    .filter((e) => {
      const k = `${e.code}|${e.message}|${e.source?.file}:${e.source?.line}:${e.source?.column}`;
      if (seen.has(k)) return false;
      seen.add(k);
      return true;
    })
    .map((e, i) => ({ e, i }))
    .sort((a, b) => rank(a.e.source?.file) - rank(b.e.source?.file) || (a.e.source?.line ?? 0) - (b.e.source?.line ?? 0) || (a.e.source?.column ?? 0) - (b.e.source?.column ?? 0) || a.i - b.i)
    .map(({ e }) => e);
}

const where = (e: OsvError): string => posKey(e.source);
const INTERPOLATION = new Set(['config.undefined-var', 'config.undefined-env', 'config.var-cycle', 'config.interpolation']);

export async function findConfigFile(opts: Pick<LoadOptions, 'cwd' | 'configFile' | 'fs'>): Promise<Result<string, OsvErrors>> {
  const fs = opts.fs ?? nodeHostFs;
  if (opts.configFile !== undefined) {
    const file = path.resolve(opts.cwd, opts.configFile);
    const st = fs.stat(file);
    if (st?.kind === 'file') return ok(file);
    return err(new OsvErrors([new OsvError({ code: 'config.not-found', message: `configuration file ${opts.configFile} ${st ? 'is not a regular file' : 'not found'}`, hint: `the path is relative to ${opts.cwd}` })]));
  }
  let file: string | undefined;
  try {
    file = await discoverConfig(opts.cwd);
  } catch (e) {
    return err(new OsvErrors([new OsvError({ code: 'config.read', message: `cannot search ${opts.cwd} for a configuration: ${(e as Error).message}`, cause: e })]));
  }
  if (file) return ok(file);
  return err(
    new OsvErrors([
      new OsvError({
        code: 'config.not-found',
        message: `no configuration file in ${opts.cwd}`,
        hint: `create one with \`osv init\`, or pass --config FILE (looked for ${SEARCH_PLACES.slice(0, -1).join(', ')} and package.json#osv)`,
      }),
    ]),
  );
}

export async function loadConfigDetailed(opts: LoadOptions): Promise<Result<Loaded, OsvErrors>> {
  const found = await findConfigFile(opts);
  if (!found.ok) return found;
  const file = found.value;
  const ctx = newContext({ fs: opts.fs ?? nodeHostFs, env: opts.env ?? process.env, templatesDir: opts.templatesDir ?? packageTemplates, rootDir: path.dirname(file) });
  const fail = (files: string[]): Result<never, OsvErrors> => err(new OsvErrors(sortErrors(ctx, files)));

  const chain = loadChain(ctx, file);
  const files = chain.map((f) => f.file);
  const merged = mergeChain(chain);
  // A file that could not be read or extended is reported, and the files that did load are
  // still checked, so that one run shows everything; only what the missing file might have
  // supplied (variables, cmd) is not reported as missing.
  const incomplete = ctx.errors.length > 0;
  if (!merged) return fail(files);

  const tree = new Interpolator(ctx, merged).tree(merged);
  const { errors: schema, index } = schemaErrors('main', tree, ctx.texts);
  ctx.errors.push(...schema);
  if (tree.kind !== 'map') return fail(files);

  // The semantic checks run even after schema errors, so that one run reports everything;
  // they skip values of the wrong shape, and a value the schema already faulted is not
  // reported twice. Without a schema-valid cmd, "no cmd" would only be noise.
  const before = ctx.errors.length;
  const config = normalize(ctx, tree, file, files, index);
  if (schema.length) {
    const faulted = new Set(schema.map((e) => where(e)));
    const semantic = ctx.errors.splice(before).filter((e) => !faulted.has(where(e)) && e.code !== 'config.cmd-missing');
    ctx.errors.push(...semantic);
  }
  if (incomplete) ctx.errors = ctx.errors.filter((e) => e.code !== 'config.undefined-var' && e.code !== 'config.cmd-missing');
  if (ctx.errors.length || !config) return fail(files);
  let printable: unknown;
  return ok({
    config,
    tree,
    // computed on demand: only `osv config` and `validate --print` need it
    get printable() {
      return (printable ??= printableConfig(tree, (f) => baseDirOf(ctx, f), readSchemas().main));
    },
  });
}

/** The validated, normalized configuration, or every problem found. */
export async function loadConfig(opts: LoadOptions): Promise<Result<Config, OsvErrors>> {
  const r = await loadConfigDetailed(opts);
  return r.ok ? ok(r.value.config) : r;
}
