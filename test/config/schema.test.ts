// The schema is the documentation: every key described, with a default or examples, and
// strict everywhere. osv.config.example.yaml uses every key and validates; so do the
// built-in templates and what `osv init` writes.

import { afterAll, describe, expect, it } from 'vitest';
import { readFileSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import { loadConfig } from '../../src/config/index.js';
import { Ajv } from 'ajv';
import { AJV_OPTIONS, readSchemas } from '../../src/config/schema.js';
import { initText } from '../../src/config/init.js';
import { packageRoot, templatesDir } from '../../src/config/paths.js';
import { project, removeProjects } from './helpers.js';

afterAll(removeProjects);

type S = Record<string, unknown>;
const schemas = readSchemas();
const docs: Record<string, S> = { 'osv.schema.json': schemas.main, 'osv.module.schema.json': schemas.module };

/** Follow a $ref (local or into the other schema file). */
function deref(s: S, doc: string): { s: S; doc: string } {
  const ref = s['$ref'];
  if (typeof ref !== 'string') return { s, doc };
  const [file, pointer] = ref.split('#') as [string, string];
  const target = file || doc;
  let cur: unknown = docs[target];
  for (const part of pointer.split('/').slice(1)) cur = (cur as S)[part];
  return deref(cur as S, target);
}

/** Every property schema of a document: [path, own schema, resolved schema]. */
function properties(doc: string): Array<[string, S, S]> {
  const out: Array<[string, S, S]> = [];
  const seen = new Set<S>();
  const walk = (raw: S, d: string, at: string): void => {
    const { s, doc: sd } = deref(raw, d);
    if (seen.has(s)) return;
    seen.add(s);
    for (const [k, v] of Object.entries((s['properties'] as Record<string, S>) ?? {})) {
      out.push([`${at}${k}`, v, deref(v, sd).s]);
      walk(v, sd, `${at}${k}.`);
    }
    for (const key of ['items', 'additionalProperties', 'then', 'else'])
      if (s[key] && typeof s[key] === 'object') walk(s[key] as S, sd, key === 'items' ? at.replace(/\.$/, '[].') : key === 'additionalProperties' ? `${at}*.` : at);
    for (const b of (s['oneOf'] as S[]) ?? []) walk(b, sd, at);
  };
  walk(docs[doc]!, doc, '');
  return out;
}

describe('the schemas', () => {
  it('are valid draft-07 and compile in strict mode with the meta-schema check on', () => {
    const ajv = new Ajv({ ...AJV_OPTIONS, validateSchema: true });
    for (const [id, s] of Object.entries(docs)) {
      expect(ajv.validateSchema(s), `${id}: ${ajv.errorsText()}`).toBe(true);
      ajv.addSchema(s, id);
    }
    for (const id of Object.keys(docs)) expect(typeof ajv.getSchema(id)).toBe('function');
  });
});

describe.each(Object.keys(docs))('%s', (doc) => {
  it('describes every key, with a default or examples', () => {
    const props = properties(doc);
    expect(props.length).toBeGreaterThan(doc === 'osv.schema.json' ? 50 : 8);
    const has = (k: string, a: S, b: S): boolean => a[k] !== undefined || b[k] !== undefined;
    const missing = props.filter(([, own, res]) => !has('description', own, res) || !(has('default', own, res) || has('examples', own, res)));
    expect(missing.map(([p]) => p)).toEqual([]);
  });

  it('closes every object (additionalProperties: false or a typed map)', () => {
    const open: string[] = [];
    const walk = (v: unknown, at: string): void => {
      if (!v || typeof v !== 'object') return;
      const s = v as S;
      if (s['properties'] && s['additionalProperties'] !== false) open.push(at);
      if (s['type'] === 'object' && !s['properties'] && !s['additionalProperties'] && !s['if'] && !s['$ref']) open.push(at);
      for (const [k, c] of Object.entries(s)) if (k !== 'examples' && k !== 'default' && k !== 'if') walk(c, `${at}/${k}`);
    };
    walk(docs[doc], '#');
    expect(open).toEqual([]);
  });
});

describe('osv.config.example.yaml', () => {
  const file = path.join(packageRoot, 'osv.config.example.yaml');
  const text = readFileSync(file, 'utf8');

  it('starts with the editor schema line', () => {
    expect(text.split('\n')[0]).toBe('# yaml-language-server: $schema=./schemas/osv.schema.json');
  });

  it('validates', async () => {
    const r = await loadConfig({ cwd: packageRoot, configFile: file, env: {} });
    if (!r.ok) throw new Error(r.error.message);
    expect(r.value.name).toBe('example');
    expect(Object.keys(r.value.runs)).toEqual(['test']);
  });

  it('uses every key of the schema', () => {
    const data = parse(text) as unknown;
    const present = new Set<string>();
    const walk = (v: unknown, at: string): void => {
      if (Array.isArray(v)) v.forEach((x) => walk(x, at.replace(/\.$/, '[].')));
      else if (v && typeof v === 'object')
        for (const [k, c] of Object.entries(v)) {
          present.add(`${at}${k}`);
          walk(c, `${at}${k}.`);
        }
    };
    walk(data, '');
    const matches = (pattern: string): boolean => {
      const re = new RegExp(`^${pattern.replace(/[.[\]]/g, '\\$&').replace(/\*/g, '[^.\\[]+')}$`);
      return [...present].some((p) => re.test(p));
    };
    // $schema is for JSON configurations; kernel.path excludes kernel.version, and from excludes
    // sysroot, so they are shown in comments.
    const exempt = new Set(['$schema', 'kernel.path', 'from']);
    const unused = properties('osv.schema.json').map(([p]) => p).filter((p) => !exempt.has(p) && !matches(p));
    expect(unused).toEqual([]);
    expect(text).toMatch(/^#\s+path: \S+/m);
    expect(text).toMatch(/^# from: \S+/m);
  });
});

describe('docs/config.md', () => {
  it('names every key of both schemas', () => {
    const doc = readFileSync(path.join(packageRoot, 'docs/config.md'), 'utf8');
    const keys = new Set([...properties('osv.schema.json'), ...properties('osv.module.schema.json')].map(([p]) => p.split('.').pop()!.replace('[]', '')));
    keys.delete('$schema');
    expect([...keys].filter((k) => !new RegExp(`[\`{ .]${k.replace('$', '\\$')}[\`},:= ]`).test(doc))).toEqual([]);
  });
});

describe('built-in templates', () => {
  const names = readdirSync(templatesDir).filter((n) => n.endsWith('.yaml')).map((n) => n.slice(0, -5));

  it.each(names)('template:%s validates and starts with the schema line', async (name) => {
    expect(readFileSync(path.join(templatesDir, `${name}.yaml`), 'utf8').split('\n')[0]).toBe('# yaml-language-server: $schema=../schemas/osv.schema.json');
    const dir = project({ 'osv.yaml': `extends: [template:${name}]\ncmd: [/bin/true]\n` });
    // template:java needs a JVM: JAVA_HOME names one (else the java on PATH; none is an error, test/templates).
    const r = await loadConfig({ cwd: dir, env: name === 'java' ? { JAVA_HOME: '/opt/jdk' } : {} });
    if (!r.ok) throw new Error(r.error.message);
    expect(r.value.loadedFiles).toContain(path.join(templatesDir, `${name}.yaml`));
  });
});

describe('osv init text', () => {
  it('validates and keeps every word of the command exactly', async () => {
    const words = ['./build/app', '--flag=a:b', 'two words', '#hash', '-dash', '123', 'true', "it's", '"q"', 'a: b', '${NOT_A_VAR}', '$HOME', 'back\\slash', 'uni\u00e9'];
    const dir = project({});
    const text = initText({ dir, command: words, template: 'native' });
    const p = project({ 'osv.yaml': text });
    const r = await loadConfig({ cwd: p, env: {} });
    if (!r.ok) throw new Error(r.error.message);
    expect(r.value.defaultRun.cmd).toEqual(words);
  });
});
