// Compiled fixtures are built by each test run and removed after it, except under
// `npm run mutate`: Stryker reruns a test file once per mutant, and rebuilding its fixtures
// with gcc would cost more than the tests. scripts/mutate.mjs then sets OSV_FIXTURE_CACHE to a
// directory of its own for the module's run: the first build is recorded there (the fixtures
// are compiled by gcc from the tests' own sources, which Stryker does not mutate) and reused.

import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** `build()`, or under `npm run mutate` the result of its first call in this mutation run. */
export async function fixtureOnce<T extends { cleanup(): void }>(name: string, build: () => Promise<T>): Promise<T> {
  const cache = process.env['OSV_FIXTURE_CACHE'];
  if (!cache) return build();
  const record = join(cache, `${name}.json`);
  if (existsSync(record)) return { ...(JSON.parse(readFileSync(record, 'utf8')) as T), cleanup: () => undefined };
  const built = await build();
  const { cleanup: _kept, ...data } = built;
  writeFileSync(`${record}.${process.pid}`, JSON.stringify(data));
  renameSync(`${record}.${process.pid}`, record);
  return { ...built, cleanup: () => undefined };
}
