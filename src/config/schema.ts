// The JSON Schemas in schemas/ are the one definition of the file format. This module reads
// them, names every part of them (for error messages), and compiles them with ajv: what
// `npm run build` turns into code (validators.ts), and what validates when a build has no
// generated validators for these schemas.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { ValidateFunction } from 'ajv';
import { mainSchemaPath, moduleSchemaPath } from './paths.js';

export const MAIN_SCHEMA_ID = 'osv.schema.json';
export const MODULE_SCHEMA_ID = 'osv.module.schema.json';

export type SchemaKind = 'main' | 'module';

export interface Schemas {
  main: Record<string, unknown>;
  module: Record<string, unknown>;
}

export type Validators = Record<SchemaKind, ValidateFunction>;

/**
 * strict: unknown keywords and sloppy schemas are errors; allErrors: report every problem of a
 * file at once; verbose: errors carry their schema, which the messages need. The schemas are
 * checked against the JSON Schema meta-schema by the tests, not when compiling; the generated
 * code is neither inlined nor optimized (validation is not the hot part, and each definition
 * stays one function).
 */
export const AJV_OPTIONS = {
  strict: true,
  allErrors: true,
  verbose: true,
  validateSchema: false,
  inlineRefs: false,
  code: { optimize: false },
} as const;

let docs: Schemas | undefined;

/** The schema documents, read once per process (callers must not change them). */
export function readSchemas(): Schemas {
  docs ??= {
    main: JSON.parse(readFileSync(mainSchemaPath, 'utf8')) as Record<string, unknown>,
    module: JSON.parse(readFileSync(moduleSchemaPath, 'utf8')) as Record<string, unknown>,
  };
  return docs;
}

/** An ajv instance holding both schemas under their ids (for compiling or generating code). */
export function schemaAjv(options: object): import('ajv').Ajv {
  // Loaded here, not at the top: the built CLI validates with generated code and never loads ajv.
  const { Ajv } = createRequire(import.meta.url)('ajv') as typeof import('ajv');
  const ajv = new Ajv(options);
  const { main, module } = readSchemas();
  ajv.addSchema(main, MAIN_SCHEMA_ID);
  ajv.addSchema(module, MODULE_SCHEMA_ID);
  return ajv;
}

/** Both schemas compiled by ajv in this process. */
export function compileValidators(): Validators {
  const ajv = schemaAjv(AJV_OPTIONS);
  const get = (id: string): ValidateFunction => {
    const v = ajv.getSchema(id);
    if (!v) throw new Error(`schema ${id} did not compile`);
    return v;
  };
  return { main: get(MAIN_SCHEMA_ID), module: get(MODULE_SCHEMA_ID) };
}

let locations: Map<string, string> | undefined;

function indexLocations(doc: unknown, base: string, out: Map<string, string>, ptr = ''): void {
  if (doc === null || typeof doc !== 'object') return;
  // The first place wins: the schema walk is depth-first in document order, as ajv's is.
  if (!Array.isArray(doc)) {
    const key = JSON.stringify(doc);
    if (!out.has(key)) out.set(key, `${base}#${ptr}`);
  }
  for (const [k, v] of Object.entries(doc)) indexLocations(v, base, out, `${ptr}/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`);
}

/**
 * `file#/json/pointer` of a part of a schema (an error's `parentSchema`), or undefined. Found by
 * its content, not by object identity: generated validators carry their own copies of the
 * schemas' parts. Parts with the same content are one location; the tests check that every part
 * the messages name (schema-errors.ts) has content of its own.
 */
export function schemaLocation(part: unknown): string | undefined {
  if (part === null || typeof part !== 'object') return undefined;
  if (!locations) {
    const { main, module } = readSchemas();
    locations = new Map();
    indexLocations(main, MAIN_SCHEMA_ID, locations);
    indexLocations(module, MODULE_SCHEMA_ID, locations);
  }
  return locations.get(JSON.stringify(part));
}
