// Preloaded (node --require) by test/helpers/loaded-files.ts: at exit, reports on stderr which of
// osv's files in dist/ were loaded, and which packages from node_modules.
'use strict';
const { join, sep } = require('node:path');

const dist = join(__dirname, '..', '..', 'dist') + sep;
process.on('exit', () => {
  const files = Object.keys(require.cache);
  const own = files.filter((f) => f.startsWith(dist)).map((f) => f.slice(dist.length));
  const packages = [...new Set(files.flatMap((f) => /[\\/]node_modules[\\/]((?:@[^\\/]+[\\/])?[^\\/]+)[\\/]/.exec(f)?.[1] ?? []))];
  process.stderr.write(`\nLOADED ${JSON.stringify({ own, packages })}\n`);
});
