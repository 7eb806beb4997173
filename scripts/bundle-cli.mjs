// The CLI as CommonJS bundles, which src/cli/start.ts picks from: dist/commands/<name>.cjs for
// each command (the program with that one command, and what the command imports),
// dist/program.cjs without any (for `osv --version`) and dist/cli.cjs with every command (for
// help and words that are not commands). One
// file instead of a graph of ES modules: Node resolves, reads and links about a hundred modules
// no more, and never starts its ES-module loader; and a command's file holds only its own code,
// which Node must read and parse at every start. A command's heavy stages stay lazy (its action
// imports them with import(), which esbuild turns into a module initialized on first use).
// Run by `npm run build` after tsc.

import { readFileSync } from 'node:fs';
import { build } from 'esbuild';
import { bundledPackages, bundleOptions } from './bundle-options.mjs';

const { COMMAND_NAMES } = await import('../dist/cli/command-line.js');

// cosmiconfig (loaded only to search for a configuration other than osv.yaml) would bring in
// TypeScript, 10 MB; ajv is loaded only where the generated validators are stale.
const external = ['cosmiconfig', 'ajv', 'ajv/*'];

/** The program with one command (or none), as an entry module in src/cli/. */
const programWith = (name) => ({
  dir: 'src/cli',
  contents: [
    "import { runProgram } from './program.ts';",
    ...(name ? [`import { command } from './commands/${name}.ts';`] : []),
    `export const main = (argv: string[]) => runProgram(argv, { ${name ? `${JSON.stringify(name)}: async () => command` : ''} });`,
  ].join('\n'),
});

const results = await Promise.all([
  build({ ...bundleOptions('src/cli/main.ts', 'dist/cli.cjs'), external }),
  build({ ...bundleOptions(programWith(undefined), 'dist/program.cjs'), external }),
  ...COMMAND_NAMES.map((name) => build({ ...bundleOptions(programWith(name), `dist/commands/${name}.cjs`), external })),
]);

// A devDependency is not installed for users: code that reaches one is a mistake.
const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const dev = [...new Set(results.flatMap((r) => bundledPackages(r.metafile)))].filter((p) => p in (pkg.devDependencies ?? {}));
if (dev.length > 0) {
  console.error(`bundle-cli: the CLI must not import devDependencies, but it now reaches:\n  ${dev.join('\n  ')}`);
  process.exit(1);
}
