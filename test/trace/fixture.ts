// Fixture programs for the trace tests, compiled with gcc into a temp dir (never committed):
// a program that dlopen()s a plugin (which needs a library of its own) and reads a data file.

import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export { hasGcc } from '../helpers/tools.js';

export const hasStrace = fs.existsSync('/usr/bin/strace') || fs.existsSync('/bin/strace');

export interface TraceFixture {
  dir: string;
  prog: string;
  plugin: string;
  dep: string;
  data: string;
  /** A program that forks and sleeps until killed (for --duration). */
  sleeper: string;
}

const PROG = String.raw`
#include <dlfcn.h>
#include <stdio.h>
int main(int argc, char **argv) {
  if (argc < 3) { fprintf(stderr, "usage: prog PLUGIN DATA\n"); return 2; }
  void *h = dlopen(argv[1], RTLD_NOW);
  if (!h) { fprintf(stderr, "%s\n", dlerror()); return 1; }
  int (*plug)(void) = (int (*)(void))dlsym(h, "plug");
  FILE *f = fopen(argv[2], "r");
  if (!f) { perror(argv[2]); return 1; }
  char line[128] = {0};
  if (!fgets(line, sizeof line, f)) line[0] = 0;
  fclose(f);
  printf("plug=%d data=%s", plug(), line);
  return 0;
}
`;
const PLUGIN = 'int dep(void);\nint plug(void) { return dep() + 1; }\n';
const DEP = 'int dep(void) { return 41; }\n';
// Forks, so that stopping it must end a tree; the child ignores SIGTERM (SIGKILL after the grace period).
const SLEEPER = '#include <signal.h>\n#include <unistd.h>\nint main(void) { if (fork() == 0) signal(SIGTERM, SIG_IGN); for (;;) pause(); }\n';

export function buildFixture(): TraceFixture {
  const dir = fs.mkdtempSync(join(tmpdir(), 'osv-trace-fx-'));
  const w = (name: string, text: string): string => {
    fs.writeFileSync(join(dir, name), text);
    return join(dir, name);
  };
  const gcc = (...args: string[]): void => {
    execFileSync('gcc', args, { cwd: dir, stdio: 'pipe' });
  };
  w('prog.c', PROG);
  w('plugin.c', PLUGIN);
  w('dep.c', DEP);
  w('sleeper.c', SLEEPER);
  gcc('-shared', '-fPIC', '-Wl,-soname,libdep.so', '-o', 'libdep.so', 'dep.c');
  gcc('-shared', '-fPIC', '-Wl,-soname,libplug.so', '-o', 'libplug.so', 'plugin.c', '-L.', '-ldep', "-Wl,-rpath,$ORIGIN");
  gcc('-o', 'prog', 'prog.c', '-ldl');
  gcc('-o', 'sleeper', 'sleeper.c');
  const data = w('app.conf', 'greeting=hello\n');
  return { dir, prog: join(dir, 'prog'), plugin: join(dir, 'libplug.so'), dep: join(dir, 'libdep.so'), data, sleeper: join(dir, 'sleeper') };
}
