#!/usr/bin/env node
// CommonJS (see bin/package.json), so that no command starts Node's ES-module loader. Every
// command starts in dist/start.cjs (src/cli/start.ts, bundled): it answers an up-to-date
// `osv build` itself, and hands any other command line to the one bundle that runs it. All are
// built from src/ by `npm install` through `prepare` (`npm run build`).
'use strict';

// bin/osv started Node without NODE_EXTRA_CA_CERTS (src/net/trust.ts reads it when it connects):
// the programs osv starts get the environment the user gave.
if (process.env.OSV_DEFERRED_CA_CERTS && !process.env.NODE_EXTRA_CA_CERTS) process.env.NODE_EXTRA_CA_CERTS = process.env.OSV_DEFERRED_CA_CERTS;

/** A bundle of dist/ is missing (osv requires its own by a relative path): say how to build. */
function notBuilt(err) {
  if (!(err && err.code === 'MODULE_NOT_FOUND' && /^Cannot find module '\.\.\/[^']*\.cjs'/.test(String(err.message)))) throw err;
  process.stderr.write('osv: the CLI is not built; run `npm install` (or `npm run build`) in the osv-up checkout\n');
  process.exit(2);
}

// OSV_DEBUG prints a bug's stack trace (src/cli/render.ts): with the source maps beside the
// minified bundles, its frames name src/ files and lines. Node reads a map only when enabled.
const debug = Boolean(process.env.OSV_DEBUG);
if (debug) process.setSourceMapsEnabled(true);

let start;
try {
  start = require('../dist/start.cjs');
} catch (err) {
  notBuilt(err);
}
start.start(process.argv).catch(notBuilt);
