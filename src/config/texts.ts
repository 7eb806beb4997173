// The text of every configuration file read during one load, so that any position can be
// turned into a line and column, and any error can show the line it points at.

import { LineCounter } from 'yaml';
import type { Source } from '../diagnostics/error.js';

/** A position in a file: Source plus the byte range of the node (offsets into the text). */
export interface Pos extends Source {
  offset: number;
  end: number;
}

interface FileText {
  text: string;
  lines: LineCounter;
}

export class SourceTexts {
  private readonly files = new Map<string, FileText>();

  /** Register a file's text; returns the LineCounter the YAML parser must fill. */
  add(file: string, text: string): LineCounter {
    const lines = new LineCounter();
    this.files.set(file, { text, lines });
    return lines;
  }

  text(file: string): string | undefined {
    return this.files.get(file)?.text;
  }

  /** A position for byte range [offset, end) of a registered file. */
  pos(file: string, offset: number, end = offset): Pos {
    const f = this.files.get(file);
    if (!f) return { file, line: 1, column: 1, offset, end };
    const { line, col } = f.lines.linePos(offset);
    return { file, line, column: col, offset, end };
  }

  /** The offending line and a caret under the node: details for an OsvError. */
  frame(p: Source & { offset?: number; end?: number }): string[] {
    const text = this.files.get(p.file)?.text;
    if (text === undefined) return [];
    const lines = text.split(/\r?\n/);
    const lineText = lines[p.line - 1];
    if (lineText === undefined) return [];
    const shown = lineText.replace(/\t/g, ' ');
    const start = Math.max(0, Math.min(p.column - 1, shown.length));
    let width = 1;
    if (p.offset !== undefined && p.end !== undefined && p.end > p.offset) {
      const firstLineLeft = shown.length - start;
      width = Math.max(1, Math.min(p.end - p.offset, firstLineLeft));
    }
    const gutter = String(p.line);
    const pad = ' '.repeat(gutter.length);
    return [`${gutter} | ${shown}`, `${pad} | ${' '.repeat(start)}${'^'.repeat(width)}`];
  }
}

/** Strip the offsets: the plain Source stored in Config. */
export const toSource = (p: Source): Source => ({ file: p.file, line: p.line, column: p.column });
