// YAML text -> positioned tree, with syntax errors reported like every other error:
// file:line:column, the offending line, and a caret.

import { parseDocument } from 'yaml';
import { OsvError } from '../diagnostics/error.js';
import { fromYaml, type PNode } from './tree.js';
import { toSource, type Pos, type SourceTexts } from './texts.js';
import type { Source } from '../diagnostics/error.js';

/** Why the YAML parser stopped, in words a user can act on (keyed by the parser's error code). */
const SYNTAX_HINTS: Record<string, string> = {
  DUPLICATE_KEY: 'each key may appear once per map; merge the two entries',
  BAD_INDENT: 'check the indentation: nested keys need more spaces than their parent, and tabs are not allowed',
  TAB_AS_INDENT: 'indent with spaces; YAML does not allow tabs for indentation',
  MISSING_CHAR: 'a bracket, brace or quote is not closed',
  MULTIPLE_DOCS: 'a configuration file holds one YAML document; remove the extra `---`',
  BLOCK_AS_IMPLICIT_KEY: 'a key must fit on one line; is a `:` missing or extra?',
  MULTILINE_IMPLICIT_KEY: 'a key must fit on one line; is a `:` missing or extra?',
  UNEXPECTED_TOKEN: 'check the quoting and the indentation around this spot',
};

export function configError(
  texts: SourceTexts,
  code: string,
  message: string,
  pos: (Source & { offset?: number; end?: number }) | undefined,
  hint?: string,
): OsvError {
  return new OsvError({
    code,
    message,
    ...(hint ? { hint } : {}),
    ...(pos ? { source: toSource(pos), details: texts.frame(pos) } : {}),
  });
}

export interface Parsed {
  tree: PNode | undefined;
  errors: OsvError[];
}

/** Parse one configuration file's text. JSON files go through here too (JSON is YAML). */
export function parseConfigText(file: string, text: string, texts: SourceTexts): Parsed {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  texts.add(file, body);
  const doc = parseDocument(body, { prettyErrors: false, uniqueKeys: true, strict: true });
  const errors: OsvError[] = [];
  // After a real mistake the parser reports follow-on errors ("Unexpected ... token") on the
  // same line: the first error of each line is the one worth reading.
  const lines = new Set<number>();
  for (const e of doc.errors) {
    let at = e.pos[0];
    // An unclosed quote is reported where the input ends; point at the quote that opened it.
    const quote = e.code === 'MISSING_CHAR' ? /closing (["'])quote/.exec(e.message)?.[1] : undefined;
    if (quote) at = Math.max(0, body.lastIndexOf(quote, Math.min(at, body.length) - 1));
    const pos = texts.pos(file, at, at === e.pos[0] ? e.pos[1] : at + 1);
    if (lines.has(pos.line)) continue;
    lines.add(pos.line);
    const message =
      e.code === 'DUPLICATE_KEY'
        ? `duplicate key ${quoteAt(body, e.pos[0], e.pos[1])}`
        : e.code === 'MULTIPLE_DOCS'
          ? 'YAML syntax error: a second document starts here'
          : /call stack/i.test(e.message)
            ? 'YAML syntax error: values are nested too deeply'
            : `YAML syntax error: ${firstSentence(e.message)}`;
    errors.push(configError(texts, e.code === 'DUPLICATE_KEY' ? 'config.duplicate-key' : 'config.syntax', message, pos, SYNTAX_HINTS[e.code]));
  }
  // What the parser only warns of changes what the file means: an unknown tag (`name: !foo bar`)
  // is dropped and the value read as a plain string, an unknown directive ignored.
  for (const w of doc.warnings) {
    const pos = texts.pos(file, w.pos[0], w.pos[1]);
    if (lines.has(pos.line)) continue;
    lines.add(pos.line);
    const message = w.code === 'TAG_RESOLVE_FAILED' ? `YAML tag ${JSON.stringify(body.slice(w.pos[0], w.pos[1]))} is not one osv-up reads` : `YAML: ${firstSentence(w.message)}`;
    errors.push(configError(texts, 'config.syntax', message, pos, w.code === 'TAG_RESOLVE_FAILED' ? 'remove the tag: osv.yaml takes plain strings, numbers, booleans, lists and maps' : undefined));
  }
  if (errors.length) return { tree: undefined, errors };
  const problems: Array<{ message: string; pos: Pos }> = [];
  const tree = fromYaml(doc, file, texts, problems);
  for (const p of problems) errors.push(configError(texts, 'config.syntax', p.message, p.pos));
  return { tree, errors };
}

/** The parser's messages run on ("... at line 3, column 1:" + a frame): keep the first sentence. */
function firstSentence(msg: string): string {
  const cut = msg.split(/ at line \d+, column \d+|:\n|\n/)[0] ?? msg;
  return cut.trim().replace(/\.$/, '');
}

function quoteAt(text: string, start: number, _end: number): string {
  // the parser marks the key's first character only: take the key up to its colon
  const s = text.slice(start).split('\n')[0]?.split(/:(\s|$)/)[0]?.trim() ?? '';
  return JSON.stringify(s.replace(/^["']|["']$/g, ''));
}
