// A project compiled with gcc into a temp dir: a program whose library (found through its
// RUNPATH $ORIGIN/lib) needs another library, a dlopen plugin, and a data tree with symlinks.

import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gcc, writeFiles } from './helpers.js';

export interface Project {
  dir: string;
  app: string;
  libfoo: string;
  libbar: string;
  plugin: string;
  data: string;
  outside: string;
}

export function buildProject(dir: string): Project {
  const lib = join(dir, 'lib');
  mkdirSync(lib, { recursive: true });
  const libbar = gcc(join(lib, 'libbar.so.1'), 'int bar(void) { return 2; }\n', ['-shared', '-fPIC', '-Wl,-soname,libbar.so.1']);
  const libfoo = gcc(join(lib, 'libfoo.so.1'), 'int bar(void);\nint foo(void) { return bar() + 1; }\n', [
    '-shared', '-fPIC', '-Wl,-soname,libfoo.so.1', `-L${lib}`, '-l:libbar.so.1', "-Wl,-rpath,$ORIGIN", '-Wl,--enable-new-dtags',
  ]);
  const app = gcc(join(dir, 'app'), '#include <stdio.h>\nint foo(void);\nint main(void) { printf("%d\\n", foo()); return 0; }\n', [
    '-fPIE', '-pie', `-L${lib}`, '-l:libfoo.so.1', "-Wl,-rpath,$ORIGIN/lib", '-Wl,--enable-new-dtags',
  ]);
  const plugin = gcc(join(dir, 'plugin.so'), 'int bar(void);\nint plugin(void) { return bar(); }\n', [
    '-shared', '-fPIC', `-L${lib}`, '-l:libbar.so.1', "-Wl,-rpath,$ORIGIN/lib", '-Wl,--enable-new-dtags',
  ]);
  const data = join(dir, 'data');
  writeFiles(data, { 'a.txt': 'a\n', 'sub/b.txt': 'b\n', 'skip.log': 'log\n', 'sub/also.log': 'log\n' });
  mkdirSync(join(data, 'empty'));
  symlinkSync('a.txt', join(data, 'link-in'));
  const outside = join(dir, 'outside.txt');
  writeFileSync(outside, 'outside\n');
  symlinkSync('../outside.txt', join(data, 'link-out'));
  return { dir, app, libfoo, libbar, plugin, data, outside };
}
