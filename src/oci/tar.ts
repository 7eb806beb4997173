// A push parser for tar streams (POSIX ustar, pax extended headers, GNU long names): chunks go
// in, one header per member comes out with the offset of its data in the stream. It never
// buffers member data, so a layer of any size streams through in constant memory. Every field
// is checked: a bad checksum, a number that is not one, a member cut short are errors that say
// where. An archive may end without its two zero blocks (umoci writes such tars).

export const BLOCK = 512;

export type TarType = 'file' | 'hardlink' | 'symlink' | 'char' | 'block' | 'dir' | 'fifo';

export interface TarHeader {
  /** The member name as stored (pax `path` or GNU long name applied), not normalized. */
  name: string;
  type: TarType;
  /** Permission and set-id bits (st_mode & 0o7777). */
  mode: number;
  uid: number;
  gid: number;
  /** Bytes of data that follow the header (0 for links, directories, devices). */
  size: number;
  /** Seconds since the epoch (fractional with pax). */
  mtime: number;
  /** Target of a symlink or hard link. */
  linkname: string;
  /** Offset of the member's data in the uncompressed stream. */
  dataOffset: number;
  /** Offset of the member's (first) header block, for messages. */
  headerOffset: number;
}

/** A malformed archive; `offset` is where in the uncompressed stream it was found. */
export class TarError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
    this.name = 'TarError';
  }
}

/** Upper bounds that keep a hostile archive from growing memory without limit. */
const MAX_META = 1 << 20; // a pax or GNU long-name record
const MAX_NAME = 4096; // PATH_MAX

const TYPES: Record<string, TarType> = { '0': 'file', '\0': 'file', '7': 'file', '1': 'hardlink', '2': 'symlink', '3': 'char', '4': 'block', '5': 'dir', '6': 'fifo' };

type State =
  | { kind: 'header' }
  | { kind: 'skip'; left: number } // member data and padding
  | { kind: 'meta'; type: 'x' | 'g' | 'L' | 'K'; size: number; padded: number; parts: Buffer[]; got: number; at: number };

interface Pending {
  path?: string;
  linkpath?: string;
  size?: number;
  mtime?: number;
  uid?: number;
  gid?: number;
}

export class TarParser {
  private state: State = { kind: 'header' };
  /** Bytes of the stream consumed so far. */
  private offset = 0;
  /** A partial header block carried over between chunks. */
  private partial = Buffer.alloc(BLOCK);
  private partialLen = 0;
  /** Zero blocks seen: after two, only zeros may follow; one followed by a header is damage. */
  private zeroBlocks = 0;
  private pending: Pending = {};
  private global: Pending = {};
  /** Where the current member's first header (or its pax/long-name prefix) began, until its data is passed; -1 between members. */
  private memberStart = -1;

  constructor(private readonly onEntry: (h: TarHeader) => void) {}

  push(chunk: Buffer): void {
    let i = 0;
    while (i < chunk.length) {
      const s = this.state;
      if (s.kind === 'skip') {
        const n = Math.min(s.left, chunk.length - i);
        s.left -= n;
        i += n;
        this.offset += n;
        if (s.left === 0) this.nextMember();
        continue;
      }
      if (s.kind === 'meta') {
        const n = Math.min(s.padded - s.got, chunk.length - i);
        // the record's bytes, not its padding
        const usable = Math.max(0, Math.min(n, s.size - s.got));
        s.parts.push(Buffer.from(chunk.subarray(i, i + usable)));
        s.got += n;
        i += n;
        this.offset += n;
        if (s.got === s.padded) this.finishMeta(s.type, s.parts, s.at);
        continue;
      }
      // a header (or a zero block): collect one block
      const n = Math.min(BLOCK - this.partialLen, chunk.length - i);
      chunk.copy(this.partial, this.partialLen, i, i + n);
      this.partialLen += n;
      i += n;
      if (this.partialLen < BLOCK) {
        this.offset += n;
        continue;
      }
      const blockStart = this.offset + n - BLOCK;
      this.offset += n;
      this.partialLen = 0;
      this.block(this.partial, blockStart);
    }
  }

  /** Bytes of member data due next (0 when a header is due): a reader with random access may skip them. */
  get dataDue(): number {
    return this.state.kind === 'skip' ? this.state.left : 0;
  }

