// The schemas' validators are generated code in the package's own dist/ (made by
// `npm run build`), never loaded from a cache directory (issue #20): a planted
// ~/.cache/osv-up/schema/validate-*.cjs, as a poisoned or restored CI cache would hold, is not
// run. And the generated code never disagrees with the schemas compiled by ajv in the process:
// valid and invalid configurations through both give the same errors, and the same messages.

import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { generatedValidators, generateValidators, loadGenerated, VALIDATORS_FILE } from '../../src/config/validators.js';
import { mainSchemaPath, moduleSchemaPath, packageRoot, templatesDir } from '../../src/config/paths.js';
import { compileValidators, readSchemas, schemaLocation, type SchemaKind, type Validators } from '../../src/config/schema.js';
import { NAMED_LOCATIONS } from '../../src/config/schema-errors.js';
import { loadConfigDetailed } from '../../src/config/index.js';
import { toPlain } from '../../src/config/tree.js';
import { invalidCases } from './invalid-cases.js';
import { errorLine, project, removeProjects } from './helpers.js';
import { STAMP, stampOf } from '../../src/cli/code-cache.js';
import { OSV, runOsv } from '../helpers/osv.js';
// @ts-expect-error: a build script in JavaScript, without types
import { bundleValidators } from '../../scripts/validators-bundle.mjs';

afterAll(removeProjects);

