// The `osv resolve` command's work: run the stage, print, and with -w write .osv/append.manifest.

import { writeFileSync } from 'node:fs';
import { ensureOwnDir } from '../atomic.js';
import { join } from 'node:path';
import type { Arch } from '../config/types.js';
import { OsvError, ExitCode } from '../diagnostics/error.js';
import { nodeHostFs } from '../hostfs.js';
import { formatHostManifest, hostManifest } from './host-manifest.js';
import { writeStderr, writeStdout } from '../output.js';
import { fileElfReadCache } from './read-cache.js';
import { sysrootNotDirectory } from './sysroot.js';

export interface ResolveCliOptions {
  library?: boolean;
  recursive?: boolean;
  realPrefix?: boolean;
  write?: boolean;
  ignoreMissing?: boolean;
  json?: boolean;
  explain?: boolean;
  sysroot: string;
  arch?: string;
  libraryPath: string[];
  hiddenSymbols?: boolean;
  kernelFilter: boolean;
  optional: string[];
}

const hostArch = (): Arch => (process.arch === 'arm64' ? 'aarch64' : 'x86_64');

export async function resolveCommand(target: string, sub: string | undefined, opts: ResolveCliOptions): Promise<void> {
  const arch = opts.arch ?? hostArch();
  if (arch !== 'x86_64' && arch !== 'aarch64') {
    throw new OsvError({ code: 'usage.arch', message: `unknown architecture "${arch}"`, hint: 'use x86_64 or aarch64', exitCode: ExitCode.usage });
  }
  // An empty name would be taken as the current directory ("/**: <cwd>/**").
  if (target.trim() === '') throw new OsvError({ code: 'usage.empty-target', message: `the target is ${target === '' ? 'empty' : 'blank'}`, hint: 'give an ELF file, a directory, a program name on PATH, or a library soname with -l', exitCode: ExitCode.usage });
  if (sub !== undefined && sub.trim() === '') throw new OsvError({ code: 'usage.empty-target', message: `the subdirectory is ${sub === '' ? 'empty' : 'blank'}`, hint: `name a subdirectory of ${target}, or leave it out`, exitCode: ExitCode.usage });
  const notDir = sysrootNotDirectory(nodeHostFs, opts.sysroot);
  if (notDir !== undefined) {
    throw new OsvError({ code: 'usage.sysroot', message: `--sysroot ${opts.sysroot} ${notDir}; the sysroot must be a directory`, hint: 'give the root directory of a file tree (an unpacked root file system), or leave --sysroot out to resolve in /', exitCode: ExitCode.usage });
  }
  const elfReads = fileElfReadCache();
  const r = hostManifest(
    target,
    sub,
    {
      library: Boolean(opts.library),
      recursive: Boolean(opts.recursive),
      realPrefix: Boolean(opts.realPrefix),
      ignoreMissing: Boolean(opts.ignoreMissing),
      sysroot: opts.sysroot,
      arch,
      libraryPath: opts.libraryPath.flatMap((p) => p.split(':')).filter(Boolean),
      hiddenSymbols: Boolean(opts.hiddenSymbols),
      kernelFilter: opts.kernelFilter,
      optional: opts.optional,
      cwd: process.cwd(),
      pathEnv: process.env['PATH'] ?? '/usr/bin:/bin',
      elfReads,
    },
    nodeHostFs,
  );
  elfReads.flush();
  if (!r.ok) throw r.error;
  const m = r.value;
  const text = formatHostManifest(m);
  if (opts.json) {
    const { closure, ...rest } = m;
    writeStdout(JSON.stringify({ ok: true, ...rest, ...(closure ? { closure } : {}) }, null, 2) + '\n');
  } else if (opts.explain) {
    const { explainClosure } = await import('./explain.js');
    writeStdout(m.closure ? explainClosure(m.closure) : text);
  } else {
    writeStdout(text);
  }
  for (const miss of m.closure?.missing.filter((x) => x.optional) ?? []) {
    if (!opts.json && !(m.mode === 'library' && m.target.length === 0)) writeStderr(`note: optional library ${miss.soname} not found (needed by ${miss.chain.join(' -> ') || 'the command line'})\n`);
  }
  if (opts.write) {
    // manifest_from_host.sh -w writes into an OSv source tree (build/last/); we write into the
    // project's .osv/ directory instead.
    const dir = join(process.cwd(), '.osv');
    ensureOwnDir(dir);
    writeFileSync(join(dir, 'append.manifest'), text);
    if (m.cmdline) writeFileSync(join(dir, 'append_cmdline'), m.cmdline + '\n');
  }
}
