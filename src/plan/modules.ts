// Modules: an osv-up module's executables, libraries and files are planned like the root
// configuration's, with the module as provenance; an OSv-style module's usr.manifest is read
// with OSv's manifest semantics (${MODULE_DIR}, ${OSV_BASE}, %(libgcc_s_dir)s, **, &, ->, !).

import { OsvError } from '../diagnostics/error.js';
import type { ModuleSpec } from '../config/types.js';
import { posix } from 'node:path';
import { readManifest } from '../manifest/read.js';
import type { PlanContext } from './context.js';
import { fromModule, planExecutable, planFile, planLibrary } from './specs.js';
import type { PlanEntry } from './types.js';

export interface ModuleVars {
  /** Directory of the sysroot's libgcc_s.so.1, for `%(libgcc_s_dir)s`. */
  libgccDir?: string;
}

export function planModule(ctx: PlanContext, m: ModuleSpec, vars: ModuleVars): void {
  if (m.kind === 'osv-up') {
    const prov = fromModule(m.name);
    m.executables.forEach((s, i) => planExecutable(ctx, s, `executables[${i}]`, prov));
    m.libraries.forEach((s, i) => planLibrary(ctx, s, `libraries[${i}]`, prov));
    m.files.forEach((s, i) => planFile(ctx, s, `files[${i}]`, prov));
    return;
  }
  let text: string;
  try {
    text = ctx.fs.readFile(m.manifest).toString('utf8');
  } catch (e) {
    ctx.errors.push(
      new OsvError({
        code: 'plan.module-manifest',
        message: `module ${m.name}: cannot read ${m.manifest}: ${(e as Error).message}`,
        hint: "an OSv module needs a usr.manifest (run the module's `make module` first if it generates one)",
        source: m.source,
      }),
    );
    return;
  }
  const percentVars: Record<string, string> = { ...ctx.config.vars };
  if (vars.libgccDir !== undefined) percentVars['libgcc_s_dir'] = vars.libgccDir;
  const read = readManifest(text, {
    fs: ctx.fs,
    file: m.manifest,
    baseDir: m.dir,
    vars: percentVars,
    dollarVars: { MODULE_DIR: m.dir, OSV_BASE: ctx.config.vars['OSV_BASE'] ?? ctx.env['OSV_BASE'] },
  });
  if (!read.ok) {
    ctx.errors.push(...read.error.errors);
    return;
  }
  ctx.warnings.push(...read.value.warnings);
  const key = posix.basename(m.manifest);
  for (const e of read.value.entries) {
    const why = [{ kind: 'module' as const, module: m.name, key, source: { file: m.manifest, line: e.line, column: 1 } }];
    let entry: PlanEntry;
    if (e.kind === 'file') entry = { guest: e.guest, kind: 'file', host: e.host, size: e.stat.size, mtimeMs: e.stat.mtimeMs, ino: e.stat.ino, mode: e.stat.mode, why };
    else if (e.kind === 'dir') entry = { guest: e.guest, kind: 'dir', why };
    else entry = { guest: e.guest, kind: 'symlink', target: e.target, why };
    const conflict = ctx.table.add(entry);
    if (conflict) ctx.errors.push(conflict);
  }
}
