// Incremental builds without a second planner pass: the planning core reads the host only
// through HostFs, so recording every path it looked at (and what it saw) is a complete list
// of its inputs. A rebuild re-stats those paths; if every answer is the same, the plan would
// be the same, and so would the image.

import { createHash } from 'node:crypto';
import type { HostFs, HostStat } from '../hostfs.js';

/** What a look at one path saw: enough to notice any change to it. */
export type Observation = string;

type Op = 'stat' | 'lstat';

function signature(s: HostStat | undefined): Observation {
  return s ? `${s.kind}:${s.size}:${s.mtimeMs}:${s.ino}:${s.mode}` : 'absent';
}

/** A HostFs that remembers every path it was asked about. */
export class RecordingHostFs implements HostFs {
  private readonly seen = new Map<string, Observation>();

  constructor(private readonly inner: HostFs) {}

  private note(op: Op, path: string): void {
    const key = `${op}\0${path}`;
    if (!this.seen.has(key)) this.seen.set(key, signature(op === 'stat' ? this.inner.stat(path) : this.inner.lstat(path)));
  }

  lstat(path: string): HostStat | undefined {
    const s = this.inner.lstat(path);
    this.seen.set(`lstat\0${path}`, signature(s));
    return s;
  }
  stat(path: string): HostStat | undefined {
    const s = this.inner.stat(path);
    this.seen.set(`stat\0${path}`, signature(s));
    return s;
  }
  readlink(path: string): string {
    this.note('lstat', path);
    return this.inner.readlink(path);
  }
  readdir(path: string): string[] {
    this.note('stat', path); // a directory's mtime changes when entries come or go
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

/** The first recorded observation that no longer holds, or undefined when all do. */
export function firstChange(fs: HostFs, observations: Array<[string, string, Observation]>): string | undefined {
  for (const [op, path, before] of observations) {
    const now = signature(op === 'stat' ? fs.stat(path) : fs.lstat(path));
    if (now !== before) return path;
  }
  return undefined;
}

export function sha256(...parts: Array<string | Uint8Array>): string {
  const h = createHash('sha256');
  for (const p of parts) {
    h.update(p);
    h.update('\0');
  }
  return h.digest('hex');
}
