// Building Config objects directly (what the loader would produce) and compiling ELF fixtures.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { defaultMounts, type Config, type ExecutableSpec, type FileSpec, type LibrarySpec, type RunConfig, type RunSettings } from '../../src/config/types.js';
import type { Source } from '../../src/diagnostics/error.js';

export const src = (line = 1, column = 1, file = '/project/osv.yaml'): Source => ({ file, line, column });

export const runSettings = (over: Partial<RunSettings> = {}): RunSettings => ({
  hypervisor: 'qemu',
  memory: 512 * 1024 * 1024,
  cpus: 1,
  ports: [],
  accel: 'auto',
  network: { kind: 'user' },
  volumes: [],
  kernelArgs: [],
  ...over,
});

export const runConfig = (cmd: string[] | undefined, over: Partial<RunConfig> = {}): RunConfig => ({
  ...(cmd ? { cmd } : {}),
  env: {},
  run: runSettings(),
  source: src(2, 1),
  ...over,
});

export interface ConfigOver extends Partial<Omit<Config, 'defaultRun'>> {
  cmd?: string[];
  env?: Record<string, string>;
  cwd?: string;
  kernelArgs?: string[];
}

/** A Config as the loader would produce it; `dir` defaults to a directory that does not exist. */
export function makeConfig(over: ConfigOver = {}): Config {
  const { cmd, env, cwd, kernelArgs, ...rest } = over;
  const dir = rest.dir ?? '/project';
  return {
    file: join(dir, 'osv.yaml'),
    dir,
    name: 'test',
    arch: 'x86_64',
    sysroot: '/',
    filesystem: 'rofs',
    kernel: { hiddenSymbols: false },
    image: { output: 'disk', format: 'raw', mounts: defaultMounts(rest.filesystem ?? 'rofs') },
    libraryPath: [],
    executables: [],
    libraries: [],
    files: [],
    modules: [],
    vars: {},
    defaultRun: runConfig(cmd, { env: env ?? {}, ...(cwd !== undefined ? { cwd } : {}), run: runSettings({ kernelArgs: kernelArgs ?? [] }) }),
    runs: {},
    loadedFiles: [join(dir, 'osv.yaml')],
    sources: new Map(),
    ...rest,
    secrets: rest.secrets ?? [],
  };
}

export const exe = (s: string, dest?: string, line = 5): ExecutableSpec => ({ src: s, ...(dest ? { dest } : {}), source: src(line, 3) });
export const lib = (name: string, over: Partial<LibrarySpec> = {}): LibrarySpec => ({ name, optional: false, source: src(7, 3), ...over });
export const copy = (s: string, dest: string, over: Partial<Extract<FileSpec, { kind: 'copy' }>> = {}): FileSpec => ({
  kind: 'copy',
  src: s,
  dest,
  exclude: [],
  optional: false,
  resolve: true,
  source: src(9, 3),
  ...over,
});
export const link = (dest: string, target: string): FileSpec => ({ kind: 'link', dest, link: target, source: src(11, 3) });
export const dir = (dest: string, mode?: number): FileSpec => ({ kind: 'dir', dest, ...(mode !== undefined ? { mode } : {}), source: src(12, 3) });

export function tempDir(prefix = 'osv-plan-'): { path: string; cleanup: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) };
}

export function writeFiles(root: string, files: Record<string, string>): void {
  for (const [rel, content] of Object.entries(files)) {
    const p = join(root, rel);
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, content);
  }
}

/** Makes temporary directories holding `files`; `cleanup` removes every one it made (for afterAll). */
export function tempTrees(prefix: string): { make: (files?: Record<string, string>) => string; cleanup: () => void } {
  const made: Array<{ cleanup: () => void }> = [];
  return {
    make(files = {}) {
      const d = tempDir(prefix);
      made.push(d);
      writeFiles(d.path, files);
      return d.path;
    },
    cleanup: () => made.forEach((d) => d.cleanup()),
  };
}

export { hasGcc } from '../helpers/tools.js';

/** Compile C source with gcc into `out`; `args` are extra gcc arguments (-shared, -L, -l...). */
export function gcc(out: string, source: string, args: string[] = []): string {
  const c = `${out}.c`;
  writeFileSync(c, source);
  execFileSync('gcc', ['-o', out, c, ...args], { stdio: ['ignore', 'ignore', 'inherit'] });
  return out;
}
