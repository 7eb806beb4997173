// The vitest configuration Stryker runs (`npm run mutate`): only the in-process test files of the
// module being mutated (scripts/mutate.mjs passes them in OSV_MUTATE_TESTS), and no CLI build: a
// test that spawns bin/osv.js runs dist/, which Stryker does not mutate, so it could kill nothing.
import { defineConfig } from 'vitest/config';

const include = (process.env['OSV_MUTATE_TESTS'] ?? '').split(',').filter(Boolean);
if (include.length === 0) throw new Error('vitest.stryker.config.ts: run it through `npm run mutate` (OSV_MUTATE_TESTS is not set)');

export default defineConfig({
  test: {
    include,
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
