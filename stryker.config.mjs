// Mutation testing of the modules whose mistakes a user cannot see (issue #18): `npm run mutate`
// runs every module in turn, `npm run mutate -- resolve` one of them. Not in CI: a module takes
// from minutes (rofs) to most of an hour (resolve) on two cores.
// scripts/mutate.mjs sets OSV_MUTATE_MODULE; this file turns it into Stryker's options.
import { modules } from './scripts/mutate-modules.mjs';

const name = process.env['OSV_MUTATE_MODULE'];
const m = modules[name ?? ''];
if (!m) throw new Error(`stryker.config.mjs: OSV_MUTATE_MODULE must be one of ${Object.keys(modules).join(', ')} (run it through \`npm run mutate\`)`);

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  plugins: ['@stryker-mutator/vitest-runner'],
  vitest: { configFile: 'vitest.stryker.config.ts', related: false },
  // Each mutant runs only the tests that reached its code.
  coverageAnalysis: 'perTest',
  mutate: m.mutate,
  // Type-invalid mutants are compiled away by esbuild, not rejected: no checker (tsc per mutant is too slow here).
  concurrency: 2,
  timeoutMS: 60_000,
  timeoutFactor: 3,
  // One sandbox folder per module, so that two modules can run at once; neither copies the other's.
  tempDirName: `.stryker-tmp/${name}`,
  ignorePatterns: ['.stryker-tmp', 'reports', 'dist'],
  cleanTempDir: true,
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: `reports/mutation/${name}.html` },
  jsonReporter: { fileName: `reports/mutation/${name}.json` },
  // Incremental: a rerun tests only mutants whose code or tests changed since the last one.
  incremental: true,
  incrementalFile: `reports/mutation/${name}.incremental.json`,
  thresholds: { high: 90, low: 80, break: null },
};
