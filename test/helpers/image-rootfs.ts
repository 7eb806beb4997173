// Root file systems for test images, from this host's files: a program compiled here (placed
// at a path that does not exist on the host) with the shared libraries ldd lists, in a
// Debian-like merged-/usr layout (/lib -> usr/lib), without an ld.so.cache.

import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export const GREET_PATH = '/opt/only-in-image/bin/greet';

export const GREET_SOURCE = `#include <stdio.h>
#include <stdlib.h>
int main(int argc, char **argv) {
  printf("%s from inside the image:", getenv("GREETING") ? getenv("GREETING") : "(no GREETING)");
  for (int i = 1; i < argc; i++) printf(" %s", argv[i]);
  printf("\\n");
  return 0;
}
`;

/** Compile a C source with the host's gcc (as a PIE, which OSv runs). */
export function compile(work: string, name: string, source: string): string {
  const c = join(work, `${name}.c`);
  const out = join(work, name);
  writeFileSync(c, source);
  execFileSync('gcc', ['-O2', '-fPIE', '-pie', '-o', out, c]);
  return out;
}

/** The merged-/usr skeleton Debian images have: /lib, /lib64 and /bin as links into /usr. */
export function debianSkeleton(rootfs: string): void {
  for (const d of ['usr/lib/x86_64-linux-gnu', 'usr/lib64', 'usr/bin', 'etc']) mkdirSync(join(rootfs, d), { recursive: true });
  symlinkSync('usr/lib', join(rootfs, 'lib'));
  symlinkSync('usr/lib64', join(rootfs, 'lib64'));
  symlinkSync('usr/bin', join(rootfs, 'bin'));
}

/** Put a host ELF program at `guest` with every library ldd lists (by their path in /usr). */
export function addProgram(rootfs: string, program: string, guest: string): void {
  mkdirSync(dirname(join(rootfs, guest)), { recursive: true });
  copyFileSync(program, join(rootfs, guest));
  execFileSync('chmod', ['755', join(rootfs, guest)]);
  const ldd = execFileSync('ldd', [program], { encoding: 'utf8' });
  for (const m of ldd.matchAll(/(\/\S+) \(0x/g)) {
    const lib = m[1]!;
    const usr = lib.startsWith('/usr/') ? lib : `/usr${lib}`;
    mkdirSync(dirname(join(rootfs, usr)), { recursive: true });
    copyFileSync(realpathSync(lib), join(rootfs, usr));
  }
  const gcc = realpathSync('/lib/x86_64-linux-gnu/libgcc_s.so.1');
  copyFileSync(gcc, join(rootfs, 'usr/lib/x86_64-linux-gnu/libgcc_s.so.1'));
}
