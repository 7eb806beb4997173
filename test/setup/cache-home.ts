// The tests' cache directory: one temporary XDG_CACHE_HOME for the whole run (set before the
// workers start, so every test and every osv it spawns uses it), removed at the end. Tests used
// to fill the user's ~/.cache/osv-up with entries for fixture directories that no longer exist.
// Tests that need a cache of their own still set XDG_CACHE_HOME themselves.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export default function setup(): () => void {
  const dir = mkdtempSync(join(tmpdir(), 'osv-test-cache-'));
  process.env['XDG_CACHE_HOME'] = dir;
  return () => rmSync(dir, { recursive: true, force: true });
}
