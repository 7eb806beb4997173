// `osv init -- PROGRAM ARGS`: which runtime PROGRAM is, and the draft of its osv.yaml. Python
// (any python3* interpreter, versioned names and venvs included), node and java get their
// template with the arguments mapped into it; everything else gets template:native with the
// command as given.

import { locateProgram, isElf, type Program } from './program.js';
import type { ShimContext } from './shims.js';
import type { InitDraft } from './draft.js';
import { isPython, pythonDraft } from './python.js';
import { isNode, nodeDraft } from './node.js';
import { isJava, javaDraft } from './java.js';

export function detect(ctx: ShimContext, argv: [string, ...string[]]): InitDraft {
  const [given, ...args] = argv;
  const located = locateProgram(ctx, given);
  if (!located.ok) return native(argv, `${located.why}: nothing to recognise`, []);
  const p = located.program;
  if (isPython(p)) return withNotes(pythonDraft(ctx.fs, p, args, ctx.cwd), p);
  if (isNode(p)) return withNotes(nodeDraft(ctx.fs, p, args, ctx.cwd), p);
  if (isJava(p)) return withNotes(javaDraft(ctx.fs, p, args, ctx.cwd, ctx.env), p);
  const kind = isElf(ctx.fs, p.real) ? 'a native program' : 'not an ELF program (OSv runs ELF executables only)';
  return native(argv, `${given} is ${kind}${p.real !== given ? ` (${p.real})` : ''}`, p.notes);
}

/** The command as given, under template:native. */
export function native(argv: string[], why: string, notes: string[]): InitDraft {
  return { runtime: 'native', why, notes, vars: [], files: [], env: {}, cmd: argv };
}

const withNotes = (d: InitDraft, p: Program): InitDraft => ({ ...d, notes: [...p.notes, ...d.notes] });

