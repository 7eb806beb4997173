// Preloaded (node --require) by test/helpers/loaded-files.ts: at exit, reports on stderr which of
// osv's files in dist/ were loaded, which packages from node_modules, and whether Node's streams
// were (process.stdout and process.stderr load them when first used), which of Node's costly
// built-ins (crypto, zlib, http, child_process...) were loaded, and which of osv's files
// were compiled with their V8 code cache (src/cli/code-cache.ts compiles through vm.Script: the
// probe watches that; a file Node compiled itself is not listed). It writes by descriptor, so
// that its own report loads nothing.
'use strict';
const { writeSync } = require('node:fs');
const { join, sep } = require('node:path');

// dist/ of this checkout, or of the copy of osv that loaded-files.ts runs.
const dist = process.env.OSV_PROBE_DIST ?? join(__dirname, '..', '..', 'dist') + sep;
const vm = require('node:vm');
// Node's built-ins that take milliseconds to load (scripts/bundle-options.mjs loads them lazily).
const COSTLY = ['crypto', 'zlib', 'http', 'https', 'net', 'tls', 'dns', 'child_process'];
const codeCache = {};
const NodeScript = vm.Script;
vm.Script = class extends NodeScript {
  constructor(source, options) {
    super(source, options);
    const file = options?.filename;
    if (typeof file === 'string' && file.startsWith(dist)) codeCache[file.slice(dist.length)] = options.cachedData === undefined ? 'none' : this.cachedDataRejected ? 'rejected' : 'accepted';
  }
};
process.on('exit', () => {
  const files = Object.keys(require.cache);
  const own = files.filter((f) => f.startsWith(dist)).map((f) => f.slice(dist.length));
  const packages = [...new Set(files.flatMap((f) => /[\\/]node_modules[\\/]((?:@[^\\/]+[\\/])?[^\\/]+)[\\/]/.exec(f)?.[1] ?? []))];
  const streams = process.moduleLoadList.includes('NativeModule stream');
  const builtins = COSTLY.filter((m) => process.moduleLoadList.includes(`NativeModule ${m}`));
  writeSync(2, `\nLOADED ${JSON.stringify({ own, packages, streams, builtins, codeCache })}\n`);
});
