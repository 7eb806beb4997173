// Turn ajv's errors into OsvErrors a user can act on: the position of the value (or of the
// unknown key), a code frame, "did you mean" for unknown keys and enum values, "expected X,
// got Y" for wrong types, and one message per problem even where the schema has alternatives.

import type { ErrorObject } from 'ajv';
import type { OsvError } from '../diagnostics/error.js';
import { configError } from './parse.js';
import { compileValidators, schemaLocation, type SchemaKind, type Validators } from './schema.js';
import { generatedValidators } from './validators.js';
import { displayPath, escapePointer, pointerToPath, toPlain, type PlainIndex, type PNode } from './tree.js';
import { suggestion } from './suggest.js';
import type { Pos, SourceTexts } from './texts.js';

type AnyError = ErrorObject & { propertyName?: string };

/** What a value of each alternative-taking definition looks like, for "expected ..." messages. */
const EXPECTED: Record<string, string> = {
  '/definitions/extends': 'a file or template:NAME, or a list of them',
  '/definitions/scalar': 'a string, a number or a boolean',
  '/definitions/cmd': 'a list of strings (the argv) or a command string',
  '/definitions/executable': 'a program name or path, or a map {src, dest}',
  '/definitions/library': 'a soname or path, or a map {name, dest, optional}',
  '/definitions/file': 'a map: {src, dest}, {dest, link} or {dest, dir: true}',
  '/definitions/fileCopy': 'a map: {src, dest}, {dest, link} or {dest, dir: true}',
  '/definitions/mode': 'octal permission bits such as "0644"',
  '/definitions/module': 'a module directory, or a map {path}',
  '/definitions/size': 'a size such as 512M or 2G, or a number of bytes',
  '/definitions/duration': 'a number of seconds, or a duration such as 30s or 2m',
  '/definitions/port': 'a port mapping such as "8080:80", or a port number',
  '/definitions/volume': 'a named volume {name, dest, size, from, readonly}, a disk image path, or a map {path, format, readonly}',
};

const q = (v: unknown): string => JSON.stringify(v);

/** Messages for values that do not match a definition's pattern, keyed by the schema location. */
const PATTERN: Record<string, (v: unknown) => string> = {
  '/definitions/size/oneOf/1': (v) => `invalid size ${q(v)}: expected a number of bytes, or a number with a unit K, M, G or T (512M, 2G)`,
  '/definitions/port/oneOf/1': (v) => `invalid port mapping ${q(v)}: expected "HOST:GUEST", "HOST:GUEST/udp" or "ADDRESS:HOST:GUEST"`,
  '/definitions/duration/oneOf/1': (v) => `invalid duration ${q(v)}: expected seconds, or a number with a unit ms, s, m or h (30s, 2m)`,
  '/definitions/mode/oneOf/1': (v) => `invalid mode ${q(v)}: expected octal permission bits such as 0644`,
  '/definitions/run/properties/network': (v) => `invalid network ${q(v)}: expected user, none, tap:NAME or bridge:NAME (NAME up to 15 characters)`,
  '/definitions/kernelArg': (v) => `invalid kernel option ${q(v)}: expected --name or --name=value`,
  '/definitions/guestPath': (v) => `guest path ${q(v)} is not absolute: it must start with /`,
  '/definitions/absolutePath': (v) => `${q(v)} is not absolute: it must start with /`,
  '/definitions/name': (v) => `invalid name ${q(v)}: use letters, digits, ".", "_" and "-", starting with a letter or digit`,
  '/properties/name': (v) => `invalid name ${q(v)}: use letters, digits, ".", "_" and "-", starting with a letter or digit`,
  '/definitions/kernel/properties/version': (v) => `invalid kernel version ${q(v)}: expected a release tag such as v0.57.0, latest, or owner/repo@tag`,
  '/definitions/namedVolume/properties/name': (v) =>
    `invalid volume name ${q(v)}: use lowercase letters, digits and "-" (at most 63, not starting or ending with "-"); the name becomes a file name, so it cannot hold "/" or ".."`,
  '/definitions/kernel/properties/sha256': (v) => `invalid sha256 ${q(v)}: expected 64 lowercase hexadecimal digits`,
};

