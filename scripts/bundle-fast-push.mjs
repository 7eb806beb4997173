// The fast path of `osv push` (src/cli/fast-push.ts) as one CommonJS file, dist/fast-push.cjs,
// which the start (dist/start.cjs) requires for `osv push REF` before the command's own bundle.
// It holds the up-to-date check, the image's assembly and the registry client, not the build.
// Node built-ins that only some pushes use (a credential helper's child process, gzip for a layer
// not made before) are loaded on first use, as in every bundle (bundle-options.mjs).
// Run by `npm run build` after tsc.

import { build } from 'esbuild';
import { bundledPackages, bundleOptions } from './bundle-options.mjs';

const options = bundleOptions('src/cli/fast-push.ts', 'dist/fast-push.cjs');
// cosmiconfig: only a configuration search without osv.yaml loads it, lazily (as in dist/start.cjs).
const result = await build({ ...options, external: ['cosmiconfig'] });

// No package: the path must stay small (a dependency pulled in by a new import would load at every push).
const deps = bundledPackages(result.metafile);
if (deps.length > 0) {
  console.error(`bundle-fast-push: the fast push path must not import packages, but it now reaches:\n  ${deps.join('\n  ')}`);
  process.exit(1);
}
