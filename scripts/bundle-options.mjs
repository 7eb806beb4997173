// What every bundle in dist/ is built with (scripts/bundle-start.mjs, scripts/bundle-cli.mjs):
// CommonJS for Node 20, from src/ (the one source), and `import.meta.url` as each module would
// see it compiled by tsc into dist/. Modules find the package's files from their own URL
// (config/paths.ts: two levels up; version.ts: one), so inside a bundle each keeps the URL of
// its own dist/ file, and the bundle may live at any depth.

import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(fileURLToPath(new URL('.', import.meta.url)), '..');

/** The sha256 of every file under src/ (by path, in order) and of package.json: src/source-id.ts. */
function sourceId() {
  const h = createHash('sha256');
  const files = readdirSync(join(ROOT, 'src'), { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => join(e.parentPath ?? e.path, e.name)).sort();
  for (const f of [...files, join(ROOT, 'package.json')]) h.update(`${relative(ROOT, f)}\0`).update(readFileSync(f)).update('\0');
  return h.digest('hex');
}
const SOURCE_ID = sourceId();

/** `import.meta.url` of src/X.ts -> the URL of dist/X.js, computed from the bundle's __dirname. */
function importMetaUrlPlugin(outfile) {
  const bundleDir = dirname(join(ROOT, outfile));
  return {
    name: 'import-meta-url-of-dist-module',
    setup(build) {
      build.onLoad({ filter: /[\\/]src[\\/].*\.ts$/ }, async (args) => {
        const source = await readFile(args.path, 'utf8');
        if (!source.includes('import.meta.url')) return undefined;
        const compiled = join(ROOT, 'dist', relative(join(ROOT, 'src'), args.path)).replace(/\.ts$/, '.js');
        const url = `__distModuleUrl(${JSON.stringify(relative(bundleDir, compiled))})`;
        return { contents: source.replaceAll('import.meta.url', url), loader: 'ts' };
      });
    },
  };
}

/**
 * Node built-ins that cost milliseconds to load and that most commands never use: crypto (with
 * the stream modules it loads, about 9 ms here), child_process (5), http and https (10), zlib.
 * Loading one is then left to the first read of one of its members, for every import written
 * `node:NAME` (osv's own, and commander's child_process, only for git-style subcommands, which
 * osv does not have): the OCI client's http, a digest's crypto. Each such import gets a module
 * with a getter per export (named from this Node's own module), which esbuild's interop copies
 * as getters. So a member must be read where it is used: a default import of one of these
 * (`import stream from 'node:stream'`, then `extends stream`) would get the getters' object,
 * not the module's function. Packages that require the bare name (listr2's `stream`) load it
 * as they always did.
 */
export const LAZY_BUILTINS = ['node:child_process', 'node:crypto', 'node:zlib', 'node:http', 'node:https', 'node:net', 'node:tls', 'node:dns', 'node:stream', 'node:stream/promises'];

const lazyBuiltins = {
  name: 'lazy-builtins',
  setup(build) {
    build.onResolve({ filter: /^node:/ }, (args) => (LAZY_BUILTINS.includes(args.path) && args.namespace !== 'lazy-builtin' ? { path: args.path, namespace: 'lazy-builtin' } : undefined));
    build.onLoad({ filter: /.*/, namespace: 'lazy-builtin' }, async (args) => {
      const names = Object.keys(await import(args.path)).filter((k) => k !== 'default');
      const load = `const load = () => require(${JSON.stringify(args.path)});`;
      const getters = names.map((k) => `Object.defineProperty(module.exports, ${JSON.stringify(k)}, { enumerable: true, get: () => load()[${JSON.stringify(k)}] });`);
      return { contents: [load, ...getters].join('\n'), loader: 'js' };
    });
  },
};

/**
 * esbuild options for one CommonJS bundle at `outfile` (relative to the package root) of `entry`:
 * a file (relative to the package root) or `{ contents, dir }`, TypeScript source written in dir.
 */
export function bundleOptions(entry, outfile) {
  return {
    absWorkingDir: ROOT,
    ...(typeof entry === 'string' ? { entryPoints: [entry] } : { stdin: { contents: entry.contents, resolveDir: join(ROOT, entry.dir), sourcefile: join(entry.dir, 'entry.ts'), loader: 'ts' } }),
    outfile,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    // `await import(x)` becomes require(x): a bundled module is initialized when first asked
    // for, and an external one is loaded by require, never through Node's ES-module loader.
    supported: { 'dynamic-import': false },
    define: { OSV_SOURCE_ID: JSON.stringify(SOURCE_ID) },
    banner: { js: "const __distModuleUrl = (p) => require('node:url').pathToFileURL(require('node:path').join(__dirname, p)).href;" },
    plugins: [importMetaUrlPlugin(outfile), lazyBuiltins],
    metafile: true,
    logLevel: 'warning',
    // Minified: a smaller bundle is read, and its code cache deserialized, faster (measured with
    // bench/startup.ts's in-process timing: `osv plan` 144 -> 125 ms, validate 86 -> 79). The
    // map beside each bundle gives OSV_DEBUG's stack traces their source positions
    // (bin/osv.js); it is read only then. Only positions: no sources inside, so it stays small.
    minify: true,
    sourcemap: 'linked',
    sourcesContent: false,
  };
}

/** The packages (under node_modules/) a bundle took in. */
export const bundledPackages = (metafile) => [...new Set(Object.keys(metafile.inputs).flatMap((p) => /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(p)?.[1] ?? []))];
