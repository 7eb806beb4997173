// Preloaded (node --require) by test/helpers/loaded-files.ts: at exit, reports on stderr which of
// osv's files in dist/ were loaded, which packages from node_modules, and whether Node's streams
// were (process.stdout and process.stderr load them when first used). It writes by descriptor,
// so that its own report loads nothing.
'use strict';
const { writeSync } = require('node:fs');
const { join, sep } = require('node:path');

const dist = join(__dirname, '..', '..', 'dist') + sep;
process.on('exit', () => {
  const files = Object.keys(require.cache);
  const own = files.filter((f) => f.startsWith(dist)).map((f) => f.slice(dist.length));
  const packages = [...new Set(files.flatMap((f) => /[\\/]node_modules[\\/]((?:@[^\\/]+[\\/])?[^\\/]+)[\\/]/.exec(f)?.[1] ?? []))];
  const streams = process.moduleLoadList.includes('NativeModule stream');
  writeSync(2, `\nLOADED ${JSON.stringify({ own, packages, streams })}\n`);
});
