// The whole CLI: every command, each imported when it is the one run. bin/osv.js comes here
// (bundled as dist/cli.cjs) for help, --version and words that are not commands; a command's
// own run goes to its own bundle instead (start.ts). Each command module registers itself and
// imports its heavy stages lazily inside its action.

import type { CommandName } from './command-line.js';
import { runProgram, type CommandLoaders } from './program.js';

const COMMANDS: Required<CommandLoaders> = {
  up: () => import('./commands/up.js').then((m) => m.command),
  build: () => import('./commands/build.js').then((m) => m.command),
  test: () => import('./commands/test.js').then((m) => m.command),
  init: () => import('./commands/init.js').then((m) => m.command),
  validate: () => import('./commands/validate.js').then((m) => m.command),
  config: () => import('./commands/config.js').then((m) => m.command),
  schema: () => import('./commands/schema.js').then((m) => m.command),
  trace: () => import('./commands/trace.js').then((m) => m.command),
  resolve: () => import('./commands/resolve.js').then((m) => m.command),
  plan: () => import('./commands/plan.js').then((m) => m.command),
  manifest: () => import('./commands/manifest.js').then((m) => m.command),
  why: () => import('./commands/why.js').then((m) => m.command),
  check: () => import('./commands/check.js').then((m) => m.command),
  run: () => import('./commands/run.js').then((m) => m.command),
  inspect: () => import('./commands/inspect.js').then((m) => m.command),
  kernel: () => import('./commands/kernel.js').then((m) => m.command),
  pull: () => import('./commands/pull.js').then((m) => m.command),
  push: () => import('./commands/push.js').then((m) => m.command),
  export: () => import('./commands/export.js').then((m) => m.command),
  cache: () => import('./commands/cache.js').then((m) => m.command),
  volume: () => import('./commands/volume.js').then((m) => m.command),
} satisfies Record<CommandName, unknown>;

export const main = (argv: string[]): Promise<void> => runProgram(argv, COMMANDS);
