// The start of every command (src/cli/start.ts and what it imports, the no-op build's path
// among it) as one CommonJS file, dist/start.cjs, which bin/osv.js requires before anything
// else. One CommonJS file skips Node's ES-module loader and a dozen module loads: about 15 ms
// of a no-op build's ~120 ms. Run by `npm run build` after tsc.

import { build } from 'esbuild';
import { bundledPackages, bundleOptions } from './bundle-options.mjs';

const result = await build({
  ...bundleOptions('src/cli/start.ts', 'dist/start.cjs'),
  // Only a configuration search without osv.yaml loads it, and lazily.
  external: ['cosmiconfig'],
});

// The path must stay small: a dependency pulled in by a new import would be loaded by every command.
const deps = bundledPackages(result.metafile);
if (deps.length > 0) {
  console.error(`bundle-start: the start and the no-op path must not import dependencies, but they now reach:\n  ${deps.join('\n  ')}`);
  process.exit(1);
}
