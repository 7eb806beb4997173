// Kernel fixtures compiled by the tests: a freestanding non-PIE x86_64 executable stands in for
// loader-stripped.elf (same ELF type and machine as OSv's), a gcc-built shared object for
// libenviron.so, and a boot-sector image for loader.img.

import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const haveGcc = (() => {
  try {
    execFileSync('gcc', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

export function tempDir(tag: string): string {
  return fs.mkdtempSync(join(tmpdir(), `osv-up-${tag}-`));
}

/** A directory laid out like an OSv build directory; returns its path. */
export function fakeBuildDir(parent: string, name = 'release.x64', opts: { img?: boolean; elf?: boolean; env?: boolean } = {}): string {
  const dir = join(parent, name);
  fs.mkdirSync(dir, { recursive: true });
  const src = join(parent, `k-${name}.c`);
  if (opts.elf !== false) {
    fs.writeFileSync(src, `void _start(void) { for (;;) __asm__ volatile("hlt"); }\nconst char tag[] = "${name}";\n`);
    execFileSync('gcc', ['-nostdlib', '-static', '-no-pie', '-O1', '-o', join(dir, 'loader-stripped.elf'), src]);
  }
  if (opts.env !== false) {
    fs.writeFileSync(src, 'int environ_marker(void) { return 42; }\n');
    execFileSync('gcc', ['-shared', '-fPIC', '-o', join(dir, 'libenviron.so'), src]);
  }
  if (opts.img !== false) fs.writeFileSync(join(dir, 'loader.img'), fakeLoaderImg(name));
  return dir;
}

export function fakeLoaderImg(seed: string): Buffer {
  const b = Buffer.alloc(80_000);
  b.write(`boot code ${seed}`, 0);
  b[510] = 0x55;
  b[511] = 0xaa;
  b.write(`kernel ${seed}`, 65536);
  return b;
}
