// The schema's yes/no validators come from the package's own dist/ (made by `npm run build`),
// never from a cache directory (issue #20): a planted ~/.cache/osv-up/schema/validate-*.cjs, as
// a poisoned or restored CI cache would hold, is not run.

import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fastChecks, generateValidators, VALIDATORS_FILE } from '../../src/config/fast-validate.js';
import { mainSchemaPath, moduleSchemaPath } from '../../src/config/paths.js';

const OSV = join(import.meta.dirname, '..', '..', 'bin', 'osv.js');

describe('the fast schema validators', () => {
  const dir = mkdtempSync(join(tmpdir(), 'osv-fast-validate-'));
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
      const r = spawnSync(process.execPath, [OSV, 'validate'], { cwd: project, encoding: 'utf8', env });
      expect(r.status, r.stderr).toBe(0);
      for (const f of readdirSync(schemaCache)) writeFileSync(join(schemaCache, f), payload);
    }
    expect(existsSync(marker)).toBe(false);
    expect(readdirSync(schemaCache)).toEqual([`validate-${old}.cjs`]);
  });

  it('the built validators are for the current schemas, and are used', () => {
    expect(existsSync(VALIDATORS_FILE)).toBe(true);
    expect(readFileSync(VALIDATORS_FILE, 'utf8')).toBe(generateValidators());
    const checks = fastChecks();
    expect(checks?.main({ cmd: ['/bin/true'] })).toBe(true);
    expect(checks?.main({ cmd: 'not a list', nope: 1 })).toBe(false);
  });
});
