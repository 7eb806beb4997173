// What every bundle in dist/ is built with (scripts/bundle-start.mjs, scripts/bundle-cli.mjs):
// CommonJS for Node 20, from src/ (the one source), and `import.meta.url` as each module would
// see it compiled by tsc into dist/. Modules find the package's files from their own URL
// (config/paths.ts: two levels up; version.ts: one), so inside a bundle each keeps the URL of
// its own dist/ file, and the bundle may live at any depth.

import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';

const ROOT = join(import.meta.dirname, '..');

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
 * commander requires node:child_process at its top, only to run git-style executable
 * subcommands, which osv does not have; loading it (with net and the stream modules) is a
 * large part of a small command's start. In a bundle, commander gets it on first use instead.
 */
const lazyChildProcessForCommander = {
  name: 'lazy-child-process-for-commander',
  setup(build) {
    build.onResolve({ filter: /^node:child_process$/ }, (args) => (/[\\/]node_modules[\\/]commander[\\/]/.test(args.importer) ? { path: 'child_process', namespace: 'lazy-builtin' } : undefined));
    build.onLoad({ filter: /.*/, namespace: 'lazy-builtin' }, () => ({
      contents: "module.exports = new Proxy({}, { get: (_, name) => require('node:child_process')[name] });",
      loader: 'js',
      resolveDir: ROOT,
    }));
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
    plugins: [importMetaUrlPlugin(outfile), lazyChildProcessForCommander],
    metafile: true,
    logLevel: 'warning',
  };
}

/** The packages (under node_modules/) a bundle took in. */
export const bundledPackages = (metafile) => [...new Set(Object.keys(metafile.inputs).flatMap((p) => /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(p)?.[1] ?? []))];
