// A volume's files copied out to a host directory, without mounting anything (no root needed):
// debugfs's rdump. Used by `osv volume export` and to make the read-only copy of a volume.

import { existsSync, readdirSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { ExitCode, OsvError } from '../diagnostics/error.js';
import { err, ok, type Result } from '../diagnostics/result.js';
import { runTool, TOOLS } from '../image/tools.js';

/** Copy the files of the volume file `path` (called `name` in messages) into the existing directory `to`. */
export async function dumpVolume(path: string, name: string, to: string): Promise<Result<void, OsvError>> {
  const r = await runTool(TOOLS.debugfs, ['-R', `rdump / "${to.replaceAll('"', '""')}"`, path], { why: `to copy the files of volume "${name}"`, failCode: 'volume.dump-failed' });
  if (!r.ok) return r;
  // debugfs reports its failures on stderr and exits 0: anything there but its banner and the
  // ownership another user cannot give is an error.
  const problems = r.value.stderr.split('\n').filter((l) => l.trim() !== '' && !/^debugfs \d/.test(l) && !/while changing ownership/.test(l));
  if (problems.length > 0) return err(new OsvError({ code: 'volume.dump-failed', message: `debugfs could not copy all files of volume "${name}" to ${to}`, details: problems.slice(0, 5), exitCode: ExitCode.buildFailed }));
  // ext4's lost+found belongs to the file system, not to the program.
  const lf = join(to, 'lost+found');
  if (existsSync(lf) && readdirSync(lf).length === 0) rmdirSync(lf);
  return ok(undefined);
}
