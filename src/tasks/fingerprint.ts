// Incremental builds without a second planner pass: the planning core reads the host only
// through HostFs, so recording every path it looked at (and what it saw) is a complete list
// of its inputs. A rebuild re-stats those paths; if every answer is the same, the plan would
// be the same, and so would the image.

import { createRequire } from 'node:module';
import type { HostFs, HostStat, ImageFileData } from '../hostfs.js';

/** What a look at one path saw: enough to notice any change to it. */
export type Observation = string;

/** stat/lstat: what a path is; list: a directory's entries (its mtime moves when they change). */
type Op = 'stat' | 'lstat' | 'list';

function signature(op: Op, s: HostStat | undefined): Observation {
  if (!s) return 'absent';
  // A directory that was only looked through (a path component, a search-path entry) is
  // unchanged as long as it is still a directory: its mtime moves with every file created in
  // it (think /tmp). Only a directory that was listed depends on its entries.
  if (s.kind === 'dir' && op !== 'list') return 'dir';
  // The ctime too: an edit that puts the mtime back (touch -d) still moves it.
  return `${s.kind}:${s.size}:${s.mtimeMs}:${s.ctimeMs}:${s.ino}:${s.mode}`;
}

const look = (fs: HostFs, op: Op, path: string): Observation => signature(op, op === 'lstat' ? fs.lstat(path) : fs.stat(path));

/**
 * A HostFs that remembers every path it was asked about, except those below `immutable` (a
 * container image mounted there: its digest, in the build key, stands for all its files).
 */
export class RecordingHostFs implements HostFs {
  private readonly seen = new Map<string, Observation>();

  constructor(
    private readonly inner: HostFs,
    private readonly immutable?: string,
  ) {}

  private skip(path: string): boolean {
    return this.immutable !== undefined && (path === this.immutable || path.startsWith(this.immutable + '/'));
  }

  private note(op: Op, path: string): void {
    if (this.skip(path)) return;
    const key = `${op}\0${path}`;
    if (!this.seen.has(key)) this.seen.set(key, look(this.inner, op, path));
  }

  lstat(path: string): HostStat | undefined {
    const s = this.inner.lstat(path);
    if (!this.skip(path)) this.seen.set(`lstat\0${path}`, signature('lstat', s));
    return s;
  }
  stat(path: string): HostStat | undefined {
    const s = this.inner.stat(path);
    if (!this.skip(path)) this.seen.set(`stat\0${path}`, signature('stat', s));
    return s;
  }
  origin(path: string): ImageFileData | undefined {
    return this.inner.origin?.(path);
  }
  readlink(path: string): string {
    this.note('lstat', path);
    return this.inner.readlink(path);
  }
  readdir(path: string): string[] {
    this.note('list', path);
    return this.inner.readdir(path);
  }
  readRange(path: string, offset: number, length: number): Buffer {
    this.note('stat', path);
    return this.inner.readRange(path, offset, length);
  }
  readFile(path: string): Buffer {
    this.note('stat', path);
    return this.inner.readFile(path);
  }
  open(path: string) {
    this.note('stat', path);
    return this.inner.open(path);
  }

  /** Every observation, sorted, as [op, path, observation] triples. */
  observations(): Array<[Op, string, Observation]> {
    return [...this.seen.entries()]
      .map(([k, v]) => {
        const [op, path] = k.split('\0') as [Op, string];
        return [op, path, v] as [Op, string, Observation];
      })
      .sort((a, b) => (a[1] === b[1] ? (a[0] < b[0] ? -1 : 1) : a[1] < b[1] ? -1 : 1));
  }
}

/**
 * The first recorded observation that no longer holds, or undefined when all do (of those from
 * `from` up to `to`). Observations come sorted by path, and a path is often seen both ways
 * (lstat, and stat or list): one lstat answers both unless the path is a symlink.
 */
export function firstChange(fs: HostFs, observations: Array<[string, string, Observation]>, from = 0, to = observations.length): string | undefined {
  let last: { path: string; l?: HostStat | undefined; s?: HostStat | undefined } = { path: '\0' };
  for (let i = from; i < to; i++) {
    const [op, path, before] = observations[i]!;
    if (path !== last.path) last = { path };
    const seen = last;
    const lstat = (): HostStat | undefined => ('l' in seen ? seen.l : (seen.l = fs.lstat(path)));
    const stat = (): HostStat | undefined => {
      if ('s' in seen) return seen.s;
      const l = lstat();
      return (seen.s = l && l.kind !== 'symlink' ? l : fs.stat(path));
    };
    if (signature(op as Op, op === 'lstat' ? lstat() : stat()) !== before) return path;
  }
  return undefined;
}

/** Observations checked between two pauses of firstChangePausing: well under a millisecond of stats. */
const PAUSE_EVERY = 64;

/**
 * firstChange, with `pause` awaited after every PAUSE_EVERY observations: for a caller with
 * requests on their way (osv push), whose lookups, connections and TLS handshakes need the event
 * loop to progress while the stats go on.
 */
export async function firstChangePausing(fs: HostFs, observations: Array<[string, string, Observation]>, pause: () => Promise<void>): Promise<string | undefined> {
  for (let at = 0; at < observations.length; at += PAUSE_EVERY) {
    await pause();
    const changed = firstChange(fs, observations, at, Math.min(at + PAUSE_EVERY, observations.length));
    if (changed !== undefined) return changed;
  }
  return undefined;
}

// node:crypto is loaded on first use: the no-op build never hashes, and loading it costs
// about 7 ms of that path's budget.
let crypto: typeof import('node:crypto') | undefined;

export function sha256(...parts: Array<string | Uint8Array>): string {
  crypto ??= createRequire(import.meta.url)('node:crypto') as typeof import('node:crypto');
  const h = crypto.createHash('sha256');
  for (const p of parts) {
    h.update(p);
    h.update('\0');
  }
  return h.digest('hex');
}
