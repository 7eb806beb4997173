// The entry point. An `osv build` with nothing to do is answered before commander (and the rest
// of the CLI) is loaded; everything else goes to the commander program.

import { fastBuild } from './fast-build.js';

export async function main(argv: string[]): Promise<void> {
  if (await fastBuild(argv)) return;
  const { runProgram } = await import('./program.js');
  await runProgram(argv);
}