  /** Pass over the member data due next without reading it. */
  skipData(): void {
    if (this.state.kind !== 'skip') return;
    this.offset += this.state.left;
    this.nextMember();
  }

  /** The stream ended: it must end between members. */
  end(): void {
    if (this.state.kind !== 'header' || this.partialLen !== 0)
      throw new TarError(`the archive ends inside a member (at byte ${this.offset}${this.memberStart >= 0 ? `, member starting at ${this.memberStart}` : ''}): it is truncated`, this.offset);
    // a pax 'x' or GNU long-name header (even one with no records) and then nothing
    if (this.memberStart >= 0) throw new TarError('the archive ends after an extended header, without the member it describes', this.offset);
  }

  private block(b: Buffer, at: number): void {
    if (isZero(b)) {
      this.zeroBlocks++;
      return;
    }
    if (this.zeroBlocks >= 2) throw new TarError('data after the end-of-archive blocks', at);
    if (this.zeroBlocks > 0) throw new TarError('a lone zero block in the middle of the archive', at - BLOCK);
    const h = parseHeader(b, at);
    const flag = String.fromCharCode(b[156]!);
    // A global pax header belongs to no member: it is not where the next member starts.
    if (flag !== 'g' && this.memberStart < 0) this.memberStart = at;
    if (flag === 'x' || flag === 'g' || flag === 'L' || flag === 'K') {
      if (h.size > MAX_META) throw new TarError(`an extended header of ${h.size} bytes (limit ${MAX_META})`, at);
      const padded = roundUp(h.size);
      if (padded === 0) this.finishMeta(flag, [], at);
      else this.state = { kind: 'meta', type: flag, size: h.size, padded, parts: [], got: 0, at };
      return;
    }
    const type = TYPES[flag];
    if (type === undefined) throw new TarError(`member type '${printable(flag)}' is not supported (sparse files, volume labels and other GNU extensions are refused)`, at);
    const p = { ...this.global, ...this.pending };
    this.pending = {};
    let name = p.path ?? h.name;
    if (p.path === undefined && h.prefix !== '') name = `${h.prefix}/${h.name}`;
    const size = p.size ?? h.size;
    const header: TarHeader = {
      name,
      type,
      mode: h.mode & 0o7777,
      uid: p.uid ?? h.uid,
      gid: p.gid ?? h.gid,
      // Only regular files carry data (a hard link's size field is ignored, as GNU tar does).
      size: type === 'file' ? size : 0,
      mtime: p.mtime ?? h.mtime,
      linkname: p.linkpath ?? h.linkname,
      dataOffset: at + BLOCK,
      headerOffset: this.memberStart,
    };
    if (Buffer.byteLength(header.name) > MAX_NAME || Buffer.byteLength(header.linkname) > MAX_NAME) throw new TarError(`a name longer than ${MAX_NAME} bytes`, at);
    if (header.name === '') throw new TarError('a member with an empty name', at);
    this.onEntry(header);
    // Only regular files are followed by data blocks (as GNU tar reads them).
    const skip = type === 'file' ? roundUp(size) : 0;
    if (skip > 0) this.state = { kind: 'skip', left: skip };
    else this.memberStart = -1;
  }

  /** The member's data is passed: a header is due. */
  private nextMember(): void {
    this.state = { kind: 'header' };
    this.memberStart = -1;
  }

  /** A pax or long-name header's data is all in: it applies to the next member (or all, 'g'). */
  private finishMeta(type: 'x' | 'g' | 'L' | 'K', parts: Buffer[], at: number): void {
    const data = Buffer.concat(parts);
    this.state = { kind: 'header' };
    if (type === 'L' || type === 'K') {
      const text = cString(data, 0, data.length);
      if (type === 'L') this.pending.path = text;
      else this.pending.linkpath = text;
      return;
    }
    const into = type === 'x' ? this.pending : this.global;
    for (const [k, v] of parsePax(data, at)) {
      if (k === 'path') into.path = v;
      else if (k === 'linkpath') into.linkpath = v;
      else if (k === 'size') into.size = paxNumber(k, v, at, true);
      else if (k === 'mtime') into.mtime = paxNumber(k, v, at, false);
      else if (k === 'uid') into.uid = paxNumber(k, v, at, true);
      else if (k === 'gid') into.gid = paxNumber(k, v, at, true);
      else if (k.startsWith('GNU.sparse')) throw new TarError('sparse members (GNU.sparse pax records) are not supported', at);
    }
  }
}

