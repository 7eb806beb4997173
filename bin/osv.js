#!/usr/bin/env node
// CommonJS (see bin/package.json), so that an up-to-date `osv build`, the command run most,
// never starts Node's ES-module loader: dist/fast-build.cjs is that path alone in one file
// (scripts/bundle-fast-path.mjs). Everything else is the ES-module CLI in dist/cli/, built by
// `npm install` through `prepare`.
'use strict';

function notBuilt() {
  process.stderr.write('osv: the CLI is not built; run `npm install` (or `npm run build`) in the osv-up checkout\n');
  process.exit(2);
}

let fast;
try {
  fast = require('../dist/fast-build.cjs');
} catch (err) {
  if (err && err.code === 'MODULE_NOT_FOUND' && String(err.message).includes('fast-build.cjs')) notBuilt();
  throw err;
}

fast
  .fastBuild(process.argv)
  .then((done) => done || import('../dist/cli/main.js').then((m) => m.main(process.argv)))
  .catch((err) => {
    if (err && err.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes('dist/cli/main.js')) notBuilt();
    throw err;
  });
