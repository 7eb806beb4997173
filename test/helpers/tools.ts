// Which host tools the tests can use; a test that needs a missing one skips and says why.
import { spawnSync } from 'node:child_process';

/** Whether `cmd --version` runs (the tool is installed and on PATH). */
export const hasTool = (cmd: string): boolean => spawnSync(cmd, ['--version'], { stdio: 'ignore' }).status === 0;

/** gcc compiles the ELF fixtures; no fixture binary is ever committed. */
export const hasGcc = hasTool('gcc');

/** Whether a program is on PATH (for tools without a --version, such as htpasswd). */
export const onPath = (cmd: string): boolean => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
