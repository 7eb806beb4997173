// Which host tools the tests can use; a test that needs a missing one skips and says why.
import { spawnSync } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** Whether `cmd --version` runs (the tool is installed and on PATH). */
export const hasTool = (cmd: string): boolean => spawnSync(cmd, ['--version'], { stdio: 'ignore' }).status === 0;

/** gcc compiles the ELF fixtures; no fixture binary is ever committed. */
export const hasGcc = hasTool('gcc');
// Said in every test file that imports this one, so each skip has its reason beside it.
if (!hasGcc) console.warn('skipped: gcc is not installed (Debian package gcc): tests that compile fixtures do not run');

/** Debian's python3 (python3.X behind /usr/bin/python3) with its standard library, or undefined. */
export function debianPython(): { bin: string; version: string; lib: string } | undefined {
  if (!existsSync('/usr/bin/python3')) return undefined;
  const real = realpathSync('/usr/bin/python3');
  const version = /python(\d+\.\d+)$/.exec(real)?.[1];
  const lib = version ? join(dirname(dirname(real)), 'lib', `python${version}`) : undefined;
  return version && lib && existsSync(join(lib, 'os.py')) ? { bin: real, version, lib } : undefined;
}