describe('the generated schema validators', () => {
  const dir = mkdtempSync(join(tmpdir(), 'osv-validators-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('never runs code from the cache directory, and writes none there', () => {
    const cache = join(dir, 'cache');
    const schemaCache = join(cache, 'osv-up', 'schema');
    mkdirSync(schemaCache, { recursive: true });
    // The name the validators used to be cached under (and any a run might create).
    const version = (createRequire(import.meta.url)('ajv/package.json') as { version: string }).version;
    const options = { strict: true, allErrors: false, validateSchema: false, code: { source: true, optimize: false } };
    const old = createHash('sha256').update(version).update(JSON.stringify(options)).update(readFileSync(mainSchemaPath, 'utf8')).update('\0').update(readFileSync(moduleSchemaPath, 'utf8')).digest('hex').slice(0, 24);
    const marker = join(dir, 'pwned');
    const payload = `require('fs').writeFileSync(${JSON.stringify(marker)}, 'ran'); exports.main = () => true; exports.module = () => true;\n`;
    writeFileSync(join(schemaCache, `validate-${old}.cjs`), payload);
    const project = join(dir, 'project');
    mkdirSync(project);
    writeFileSync(join(project, 'osv.yaml'), 'cmd: [/bin/true]\n');
    const env = { ...process.env, XDG_CACHE_HOME: cache };
    for (let i = 0; i < 2; i++) {
      const r = runOsv(['validate'], { cwd: project, env });
      expect(r.code, r.stderr).toBe(0);
      for (const f of readdirSync(schemaCache)) writeFileSync(join(schemaCache, f), payload);
    }
    expect(existsSync(marker)).toBe(false);
    expect(readdirSync(schemaCache)).toEqual([`validate-${old}.cjs`]);
  });

  it('the built validators are for the current schemas, and are used', async () => {
    expect(existsSync(VALIDATORS_FILE)).toBe(true);
    // As generated, with ajv's runtime helpers bundled in, then stamped for its code cache
    // (src/cli/code-cache.ts).
    const built = readFileSync(VALIDATORS_FILE, 'utf8');
    expect(stampOf(built)).toMatch(/^[0-9a-f]{64}$/);
    expect(built.slice(0, built.lastIndexOf(STAMP))).toBe(await bundleValidators(generateValidators()));
    const checks = generatedValidators();
    expect(checks?.main({ cmd: ['/bin/true'] })).toBe(true);
    expect(checks?.main({ cmd: 'not a list', nope: 1 })).toBe(false);
  });

  it('validators generated from other schemas are not used', () => {
    // Beside the real ones, so that the generated code finds ajv's runtime helpers as they do.
    const file = (name: string): string => VALIDATORS_FILE.replace(/\.cjs$/, `.test-${process.pid}-${name}.cjs`);
    const text = generateValidators();
    const last = text.lastIndexOf('exports.generatedFrom = ');
    // The same code, said to come from a schema whose title differs by a word.
    const stale = text.slice(0, last) + text.slice(last).replace('osv-up configuration', 'osv-up settings');
    expect(stale).not.toBe(text);
    try {
      writeFileSync(file('same'), text);
      writeFileSync(file('stale'), stale);
      expect(loadGenerated(file('same'))).toBeDefined();
      expect(loadGenerated(file('stale'))).toBeUndefined();
      expect(loadGenerated(file('missing'))).toBeUndefined();
    } finally {
      for (const name of ['same', 'stale']) rmSync(file(name), { force: true });
    }
  });

  it('the built CLI never loads ajv, for a valid or an invalid configuration', () => {
    const project = join(dir, 'no-ajv');
    mkdirSync(project);
    // A preloaded hook reports every module of ajv asked for, but the generated code's runtime
    // helpers and the version number they are checked with.
    const hook = join(dir, 'report-ajv.cjs');
    writeFileSync(hook, "const M = require('module'); const load = M._load; M._load = function (r, ...a) { if (/^ajv(\\/|$)/.test(r) && !r.startsWith('ajv/dist/runtime/') && r !== 'ajv/package.json') process.stderr.write('LOADED ' + r + '\\n'); return load.call(this, r, ...a); };\n");
    for (const [text, status] of [['cmd: [/bin/true]\n', 0], ['cmd: 42\nrun: {memroy: 1G}\n', 1]] as const) {
      writeFileSync(join(project, 'osv.yaml'), text);
      const r = spawnSync(process.execPath, ['--require', hook, OSV, 'validate'], { cwd: project, encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(status);
      expect(r.stderr).not.toContain('LOADED');
      if (status === 1) expect(r.stderr).toContain('unknown key "memroy" in run (did you mean "memory"?)');
    }
  });
});

// ---- the corpus: plain data, as the loader gives it to the validators ------------------------

const yamlFiles = (files: Record<string, string | Buffer>): Array<[SchemaKind, unknown]> =>
  Object.entries(files).flatMap(([name, text]): Array<[SchemaKind, unknown]> => {
    if (!/\.(ya?ml|json)$|rc$/.test(name) || typeof text !== 'string') return [];
    const docs = parseAllDocuments(text);
    if (!Array.isArray(docs) || docs.some((d) => d.errors.length > 0)) return [];
    const kind: SchemaKind = name.endsWith('osv.module.yaml') ? 'module' : 'main';
    return docs.flatMap((d): Array<[SchemaKind, unknown]> => {
      try {
        return [[kind, d.toJS({ maxAliasCount: 100 })]];
      } catch {
        return []; // an unknown alias or an alias bomb: the loader refuses it before validating
      }
    });
  });

const read = (p: string): string => readFileSync(p, 'utf8');

/** What the loader validates: a configuration merged with what it extends and interpolated, as plain data. */
async function loaded(cwd: string, configFile?: string): Promise<unknown> {
  // template:java needs a JVM: JAVA_HOME names one (nothing reads it here).
  const r = await loadConfigDetailed({ cwd, env: { JAVA_HOME: '/opt/jdk' }, ...(configFile ? { configFile } : {}) });
  if (!r.ok) throw new Error(`${configFile ?? cwd} does not load: ${r.error.errors.map((e) => e.message).join('; ')}`);
  return toPlain(r.value.tree);
}

const example = await loaded(packageRoot, 'osv.config.example.yaml');
const valid: Array<[SchemaKind, unknown]> = [
  ['main', example],
  ...(await Promise.all(readdirSync(templatesDir).filter((f) => f.endsWith('.yaml')).map(async (f): Promise<[SchemaKind, unknown]> => ['main', await loaded(project({ 'osv.yaml': `extends: [template:${f.slice(0, -5)}]\ncmd: [/bin/true]\n` }))]))),
  ...(await Promise.all(readdirSync(join(packageRoot, 'examples')).map(async (e): Promise<[SchemaKind, unknown]> => ['main', await loaded(join(packageRoot, 'examples', e))]))),
  // The module as written: interpolating it would change only the text inside its strings.
  ['module', parse(read(join(import.meta.dirname, 'fixtures', 'modules', 'greeting', 'osv.module.yaml')))],
];

/** Every value of the example replaced, one at a time, by a value of each other shape. */
function replacements(doc: unknown): unknown[] {
  const out: unknown[] = [];
  const others = [42, -1, 1.5, 'x', '', true, null, [], ['x', 3], {}, { bogus: 1 }];
  const walk = (node: unknown, set: (v: unknown) => unknown): void => {
    for (const o of others) out.push(set(o));
    if (Array.isArray(node)) node.forEach((v, i) => walk(v, (x) => set(node.map((w, j) => (j === i ? x : w)))));
    else if (node !== null && typeof node === 'object') {
      for (const k of Object.keys(node)) walk((node as Record<string, unknown>)[k], (x) => set({ ...(node as object), [k]: x }));
      out.push(set({ ...(node as object), 'not-a-key': 1 }));
    }
  };
  walk(doc, (x) => x);
  return out;
}

const invalid: Array<[SchemaKind, unknown]> = [
  ...invalidCases.flatMap((c) => yamlFiles(c.files)),
  ...replacements(example).map((d): [SchemaKind, unknown] => ['main', d]),
  ...replacements(valid.at(-1)![1]).map((d): [SchemaKind, unknown] => ['module', d]),
];

/** What a validator says about `data`, every field of every error (the schema parts by location). */
function verdict(validators: Validators, kind: SchemaKind, data: unknown): unknown {
  const v = validators[kind];
  const ok = v(data);
  return {
    ok,
    errors: (v.errors ?? []).map(({ schema, parentSchema, data: at, ...rest }) => ({ ...rest, at, schema: JSON.stringify(schema), parent: schemaLocation(parentSchema) })),
  };
}

describe('the generated validators and the schemas compiled in the process', () => {
  const generated = generatedValidators();
  const compiled = compileValidators();

  it('are both there', () => {
    expect(generated, 'dist/validate-schemas.cjs is missing or stale: the test setup runs `npm run build`').toBeDefined();
  });

  it(`agree on ${valid.length} valid configurations`, () => {
    for (const [kind, data] of valid) {
      expect(verdict(compiled, kind, data)).toEqual({ ok: true, errors: [] });
      expect(verdict(generated!, kind, data)).toEqual({ ok: true, errors: [] });
    }
  });

  it(`give the same errors for ${invalid.length} invalid ones`, () => {
    const keywords = new Set<string>();
    let failing = 0;
    for (const [kind, data] of invalid) {
      const want = verdict(compiled, kind, data) as { ok: boolean; errors: Array<{ keyword: string }> };
      expect(verdict(generated!, kind, data)).toEqual(want);
      if (!want.ok) failing++;
      for (const e of want.errors) keywords.add(e.keyword);
    }
    // The corpus is worth something only if it fails, in many ways.
    expect(failing).toBeGreaterThan(invalid.length * 0.8);
    expect([...keywords].sort()).toEqual(expect.arrayContaining(['additionalProperties', 'enum', 'minLength', 'oneOf', 'pattern', 'propertyNames', 'required', 'type']));
  });

  it('give the same messages for every invalid configuration of the tests', async () => {
    const messages = async (): Promise<string[][]> => {
      const { loadConfig: load } = await import('../../src/config/index.js');
      const out: string[][] = [];
      for (const c of invalidCases) {
        const d = project(c.files);
        const r = await load({ cwd: d, env: c.env ?? {}, ...(c.config ? { configFile: c.config } : {}) });
        out.push(r.ok ? [] : r.error.errors.map((e) => errorLine(d, e)));
      }
      return out;
    };
    const withGenerated = await messages();
    vi.resetModules();
    vi.doMock('../../src/config/validators.js', async (original) => ({ ...(await original<object>()), generatedValidators: () => undefined }));
    try {
      expect(await messages()).toEqual(withGenerated);
    } finally {
      vi.doUnmock('../../src/config/validators.js');
      vi.resetModules();
    }
    expect(withGenerated).toEqual(invalidCases.map((c) => c.errors));
  });

  it('every location the messages name has content of its own (locations are found by content)', () => {
    const { main, module } = readSchemas();
    const count = new Map<string, number>();
    const walk = (n: unknown): void => {
      if (n === null || typeof n !== 'object') return;
      if (!Array.isArray(n)) count.set(JSON.stringify(n), (count.get(JSON.stringify(n)) ?? 0) + 1);
      for (const v of Object.values(n)) walk(v);
    };
    walk(main);
    walk(module);
    expect(NAMED_LOCATIONS.length).toBeGreaterThan(10);
    for (const loc of NAMED_LOCATIONS) {
      let part: unknown = main;
      for (const k of loc.split('/').slice(1)) part = (part as Record<string, unknown>)[k];
      expect(part, loc).toBeDefined();
      expect(count.get(JSON.stringify(part)), loc).toBe(1);
      expect(schemaLocation(part)).toBe(`osv.schema.json#${loc}`);
    }
  });
});
