// Which host tools the tests can use; a test that needs a missing one skips and says why.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** Whether `cmd --version` runs (the tool is installed and on PATH). */
export const hasTool = (cmd: string): boolean => spawnSync(cmd, ['--version'], { stdio: 'ignore' }).status === 0;

/** gcc compiles the ELF fixtures; no fixture binary is ever committed. */
export const hasGcc = hasTool('gcc');

/** Whether a program is on PATH (for tools without a --version, such as htpasswd). */
export const onPath = (cmd: string): boolean => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;

/** Whether gcc links `source` with `flags` here (a probe in a scratch directory). */
function gccLinks(flags: string[], source: string): boolean {
  if (!hasGcc) return false;
  const dir = mkdtempSync(join(tmpdir(), 'osv-gcc-probe-'));
  try {
    writeFileSync(join(dir, 'probe.c'), source);
    return spawnSync('gcc', [...flags, join(dir, 'probe.c'), '-o', join(dir, 'probe')], { stdio: 'ignore' }).status === 0;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const once = (f: () => boolean): (() => boolean) => {
  let v: boolean | undefined;
  return () => (v ??= f());
};

/** gcc -m32 builds a 32-bit x86 shared object (no libc needed; Debian: gcc-multilib). */
export const gccM32 = once(() => gccLinks(['-m32', '-shared', '-nostdlib', '-fPIC'], 'int probe(void) { return 32; }\n'));

/** gcc -static links a program (needs libc.a: Debian's libc6-dev has it). */
export const gccStatic = once(() => gccLinks(['-static'], 'int main(void) { return 0; }\n'));
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
