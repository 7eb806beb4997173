// The text of every configuration file read during one load, so that any position can be
// turned into a line and column, and any error can show the line it points at.

import type { Source } from '../diagnostics/error.js';

/** A position in a file: Source plus the byte range of the node (offsets into the text). */
export interface Pos extends Source {
  offset: number;
  end: number;
}

interface FileText {
  text: string;
  /** Offset at which each line starts. */
  starts: number[];
}

/** Characters of a line shown in a code frame. */
const FRAME_WIDTH = 100;

export class SourceTexts {
  private readonly files = new Map<string, FileText>();

  /** Register a file's text, so that offsets in it can be turned into lines and columns. */
  add(file: string, text: string): void {
    const starts = [0];
    for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
    this.files.set(file, { text, starts });
  }

  text(file: string): string | undefined {
    return this.files.get(file)?.text;
  }

  /** A position for byte range [offset, end) of a registered file. */
  pos(file: string, offset: number, end = offset): Pos {
    const f = this.files.get(file);
    if (!f) return { file, line: 1, column: 1, offset, end };
    // the last line start at or before offset (binary search)
    let lo = 0;
    let hi = f.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (f.starts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { file, line: lo + 1, column: offset - f.starts[lo]! + 1, offset, end };
  }

  /** The offending line and a caret under the node: details for an OsvError. */
  frame(p: Source & { offset?: number; end?: number }): string[] {
    const text = this.files.get(p.file)?.text;
    if (text === undefined) return [];
    const lines = text.split(/\r?\n/);
    const lineText = lines[p.line - 1];
    if (lineText === undefined) return [];
    // Tabs become one space (so the caret lines up); control bytes never reach the terminal.
    let shown = lineText.replace(/\t/g, ' ').replace(/[\x00-\x1f\x7f]/g, '?');
    let start = Math.max(0, Math.min(p.column - 1, shown.length));
    let width = 1;
    if (p.offset !== undefined && p.end !== undefined && p.end > p.offset) width = Math.max(1, Math.min(p.end - p.offset, shown.length - start));
    // A long line is shown as a window around the column.
    if (shown.length > FRAME_WIDTH) {
      const from = Math.max(0, Math.min(start - 20, shown.length - FRAME_WIDTH));
      shown = (from > 0 ? '…' : '') + shown.slice(from, from + FRAME_WIDTH) + (from + FRAME_WIDTH < shown.length ? '…' : '');
      start = start - from + (from > 0 ? 1 : 0);
      width = Math.max(1, Math.min(width, FRAME_WIDTH - (start - (from > 0 ? 1 : 0))));
    }
    const gutter = String(p.line);
    const pad = ' '.repeat(gutter.length);
    return [`${gutter} | ${shown}`, `${pad} | ${' '.repeat(start)}${'^'.repeat(width)}`];
  }
}

/** Strip the offsets: the plain Source stored in Config. */
export const toSource = (p: Source): Source => ({ file: p.file, line: p.line, column: p.column });
