// Tests that spawn `node bin/osv.js` need the CLI's bundles in dist/ (the start, each command's,
// the whole CLI) and the generated schema validators beside them (what `npm run build` makes). Build them once per
// run, only when a source file is newer than the last build.
import { execFileSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

function newestMtime(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

export default function setup(): void {
  const root = join(import.meta.dirname, '..', '..');
  let built = 0;
  try {
    built = Math.min(...['start.cjs', 'cli.cjs', 'validate-schemas.cjs'].map((f) => statSync(join(root, 'dist', f)).mtimeMs));
  } catch {
    built = 0;
  }
  if (built >= Math.max(newestMtime(join(root, 'src')), newestMtime(join(root, 'scripts')), newestMtime(join(root, 'schemas')))) return;
  // package.json's build script is the one list of build steps (tsc, then the bundle).
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: root, stdio: 'inherit' });
}
