// The JSON Schemas in schemas/ are the one definition of the file format. This module loads
// them, compiles them once per process (compiling is the slow part), and validates plain data.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { fastChecks } from './fast-validate.js';
import { mainSchemaPath, moduleSchemaPath } from './paths.js';

export const MAIN_SCHEMA_ID = 'osv.schema.json';
export const MODULE_SCHEMA_ID = 'osv.module.schema.json';

export type SchemaKind = 'main' | 'module';

export interface Schemas {
  main: Record<string, unknown>;
  module: Record<string, unknown>;
}

interface Compiled {
  schemas: Schemas;
  validate: Record<SchemaKind, ValidateFunction>;
  /** Every schema object -> `file#/json/pointer`, to tell which definition an error came from. */
  pointers: Map<object, string>;
}

/**
 * strict: unknown keywords and sloppy schemas are errors; allErrors: report every problem of a
 * file at once; verbose: errors carry their schema, which the messages need. The rest makes
 * compiling, which every command that reads osv.yaml pays, about three times cheaper: the
 * schemas are checked against the JSON Schema meta-schema by the tests, not at every start,
 * and the generated code is neither inlined nor optimized (validation is not the hot part).
 */
export const AJV_OPTIONS = {
  strict: true,
  allErrors: true,
  verbose: true,
  validateSchema: false,
  inlineRefs: false,
  code: { optimize: false },
} as const;

let compiled: Compiled | undefined;

export function readSchemas(): Schemas {
  return {
    main: JSON.parse(readFileSync(mainSchemaPath, 'utf8')) as Record<string, unknown>,
    module: JSON.parse(readFileSync(moduleSchemaPath, 'utf8')) as Record<string, unknown>,
  };
}

function indexPointers(doc: unknown, base: string, out: Map<object, string>, ptr = ''): void {
  if (doc === null || typeof doc !== 'object') return;
  if (!Array.isArray(doc)) out.set(doc, `${base}#${ptr}`);
  for (const [k, v] of Object.entries(doc)) indexPointers(v, base, out, `${ptr}/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`);
}

function compile(): Compiled {
  const schemas = readSchemas();
  // Loaded here, not at the top: a valid configuration never needs ajv itself (fast-validate.ts).
  const { Ajv } = createRequire(import.meta.url)('ajv') as typeof import('ajv');
  const ajv = new Ajv(AJV_OPTIONS);
  ajv.addSchema(schemas.main, MAIN_SCHEMA_ID);
  ajv.addSchema(schemas.module, MODULE_SCHEMA_ID);
  const pointers = new Map<object, string>();
  indexPointers(schemas.main, MAIN_SCHEMA_ID, pointers);
  indexPointers(schemas.module, MODULE_SCHEMA_ID, pointers);
  const get = (id: string): ValidateFunction => {
    const v = ajv.getSchema(id);
    if (!v) throw new Error(`schema ${id} did not compile`);
    return v;
  };
  return { schemas, validate: { main: get(MAIN_SCHEMA_ID), module: get(MODULE_SCHEMA_ID) }, pointers };
}

/** The compiled validators, built on first use and kept for the life of the process. */
export function compiledSchemas(): Compiled {
  compiled ??= compile();
  return compiled;
}

export function validatePlain(kind: SchemaKind, data: unknown): ErrorObject[] {
  if (fastChecks()?.[kind](data)) return [];
  const v = compiledSchemas().validate[kind];
  return v(data) ? [] : [...(v.errors ?? [])];
}
