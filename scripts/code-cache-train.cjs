// One training run of scripts/code-cache.mjs: `osv ARGS` loaded as bin/osv.js loads it, with every
// bundle compiled through the code cache's hook and kept; at exit, what V8 compiled for each
// stamped bundle (top level and every function the run called) is written as its cache.
// `--warm-up ARGS` only runs the command (filling osv's own caches, so that the run after it
// compiles what a repeated command runs, not the first run's work).
'use strict';
const { readFileSync, renameSync, writeFileSync } = require('node:fs');
const { join, sep } = require('node:path');

const start = require('../dist/start.cjs');
const warmUp = process.argv[2] === '--warm-up';
start.installCodeCache(join(__dirname, '..', 'dist') + sep, true);
process.on('exit', () => {
  if (warmUp) return;
  for (const [file, script] of start.keptScripts()) {
    const stamp = start.stampOf(readFileSync(file, 'utf8'));
    if (stamp === undefined) continue;
    const tmp = `${start.cacheFileOf(file)}.${process.pid}.tmp`;
    writeFileSync(tmp, start.cacheBytes(stamp, script.createCachedData()));
    renameSync(tmp, start.cacheFileOf(file));
  }
});
start.start(['node', 'osv', ...process.argv.slice(warmUp ? 3 : 2)]).catch(() => undefined);
