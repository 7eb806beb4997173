// The console goes to the user's terminal as it comes, minus the escape sequences SeaBIOS
// sends first: ESC c (full terminal reset), ESC [2J (clear screen) and ESC [?7l (no line
// wrap, which would outlive the VM). Bytes are handled as latin1 so nothing else changes.

const DROP = /\x1bc|\x1b\[\?7l|\x1b\[2J/g;
/** An ESC sequence cut by a chunk boundary: keep it until the rest arrives. */
const INCOMPLETE_TAIL = /\x1b(?:\[[0-?]*)?$/;

export class TerminalFilter {
  private held = '';

  write(chunk: Buffer): Buffer {
    let s = this.held + chunk.toString('latin1');
    const tail = INCOMPLETE_TAIL.exec(s);
    this.held = tail ? tail[0] : '';
    if (tail) s = s.slice(0, tail.index);
    return Buffer.from(s.replace(DROP, ''), 'latin1');
  }

  flush(): Buffer {
    const s = this.held;
    this.held = '';
    return Buffer.from(s, 'latin1');
  }
}
