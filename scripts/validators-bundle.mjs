// The generated validators as one self-contained CommonJS file: ajv's standalone code requires
// its runtime helpers (ucs2length) from node_modules/ajv, and resolving that package at every
// start cost about 2 ms; esbuild takes them into the file instead. Used by build-validators.mjs,
// and by the test that the built file is what the schemas generate.

import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';

/** `code` (ajv's standalone CommonJS) with the modules it requires bundled in. */
export async function bundleValidators(code) {
  const r = await build({
    stdin: { contents: code, resolveDir: fileURLToPath(new URL('.', import.meta.url)), sourcefile: 'validate-schemas.cjs', loader: 'js' },
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    write: false,
    logLevel: 'warning',
  });
  return r.outputFiles[0].text;
}
