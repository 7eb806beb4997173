// The kernel symbol cache: one JSON file per kernel, named by the kernel's sha256, under
// $XDG_CACHE_HOME/osv-up/symbols/ (default ~/.cache). The only thing the check writes. A
// missing, unreadable or corrupt entry is a miss (the ELF is read again); a failed write is
// ignored (the next check reads the ELF again).

import * as fs from 'node:fs';
import { homedir } from 'node:os';
import * as path from 'node:path';
import type { KernelExports } from './kernel-symbols.js';

export interface SymbolCache {
  read(sha256: string): KernelExports | undefined;
  write(sha256: string, exports: KernelExports): void;
}

/** No caching (tests, or a read-only home). */
export const noSymbolCache: SymbolCache = { read: () => undefined, write: () => undefined };

export function defaultSymbolCacheDir(env: Record<string, string | undefined> = process.env): string {
  const base = env['XDG_CACHE_HOME'] && path.isAbsolute(env['XDG_CACHE_HOME']) ? env['XDG_CACHE_HOME'] : path.join(env['HOME'] || homedir(), '.cache');
  return path.join(base, 'osv-up', 'symbols');
}

const isSha = (s: string): boolean => /^[0-9a-f]{64}$/.test(s);

function valid(x: unknown, sha256: string): x is KernelExports {
  if (typeof x !== 'object' || x === null) return false;
  const o = x as Partial<KernelExports>;
  return o.format === 2 && o.sha256 === sha256 && typeof o.machine === 'number' && typeof o.names === 'string' && typeof o.versioned === 'object' && o.versioned !== null;
}

/**
 * A cache in a directory (created on first write). What it reads or writes it also keeps in
 * memory, so the checks of one process (plan, build, up) read the file once.
 */
export function fileSymbolCache(dir: string = defaultSymbolCacheDir()): SymbolCache {
  const file = (sha: string): string => path.join(dir, `${sha}.json`);
  const memo = new Map<string, KernelExports>();
  return {
    read(sha256) {
      if (!isSha(sha256)) return undefined;
      const hit = memo.get(sha256);
      if (hit) return hit;
      try {
        const x: unknown = JSON.parse(fs.readFileSync(file(sha256), 'utf8'));
        if (!valid(x, sha256)) return undefined;
        memo.set(sha256, x);
        return x;
      } catch {
        return undefined;
      }
    },
    write(sha256, exports) {
      if (!isSha(sha256)) return;
      memo.set(sha256, exports);
      const tmp = `${file(sha256)}.${process.pid}.tmp`;
      try {
        fs.mkdirSync(dir, { recursive: true });
        fs.writeFileSync(tmp, JSON.stringify(exports));
        fs.renameSync(tmp, file(sha256));
      } catch {
        try {
          fs.rmSync(tmp, { force: true });
        } catch {
          // nothing to clean up
        }
      }
    },
  };
}
