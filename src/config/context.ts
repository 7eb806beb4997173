// What one configuration load shares: the host file system, the environment, the texts read
// (for positions and code frames), and which files are built-in templates.

import * as path from 'node:path';
import { fileKindName, LINK_TO_NOTHING, type HostFs } from '../hostfs.js';
import type { OsvError, Source } from '../diagnostics/error.js';
import { SourceTexts, type Pos } from './texts.js';
import { configError } from './parse.js';

export interface LoadContext {
  fs: HostFs;
  env: Record<string, string | undefined>;
  texts: SourceTexts;
  templatesDir: string;
  /** Directory of the root configuration file: the base for paths written in templates. */
  rootDir: string;
  templateFiles: Set<string>;
  errors: OsvError[];
  /** Positions (posKey) of values that could not be interpolated: later checks keep quiet there. */
  poisoned: Set<string>;
  /** Values `${env:NAME}` took from the environment: masked wherever osv-up prints (src/secrets.ts). */
  secrets: Set<string>;
}

export function newContext(init: Omit<LoadContext, 'texts' | 'templateFiles' | 'errors' | 'poisoned' | 'secrets'>): LoadContext {
  return { ...init, texts: new SourceTexts(), templateFiles: new Set(), errors: [], poisoned: new Set(), secrets: new Set() };
}

/** `file:line:column`, to compare positions. */
export const posKey = (s: Source | undefined): string => (s ? `${s.file}:${s.line}:${s.column}` : '');

export function report(ctx: LoadContext, code: string, message: string, pos: (Source & Partial<Pos>) | undefined, hint?: string): void {
  ctx.errors.push(configError(ctx.texts, code, message, pos, hint));
}

/** The directory relative paths written in `file` are resolved against. */
export function baseDirOf(ctx: LoadContext, file: string): string {
  return ctx.templateFiles.has(file) ? ctx.rootDir : path.dirname(file);
}

/** How a file is named in messages: relative to the project when inside it. */
export function displayFile(ctx: LoadContext, file: string): string {
  if (ctx.templateFiles.has(file)) return `template:${path.basename(file, '.yaml')}`;
  const rel = path.relative(ctx.rootDir, file);
  return rel && !rel.startsWith('..') ? rel : file;
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Read a file through HostFs as text; an unreadable file is an error value, not a throw. */
export function readText(ctx: LoadContext, file: string): { text: string; badByteAt?: number } | { error: string } {
  const st = ctx.fs.stat(file);
  if (!st) return { error: ctx.fs.lstat(file)?.kind === 'symlink' ? `is ${LINK_TO_NOTHING}` : 'not found' };
  if (st.kind === 'dir') return { error: 'is a directory' };
  // Never opened: a FIFO would block the command until something writes to it.
  if (st.kind !== 'file') return { error: `is ${fileKindName(st)}, not a file` };
  try {
    const bytes = ctx.fs.readFile(file);
    try {
      return { text: utf8.decode(bytes) };
    } catch {
      // Not UTF-8: decode anyway so that the error can point at the first bad character.
      const text = bytes.toString('utf8');
      return { text, badByteAt: text.indexOf('\uFFFD') };
    }
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return { error: code === 'EACCES' ? 'permission denied' : `cannot be read (${code ?? (e as Error).message})` };
  }
}
