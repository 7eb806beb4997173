// The up-to-date `osv build` (src/cli/fast-build.ts and what it imports) as one CommonJS file,
// dist/fast-build.cjs, which bin/osv.js requires before anything else. One CommonJS file skips
// Node's ES-module loader and a dozen module loads: about 15 ms of a no-op build's ~120 ms.
// Run by `npm run build` after tsc.

import { build } from 'esbuild';

const result = await build({
  entryPoints: ['src/cli/fast-build.ts'],
  outfile: 'dist/fast-build.cjs',
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  // Only a configuration search without osv.yaml loads it, and lazily.
  external: ['cosmiconfig'],
  // version.ts finds package.json from import.meta.url: the bundle's own URL, from the same depth.
  banner: { js: "const __importMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
  define: { 'import.meta.url': '__importMetaUrl' },
  metafile: true,
  logLevel: 'warning',
});

// The path must stay small: a dependency pulled in by a new import would be loaded on every no-op.
const deps = Object.keys(result.metafile.inputs).filter((p) => p.includes('node_modules'));
if (deps.length > 0) {
  console.error(`bundle-fast-path: the no-op path must not import dependencies, but it now reaches:\n  ${deps.join('\n  ')}`);
  process.exit(1);
}
