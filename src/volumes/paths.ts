// Where named volumes live: runtime state, so not in the project's .osv/ (build output that
// may be cleaned) nor in the cache (which may be emptied), but in the user's data directory,
// one directory per project: $XDG_DATA_HOME/osv-up/volumes/<dir name>-<hash of its path>/,
// holding <volume>.ext4 files and project.json (which project, and what uses each volume).

import { createHash } from 'node:crypto';
import { realpathSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, isAbsolute, join, relative, sep } from 'node:path';
import { OsvError } from '../diagnostics/error.js';
import { err, ok, type Result } from '../diagnostics/result.js';

/** A volume name: a DNS label (the schema's pattern), so a file name that cannot leave its directory. */
export const VOLUME_NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

export const PROJECT_META = 'project.json';

/** $XDG_DATA_HOME/osv-up/volumes (default ~/.local/share/osv-up/volumes). */
export function volumesRoot(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env['XDG_DATA_HOME'];
  const base = xdg && isAbsolute(xdg) ? xdg : join(env['HOME'] || homedir(), '.local', 'share');
  return join(base, 'osv-up', 'volumes');
}

/** The project's directory as it really is (a symlinked path names the same project). */
export function projectPath(dir: string): string {
  try {
    return realpathSync(dir);
  } catch {
    return dir;
  }
}

/** The project's volume directory: readable (its name) and unique (a hash of its real path). */
export function projectVolumesDir(dir: string, env: NodeJS.ProcessEnv = process.env): string {
  const real = projectPath(dir);
  const name = basename(real).replace(/[^A-Za-z0-9._-]+/g, '-').slice(0, 40) || 'project';
  return join(volumesRoot(env), `${name}-${createHash('sha256').update(real).digest('hex').slice(0, 12)}`);
}

/** The file of volume `name` of the project in `dir`; a name that would leave the directory is refused. */
export function volumeFile(dir: string, name: string, env: NodeJS.ProcessEnv = process.env): Result<string, OsvError> {
  const home = projectVolumesDir(dir, env);
  const file = join(home, `${name}.ext4`);
  const rel = relative(home, file);
  if (!VOLUME_NAME.test(name) || rel.startsWith('..') || rel.includes(sep))
    return err(
      new OsvError({
        code: 'volume.bad-name',
        message: `"${name}" is not a volume name: it would put the volume's file outside the project's volume directory ${home}`,
        hint: 'volume names are lowercase letters, digits and "-" (at most 63)',
      }),
    );
  return ok(file);
}
