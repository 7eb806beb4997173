// The first code of every osv command: bin/osv.js requires it bundled into one CommonJS file,
// dist/start.cjs (scripts/bundle-start.mjs). It picks what answers the command line:
// - an up-to-date `osv build`, the command run most: the no-op path here (fast-build.ts);
// - `osv push REF` of an up-to-date build: its own small bundle, dist/fast-push.cjs (fast-push.ts);
// - any other command: that command's own bundle, dist/commands/<name>.cjs, the program with
//   this one command and only what it imports (scripts/bundle-cli.mjs);
// - `osv --version`: the program without commands, dist/program.cjs;
// - help and words that are not commands: the whole CLI, dist/cli.cjs.
// Each is one file: Node never starts its ES-module loader, nor reads code the command line
// does not use; and each is loaded with the V8 code cache the build made for it (code-cache.ts).

import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { installCodeCache } from './code-cache.js';
import { asksVersionOnly, commandWord, isCommandName } from './command-line.js';
import { fastBuild } from './fast-build.js';
import { parsePushArgs } from './push-args.js';

/** The bundle that runs `argv` when the no-op path does not, relative to this module in dist/cli/. */
export function bundleFor(argv: string[]): string {
  const word = commandWord(argv);
  if (isCommandName(word)) return `../commands/${word}.cjs`;
  return asksVersionOnly(argv) ? '../program.cjs' : '../cli.cjs';
}

/** dist/, where the bundles and their code caches are. */
export const distDir = fileURLToPath(new URL('../', import.meta.url));

/**
 * A fast path has answered: its output handed to the system (it waits for output.ts's flushed())
 * and nothing of it left running (a push's uploads end even when one fails). Exit with
 * process.exitCode without tearing down V8's heap and Node's environment, which took about 5 ms
 * of a warm `osv push` (21 alternating rounds).
 */
const exitNow = (): never => process.exit();

export async function start(argv: string[]): Promise<void> {
  const word = commandWord(argv);
  if (word === 'build' && (await fastBuild(argv))) exitNow();
  // A bundle loaded from its code cache is compiled outside Node's loader, which then has no
  // source map for it: OSV_DEBUG's stack traces (bin/osv.js) are worth the slower start.
  if (!process.env['OSV_DEBUG']) installCodeCache(distDir);
  const require = createRequire(import.meta.url);
  const push = word === 'push' ? parsePushArgs(argv.slice(2)) : undefined;
  if (push && (await (require('../fast-push.cjs') as typeof import('./fast-push.js')).fastPush(push))) exitNow();
  const cli = require(bundleFor(argv)) as { main(argv: string[]): Promise<void> };
  await cli.main(argv);
}

// For the build's training run (scripts/code-cache.mjs), which loads this file as osv does.
export { cacheBytes, cacheFileOf, installCodeCache, keptScripts, stampOf, STAMP } from './code-cache.js';
