// `npm run mutate [-- MODULE...]`: Stryker on each module named (all of them without a name),
// one after the other, each with only its own tests (scripts/mutate-modules.mjs). Reports go to
// reports/mutation/MODULE.html and .json; the last line of each run is its score.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { modules } from './mutate-modules.mjs';

const wanted = process.argv.slice(2);
const unknown = wanted.filter((m) => !(m in modules));
if (unknown.length > 0) {
  console.error(`mutate: unknown module ${unknown.join(', ')}; modules: ${Object.keys(modules).join(', ')}`);
  process.exit(2);
}
let failed = false;
for (const name of wanted.length > 0 ? wanted : Object.keys(modules)) {
  console.log(`\n## mutate ${name}: ${modules[name].mutate.join(' ')}`);
  // The tests' temporary files, and their compiled fixtures built once for all mutants
  // (test/helpers/fixture-cache.ts), live in one directory removed after the run.
  const scratch = mkdtempSync(join(tmpdir(), `osv-mutate-${name}-`));
  try {
    const r = spawnSync('npx', ['stryker', 'run', 'stryker.config.mjs'], {
      stdio: 'inherit',
      env: { ...process.env, OSV_MUTATE_MODULE: name, OSV_MUTATE_TESTS: modules[name].tests.join(','), OSV_FIXTURE_CACHE: scratch, TMPDIR: scratch },
    });
    if (r.status !== 0) failed = true;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}
process.exit(failed ? 1 : 0);
