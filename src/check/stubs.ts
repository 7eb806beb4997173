// The calls OSv implements only as failing stubs (data/osv-stubs.json), read once.

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface StubInfo {
  name: string;
  /** What the call does on OSv. */
  effect: string;
  /** The console line OSv prints the first time, if any. */
  prints?: string;
}

/** data/osv-stubs.json, two levels above this module both in src/ and in dist/. */
export const stubsFile = fileURLToPath(new URL('../../data/osv-stubs.json', import.meta.url));

let loaded: Map<string, StubInfo> | undefined;

/** The stub table by name. A missing or broken data file is a packaging bug: it throws. */
export function osvStubs(): Map<string, StubInfo> {
  if (!loaded) {
    const doc = JSON.parse(readFileSync(stubsFile, 'utf8')) as { stubs: StubInfo[] };
    loaded = new Map(doc.stubs.map((s) => [s.name, s]));
  }
  return loaded;
}