/** What the names in a free-keyed map are, for invalid-name messages. */
const KEY_KINDS: Record<string, [string, string]> = {
  '/definitions/env': ['environment variable name', 'names are letters, digits and _, not starting with a digit'],
  '/definitions/vars': ['variable name', 'names are letters, digits and _, not starting with a digit'],
  '/definitions/runs': ['run name', 'names are letters, digits, ".", "_" and "-", starting with a letter or digit'],
};

/** The schema locations the messages above are for (schema.ts finds locations by content: each must have its own). */
export const NAMED_LOCATIONS: readonly string[] = [...Object.keys(EXPECTED), ...Object.keys(PATTERN), ...Object.keys(KEY_KINDS)];

const TYPE_WORDS: Record<string, string> = {
  string: 'a string',
  integer: 'an integer',
  number: 'a number',
  boolean: 'true or false',
  object: 'a map',
  array: 'a list',
  null: 'nothing',
};

export function describeValue(v: unknown): string {
  if (v === null || v === undefined) return 'nothing';
  if (Array.isArray(v)) return 'a list';
  switch (typeof v) {
    case 'string':
      return `a string (${q(v.length > 60 ? v.slice(0, 57) + '...' : v)})`;
    case 'number':
      return Number.isInteger(v) ? `an integer (${v})` : `a number (${v})`;
    case 'boolean':
      return `a boolean (${v})`;
    case 'object':
      return 'a map';
    default:
      return typeof v;
  }
}

/** The part of a schema pointer after `#`: `/definitions/size/oneOf/1`. */
function schemaLoc(schema: unknown): string {
  const p = schemaLocation(schema);
  return p === undefined ? '' : p.slice(p.indexOf('#') + 1);
}

const within = (path: string, root: string): boolean => path === root || path.startsWith(root + '/');

/**
 * Where the schema offers alternatives (oneOf), ajv reports a failure for every branch. The
 * branches of our unions take different JSON types, and a branch of the wrong type fails only
 * its `type` keyword: so when anything else failed at or under the union, the value picked a
 * branch and the other branches' type errors are noise; when nothing else failed, no branch
 * took the type, and the type errors become one "expected A or B" error.
 */
