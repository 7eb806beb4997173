// Most configurations are valid, and compiling the schema (plus loading ajv) is the largest
// cost of every command that reads osv.yaml. So the yes/no answer comes from ajv's standalone
// code for the same schemas, generated once and cached by the schemas' hash; only a
// configuration that fails it pays for the full, verbose compile that explains the errors.

import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { mainSchemaPath, moduleSchemaPath } from './paths.js';

export type Check = (data: unknown) => boolean;
type Checks = { main: Check; module: Check };

const require = createRequire(import.meta.url);
let loaded: Checks | null | undefined;

function cacheDir(env: NodeJS.ProcessEnv): string {
  const xdg = env['XDG_CACHE_HOME'];
  return join(xdg && xdg.startsWith('/') ? xdg : join(homedir(), '.cache'), 'osv-up', 'schema');
}

/** The same rules as the full validator, without error details: standalone code allows no `verbose`. */
const OPTIONS = { strict: true, allErrors: false, validateSchema: false, code: { source: true, optimize: false } } as const;

function generate(main: string, module: string): string {
  const { Ajv } = require('ajv') as typeof import('ajv');
  const standaloneCode = (require('ajv/dist/standalone') as { default: (ajv: unknown, refs: Record<string, string>) => string }).default;
  const ajv = new Ajv(OPTIONS);
  ajv.addSchema(JSON.parse(main) as object, 'osv.schema.json');
  ajv.addSchema(JSON.parse(module) as object, 'osv.module.schema.json');
  const code = standaloneCode(ajv, { main: 'osv.schema.json', module: 'osv.module.schema.json' });
  // The generated module requires ajv's small runtime helpers; resolve them from this package,
  // not from the cache directory.
  return `"use strict";const __osvRequire=require("module").createRequire(${JSON.stringify(require.resolve('ajv/package.json'))});\n${code.replace(/\brequire\(/g, '__osvRequire(')}`;
}

/** The cached yes/no validators, generating them on first use; undefined if that fails. */
export function fastChecks(env: NodeJS.ProcessEnv = process.env): Checks | undefined {
  if (loaded !== undefined) return loaded ?? undefined;
  try {
    const main = readFileSync(mainSchemaPath, 'utf8');
    const module = readFileSync(moduleSchemaPath, 'utf8');
    const { version } = require('ajv/package.json') as { version: string };
    const hash = createHash('sha256').update(version).update(JSON.stringify(OPTIONS)).update(main).update('\0').update(module).digest('hex').slice(0, 24);
    const dir = cacheDir(env);
    const file = join(dir, `validate-${hash}.cjs`);
    try {
      loaded = require(file) as Checks;
    } catch {
      mkdirSync(dir, { recursive: true });
      const tmp = `${file}.${process.pid}.tmp`;
      writeFileSync(tmp, generate(main, module));
      renameSync(tmp, file);
      loaded = require(file) as Checks;
    }
  } catch {
    loaded = null; // no cache directory, or generation failed: the full validator answers alone
  }
  return loaded ?? undefined;
}
