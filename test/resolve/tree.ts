// Temporary sysroots of hand-built ELF files, for the resolver's tests.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import * as C from '../../src/elf/constants.js';
import { craftElf, type CraftSpec } from '../elf/craft.js';

export const INTERP = '/lib64/ld-linux-x86-64.so.2';
/** An x86-64 PIE, as gcc links one. */
export const pie = { interp: INTERP, flags1: C.DF_1_PIE };

/** Sysroots under one temporary directory: `open()` in beforeAll, `close()` in afterAll. */
export function trees(prefix: string): { open(): void; close(): void; sysroot(name: string): string } {
  let tmp = '';
  return {
    open: () => void (tmp = mkdtempSync(join(tmpdir(), prefix))),
    close: () => rmSync(tmp, { recursive: true, force: true }),
    /** A fresh sysroot directory. */
    sysroot: (name) => {
      const root = join(tmp, name);
      mkdirSync(root, { recursive: true });
      return root;
    },
  };
}

/** A hand-built ELF file (64-bit little-endian unless `spec` says) at `path` inside `root`. */
export function put(root: string, path: string, spec: Partial<CraftSpec>): string {
  const p = join(root, path);
  mkdirSync(dirname(p), { recursive: true });
  writeFileSync(p, craftElf({ cls: 64, le: true, ...spec }));
  return p;
}