function collapseUnions(errors: AnyError[]): AnyError[] {
  let out = errors.filter((e) => e.keyword !== 'if');
  const unions = out.filter((e) => e.keyword === 'oneOf' || e.keyword === 'anyOf');
  out = out.filter((e) => e.keyword !== 'oneOf' && e.keyword !== 'anyOf');
  for (const u of unions) {
    const branches = u.schema as unknown[];
    const isBranchType = (e: AnyError): boolean => e.instancePath === u.instancePath && e.keyword === 'type' && branches.includes(e.parentSchema);
    const typeErrors = out.filter(isBranchType);
    const others = out.filter((e) => !isBranchType(e) && within(e.instancePath, u.instancePath));
    out = out.filter((e) => !isBranchType(e));
    if (others.length === 0 && typeErrors.length) {
      const types = [...new Set(typeErrors.map((e) => String(e.params['type'])))];
      out.push({ ...u, keyword: 'x-union', params: { types } });
    }
  }
  const seen = new Set<string>();
  return out.filter((e) => {
    const key = `${e.instancePath}|${e.keyword}|${q(e.params)}|${e.propertyName ?? ''}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** One OsvError for one (collapsed) ajv error. */
function toOsvError(e: AnyError, index: PlainIndex, texts: SourceTexts, fallback: Pos): OsvError | undefined {
  const path = pointerToPath(e.instancePath);
  const label = displayPath(path);
  const prefix = label ? `${label}: ` : '';
  const node = index.nodes.get(e.instancePath);
  const pos = node?.pos ?? fallback;
  const data = node ? toPlain(node) : undefined;
  const parentLoc = schemaLoc(e.parentSchema);
  const err = (code: string, message: string, at: Pos = pos, hint?: string): OsvError => configError(texts, code, message, at, hint);

  // A bad key in a free-keyed map (env, vars, runs): reported on the propertyNames keyword.
  if (e.propertyName !== undefined && e.keyword !== 'propertyNames') return undefined;
  switch (e.keyword) {
    case 'propertyNames': {
      const name = String(e.params['propertyName']);
      const keyPos = index.keys.get(`${e.instancePath}/${escapePointer(name)}`) ?? pos;
      const [kind, hint] = KEY_KINDS[parentLoc] ?? ['key', 'check the spelling'];
      return err('config.invalid-name', `${prefix}invalid ${kind} "${name}"`, keyPos, hint);
    }
    case 'additionalProperties': {
      const key = String(e.params['additionalProperty']);
      const keyPos = index.keys.get(`${e.instancePath}/${escapePointer(key)}`) ?? pos;
      const props = (e.parentSchema as { properties?: Record<string, unknown> }).properties ?? {};
      const allowed = Object.keys(props).filter((k) => k !== '$schema');
      const where = label ? ` in ${label}` : '';
      return err('config.unknown-key', `unknown key "${key}"${where}${suggestion(key, allowed)}`, keyPos, `allowed keys${where}: ${allowed.join(', ')}`);
    }
    case 'required':
      return err('config.missing-key', `${prefix}missing required key "${String(e.params['missingProperty'])}"`, pos, EXPECTED[parentLoc] ? `expected ${EXPECTED[parentLoc]}` : undefined);
    case 'type': {
      const expected = EXPECTED[parentLoc] ?? TYPE_WORDS[String(e.params['type'])] ?? String(e.params['type']);
      return err('config.type', `${prefix}expected ${expected}, got ${describeValue(data)}`);
    }
    case 'x-union': {
      const types = (e.params['types'] as string[]).map((t) => TYPE_WORDS[t] ?? t);
      const expected = EXPECTED[parentLoc] ?? types.join(' or ');
      return err('config.type', `${prefix}expected ${expected}, got ${describeValue(data)}`);
    }
    case 'enum': {
      const allowed = (e.params['allowedValues'] as unknown[]).map(String);
      const hint = typeof data === 'string' ? suggestion(data, allowed) : '';
      return err('config.invalid-value', `${prefix}expected one of ${allowed.join(', ')}, got ${describeValue(data)}${hint}`);
    }
    case 'const':
      return err('config.invalid-value', `${prefix}expected ${q(e.params['allowedValue'])}, got ${describeValue(data)}`);
    case 'pattern': {
      const make = PATTERN[parentLoc];
      return err('config.invalid-value', `${prefix}${make ? make(data) : `${describeValue(data)} does not match ${String(e.params['pattern'])}`}`);
    }
    case 'minimum':
      return err('config.range', `${prefix}must be at least ${String(e.params['limit'])}, got ${q(data)}`);
    case 'maximum':
      return err('config.range', `${prefix}must be at most ${String(e.params['limit'])}, got ${q(data)}`);
    case 'exclusiveMinimum':
      return err('config.range', `${prefix}must be greater than ${String(e.params['limit'])}, got ${q(data)}`);
    case 'minLength':
      return err('config.invalid-value', e.params['limit'] === 1 ? `${prefix}must not be empty` : `${prefix}must be at least ${String(e.params['limit'])} characters long`);
    case 'maxLength':
      return err('config.invalid-value', `${prefix}must be at most ${String(e.params['limit'])} characters long, got ${String((data as string).length)}`);
    case 'minItems':
      return err('config.invalid-value', e.params['limit'] === 1 ? `${prefix}must not be an empty list` : `${prefix}must have at least ${String(e.params['limit'])} items`);
    default:
      return err('config.invalid-value', `${prefix}${e.message ?? 'is invalid'}`);
  }
}

let validators: Validators | undefined;

/** Every problem of `data` against a schema, as ajv reports it; the generated validators answer when built. */
export function validatePlain(kind: SchemaKind, data: unknown): ErrorObject[] {
  validators ??= generatedValidators() ?? compileValidators();
  const v = validators[kind];
  return v(data) ? [] : [...(v.errors ?? [])];
}

/** Validate a tree against a schema; every problem becomes one positioned OsvError. */
export function schemaErrors(kind: SchemaKind, tree: PNode, texts: SourceTexts): { data: unknown; errors: OsvError[]; index: PlainIndex } {
  const index: PlainIndex = { nodes: new Map(), keys: new Map() };
  const data = toPlain(tree, index);
  const raw = validatePlain(kind, data) as AnyError[];
  const errors: OsvError[] = [];
  for (const e of collapseUnions(raw)) {
    const o = toOsvError(e, index, texts, tree.pos);
    if (o) errors.push(o);
  }
  return { data, errors, index };
}
