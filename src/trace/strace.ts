// Reads an `strace -f -y -qq -o FILE` log: the files each process opened and the programs it
// executed. Only successful calls count; a path that failed to open is a probe, not a use.
// Lines look like
//   1234 openat(AT_FDCWD</cwd>, "data.txt", O_RDONLY) = 3</cwd/data.txt>
//   1234 openat(AT_FDCWD</cwd>, "/etc/x", O_RDONLY <unfinished ...>
//   1234 <... openat resumed>) = 3</etc/x>
//   1234 execve("/usr/bin/x", ["x"], 0x7ffd /* 9 vars */) = 0

import { posix } from 'node:path';

export interface OpenedFile {
  pid: number;
  /** Absolute path as the program named it (relative names joined to their directory). */
  path: string;
  /** What the descriptor pointed at (symlinks followed by the kernel), when strace decoded it. */
  target?: string;
  /** Opened with O_DIRECTORY. */
  directory: boolean;
  /** Opened for writing (O_WRONLY or O_RDWR), or created (O_CREAT). */
  writes: boolean;
  /** Opened read-only or read-write: the program reads it. */
  reads: boolean;
}

export interface ExecutedProgram {
  pid: number;
  path: string;
}

export interface SyscallTrace {
  opened: OpenedFile[];
  executed: ExecutedProgram[];
}

/** Decode a C string literal body as strace prints it (\n, \t, \\, \", \xHH, octal). */
export function unescapeC(s: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c !== '\\') {
      bytes.push(...Buffer.from(c, 'utf8'));
      continue;
    }
    const n = s[++i];
    if (n === undefined) break;
    const simple: Record<string, number> = { n: 10, t: 9, r: 13, v: 11, f: 12, a: 7, b: 8, '\\': 92, '"': 34, "'": 39, '?': 63 };
    if (n in simple) bytes.push(simple[n]!);
    else if (n === 'x') {
      const hex = /^[0-9a-fA-F]{1,2}/.exec(s.slice(i + 1))?.[0] ?? '';
      bytes.push(parseInt(hex || '0', 16));
      i += hex.length;
    } else if (/[0-7]/.test(n)) {
      const oct = /^[0-7]{1,3}/.exec(s.slice(i))![0];
      bytes.push(parseInt(oct, 8) & 0xff);
      i += oct.length - 1;
    } else bytes.push(...Buffer.from(n, 'utf8'));
  }
  return Buffer.from(bytes).toString('utf8');
}

/** A quoted string starting at `at` (which holds the opening quote): its decoded body and the index after it. */
function readQuoted(s: string, at: number): { value: string; end: number } | undefined {
  if (s[at] !== '"') return undefined;
  let i = at + 1;
  while (i < s.length && s[i] !== '"') i += s[i] === '\\' ? 2 : 1;
  if (i >= s.length) return undefined;
  return { value: unescapeC(s.slice(at + 1, i)), end: i + 1 };
}

/** Index just past the `<path>` decoration that starts at `at`. */
function decorationEnd(s: string, at: number): number {
  let i = at + 1;
  while (i < s.length && s[i] !== '>') i += s[i] === '\\' ? 2 : 1;
  return i + 1;
}

/** The `<path>` decoration -y adds after a descriptor, starting at `at` (which holds '<'). */
function readDecoration(s: string, at: number): string | undefined {
  if (s[at] !== '<') return undefined;
  const end = decorationEnd(s, at);
  return end <= s.length ? unescapeC(s.slice(at + 1, end - 1)) : undefined;
}

const HEAD = /^(\d+) +(\w+)\((.*)$/;
const O_WRITE = /\b(O_WRONLY|O_RDWR|O_CREAT|O_TRUNC)\b/;
const O_WRITE_ONLY = /\bO_WRONLY\b/;

interface Call {
  pid: number;
  name: string;
  /** Everything after the opening parenthesis, with a resumed tail appended. */
  rest: string;
}

/** The result part of a finished call: the text after the last ") = ". */
function result(rest: string): { ok: boolean; ret: string } | undefined {
  const i = rest.lastIndexOf(') = ');
  if (i < 0) return undefined;
  const ret = rest.slice(i + 4);
  return { ok: !ret.startsWith('-1 ') && !ret.startsWith('?'), ret };
}

function parseOpen(call: Call): OpenedFile | undefined {
  const r = result(call.rest);
  if (!r?.ok) return undefined;
  let s = call.rest;
  let dir: string | undefined;
  if (call.name === 'openat' || call.name === 'openat2') {
    // First argument: AT_FDCWD</cwd> or 3</dir> (the decoration may itself hold ", ").
    const tok = /^(AT_FDCWD|-?\d+)/.exec(s);
    if (!tok) return undefined;
    let i = tok[0].length;
    if (s[i] === '<') {
      dir = readDecoration(s, i);
      i = decorationEnd(s, i);
    }
    if (s.slice(i, i + 2) !== ', ') return undefined;
    s = s.slice(i + 2);
  }
  const q = readQuoted(s, 0);
  if (!q) return undefined;
  const flags = s.slice(q.end);
  let path = q.value;
  if (!path.startsWith('/')) {
    if (dir === undefined) return undefined; // relative to an unknown directory: cannot place it
    path = posix.join(dir, path);
  }
  const fdEnd = r.ret.indexOf('<');
  const target = fdEnd >= 0 ? readDecoration(r.ret, fdEnd) : undefined;
  const writes = call.name === 'creat' || O_WRITE.test(flags);
  return {
    pid: call.pid,
    path: posix.normalize(path),
    ...(target !== undefined ? { target } : {}),
    directory: /\bO_DIRECTORY\b/.test(flags),
    writes,
    reads: call.name !== 'creat' && !O_WRITE_ONLY.test(flags),
  };
}

export function parseSyscallTrace(text: string): SyscallTrace {
  const opened: OpenedFile[] = [];
  const executed: ExecutedProgram[] = [];
  const unfinished = new Map<number, Call>();
  for (const line of text.split('\n')) {
    let call: Call | undefined;
    const resumed = /^(\d+) +<\.\.\. (\w+) resumed>(.*)$/.exec(line);
    if (resumed) {
      const pid = Number(resumed[1]);
      const head = unfinished.get(pid);
      unfinished.delete(pid);
      if (!head || head.name !== resumed[2]) continue;
      call = { ...head, rest: head.rest + resumed[3] };
    } else {
      const m = HEAD.exec(line);
      if (!m) continue;
      call = { pid: Number(m[1]), name: m[2]!, rest: m[3]! };
      const cut = call.rest.indexOf(' <unfinished ...>');
      if (cut >= 0) {
        unfinished.set(call.pid, { ...call, rest: call.rest.slice(0, cut) });
        continue;
      }
    }
    if (call.name === 'execve' || call.name === 'execveat') {
      const r = result(call.rest);
      const args = call.name === 'execveat' ? call.rest.slice(call.rest.indexOf(', ') + 2) : call.rest;
      const q = readQuoted(args, 0);
      if (r?.ok && q) executed.push({ pid: call.pid, path: q.value });
    } else if (call.name === 'open' || call.name === 'openat' || call.name === 'openat2' || call.name === 'creat') {
      const f = parseOpen(call);
      if (f) opened.push(f);
    }
  }
  return { opened, executed };
}