const roundUp = (n: number): number => Math.ceil(n / BLOCK) * BLOCK;

function isZero(b: Buffer): boolean {
  for (let i = 0; i < BLOCK; i++) if (b[i] !== 0) return false;
  return true;
}

/** One character (a type flag), escaped unless it is printable ASCII. */
const printable = (c: string): string => (/[\x20-\x7e]/.test(c) ? c : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);

/** A NUL-terminated (or field-filling) string. */
function cString(b: Buffer, start: number, end: number): string {
  const field = b.subarray(start, end);
  const nul = field.indexOf(0);
  return field.toString('utf8', 0, nul < 0 ? field.length : nul);
}

/** An octal field (spaces and NULs around it), or GNU base-256 when the top bit is set. */
function number(b: Buffer, start: number, len: number, field: string, at: number): number {
  if (b[start]! & 0x80) {
    if (b[start] === 0xff) throw new TarError(`${field} is negative`, at);
    let v = b[start]! & 0x7f;
    for (let i = start + 1; i < start + len; i++) {
      v = v * 256 + b[i]!;
      if (v > Number.MAX_SAFE_INTEGER) throw new TarError(`${field} is too large`, at);
    }
    return v;
  }
  const text = b.toString('latin1', start, start + len).replace(/[\0 ]+$/, '').replace(/^ +/, '');
  if (text === '') return 0;
  if (!/^[0-7]+$/.test(text)) throw new TarError(`${field} is not an octal number (${JSON.stringify(text)})`, at);
  // at most 12 octal digits (36 bits): always a safe integer
  return parseInt(text, 8);
}

function parseHeader(b: Buffer, at: number) {
  const stored = number(b, 148, 8, 'the header checksum', at);
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const c = i >= 148 && i < 156 ? 0x20 : b[i]!;
    unsigned += c;
    signed += c > 127 ? c - 256 : c;
  }
  if (stored !== unsigned && stored !== signed) throw new TarError(`bad header checksum (stored ${stored}, computed ${unsigned}): not a tar archive, or a damaged one`, at);
  return {
    name: cString(b, 0, 100),
    mode: number(b, 100, 8, 'the mode', at),
    uid: number(b, 108, 8, 'the uid', at),
    gid: number(b, 116, 8, 'the gid', at),
    size: number(b, 124, 12, 'the size', at),
    mtime: number(b, 136, 12, 'the mtime', at),
    linkname: cString(b, 157, 257),
    // POSIX ustar only: old GNU headers (magic "ustar  ") keep times there, not a prefix
    prefix: b.toString('latin1', 257, 263) === 'ustar\0' ? cString(b, 345, 500) : '',
  };
}

/** pax records: "LEN key=value\n", LEN counting the whole record. */
function* parsePax(data: Buffer, at: number): Generator<[string, string]> {
  let i = 0;
  while (i < data.length) {
    if (data[i] === 0) break; // padding some writers leave
    const sp = data.indexOf(0x20, i);
    if (sp < 0) throw new TarError('a pax record without a length', at);
    const lenText = data.toString('latin1', i, sp);
    if (!/^[0-9]+$/.test(lenText)) throw new TarError(`a pax record length is not a number (${JSON.stringify(lenText)})`, at);
    const len = Number(lenText);
    // The record must end in a newline; digits and a space come before it, so only a length of
    // 0 (which would point at the previous record's newline) needs its own test.
    if (len === 0 || data[i + len - 1] !== 0x0a) throw new TarError('a pax record runs past its header', at);
    const rec = data.toString('utf8', sp + 1, i + len - 1);
    const eq = rec.indexOf('=');
    if (eq <= 0) throw new TarError(`a pax record without a key (${JSON.stringify(rec.slice(0, 40))})`, at);
    yield [rec.slice(0, eq), rec.slice(eq + 1)];
    i += len;
  }
}

function paxNumber(key: string, value: string, at: number, integer: boolean): number {
  const v = Number(value);
  const ok = integer ? /^[0-9]+$/.test(value) && Number.isSafeInteger(v) : /^-?[0-9]+(\.[0-9]+)?$/.test(value) && Number.isFinite(v);
  if (!ok) throw new TarError(`pax ${key} is not a number (${JSON.stringify(value.slice(0, 40))})`, at);
  return v;
}
