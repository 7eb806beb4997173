// Temporary project directories for configuration tests.

import { mkdtempSync, mkdirSync, rmSync, writeFileSync, realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { loadConfig } from '../../src/config/index.js';
import { templatesDir } from '../../src/config/paths.js';
import type { OsvError } from '../../src/diagnostics/error.js';

const made: string[] = [];

/** Remove every directory `project` made (call from afterAll). */
export function removeProjects(): void {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
}

/** A fresh directory holding `files` (paths relative to it; parents created). */
export function project(files: Record<string, string | Buffer>): string {
  const dir = realpathSync(mkdtempSync(path.join(tmpdir(), 'osv-config-')));
  made.push(dir);
  for (const [name, text] of Object.entries(files)) {
    const p = path.join(dir, name);
    if (name.endsWith('/')) {
      mkdirSync(p, { recursive: true });
      continue;
    }
    mkdirSync(path.dirname(p), { recursive: true });
    writeFileSync(p, text);
  }
  return dir;
}

/** `osv.yaml:3:9 message`: file relative to the project (templates as template:NAME). */
export function errorLine(dir: string, e: OsvError): string {
  if (!e.source) return e.message;
  const f = e.source.file;
  const file = f.startsWith(templatesDir + path.sep) ? `template:${path.basename(f, '.yaml')}` : path.relative(dir, f);
  return `${file}:${e.source.line}:${e.source.column} ${e.message}`;
}

export async function loadErrors(dir: string, opts: { env?: Record<string, string>; configFile?: string } = {}): Promise<string[]> {
  const r = await loadConfig({ cwd: dir, env: opts.env ?? {}, ...(opts.configFile ? { configFile: opts.configFile } : {}) });
  if (r.ok) return [];
  return r.error.errors.map((e) => errorLine(dir, e));
}
