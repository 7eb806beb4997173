// The fast path of `osv push` (src/cli/fast-push.ts) as one CommonJS file, dist/fast-push.cjs,
// which the start (dist/start.cjs) requires for `osv push REF` before the command's own bundle.
// It holds the up-to-date check, the image's assembly and the registry client, not the build.
// Node built-ins that only some pushes use (a credential helper's child process, gzip for a layer
// not made before, the stream helpers of a pull) are loaded on first use, not at the start.
// Run by `npm run build` after tsc.

import { build } from 'esbuild';
import { bundledPackages, bundleOptions } from './bundle-options.mjs';

const LAZY = ['node:child_process', 'node:zlib', 'node:stream', 'node:stream/promises', 'node:crypto'];

/**
 * `import { x } from 'node:zlib'` as a module whose members load node:zlib when first read: a
 * getter per export (named here from this Node's own module), which esbuild's interop copies as
 * getters.
 */
const lazyBuiltins = {
  name: 'lazy-builtins-for-fast-push',
  setup(b) {
    b.onResolve({ filter: /^node:/ }, (args) => (LAZY.includes(args.path) && args.namespace !== 'lazy-builtin' ? { path: args.path, namespace: 'lazy-builtin' } : undefined));
    b.onLoad({ filter: /.*/, namespace: 'lazy-builtin' }, async (args) => {
      const names = Object.keys(await import(args.path)).filter((k) => k !== 'default');
      const load = `const load = () => require(${JSON.stringify(args.path)});`;
      const getters = names.map((k) => `Object.defineProperty(module.exports, ${JSON.stringify(k)}, { enumerable: true, get: () => load()[${JSON.stringify(k)}] });`);
      return { contents: [load, ...getters].join('\n'), loader: 'js' };
    });
  },
};

const options = bundleOptions('src/cli/fast-push.ts', 'dist/fast-push.cjs');
// cosmiconfig: only a configuration search without osv.yaml loads it, lazily (as in dist/start.cjs).
const result = await build({ ...options, external: ['cosmiconfig'], plugins: [lazyBuiltins, ...options.plugins] });

// No package: the path must stay small (a dependency pulled in by a new import would load at every push).
const deps = bundledPackages(result.metafile);
if (deps.length > 0) {
  console.error(`bundle-fast-push: the fast push path must not import packages, but it now reaches:\n  ${deps.join('\n  ')}`);
  process.exit(1);
}
