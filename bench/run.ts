// `npm run bench`: runs every bench/<area>.ts that exports `bench()`, in a fixed order, or only
// the areas named on the command line (`npm run bench -- rofs plan`).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const areas = ['startup', 'config', 'resolve', 'plan', 'rofs', 'build', 'from', 'push', 'check', 'runner', 'up', 'verbose', 'trace'];
const wanted = process.argv.slice(2);

for (const area of wanted.length ? wanted : areas) {
  const file = join(import.meta.dirname, `${area}.ts`);
  if (!existsSync(file)) {
    console.log(`\n## ${area}: no benchmark (bench/${area}.ts is absent)`);
    continue;
  }
  console.log(`\n## ${area}`);
  const mod = (await import(pathToFileURL(file).href)) as { bench?: () => Promise<void> };
  if (typeof mod.bench !== 'function') throw new Error(`bench/${area}.ts does not export bench()`);
  await mod.bench();
}
