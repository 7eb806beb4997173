// Find the configuration file with cosmiconfig: these names, in this order, in the working
// directory only (a predictable rule; --config names any other file). cosmiconfig only
// finds the file: we parse it ourselves to keep line and column positions.

import { lstatSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';

export const SEARCH_PLACES = ['osv.yaml', 'osv.yml', '.osvrc', '.osvrc.yaml', '.osvrc.json', 'osv.config.yaml', 'package.json'];

/** A loader that does not parse: any non-empty file is "found". package.json needs its `osv` key. */
const found = (): Record<string, never> => ({});
const packageJson = (filepath: string, content: string): unknown => {
  if (path.basename(filepath) !== 'package.json') return {};
  try {
    return JSON.parse(content) as unknown;
  } catch {
    return null; // a broken package.json is not our configuration
  }
};

/** Whether package.json at `p` holds an `osv` key, or cannot be read as JSON to tell. */
function packageJsonHolds(p: string): boolean {
  try {
    const j = packageJson(p, readFileSync(p, 'utf8'));
    return j === null || (typeof j === 'object' && Object.hasOwn(j, 'osv'));
  } catch {
    return true;
  }
}

/** What is at `p`: a regular file (through links), something else, or nothing. */
function entryKind(p: string): 'file' | 'other' | undefined {
  const l = lstatSync(p, { throwIfNoEntry: false });
  if (!l) return undefined;
  if (!l.isSymbolicLink()) return l.isFile() ? 'file' : 'other';
  try {
    const st = statSync(p, { throwIfNoEntry: false });
    return st === undefined ? undefined : st.isFile() ? 'file' : 'other';
  } catch {
    return 'other'; // a loop of links
  }
}

/** The absolute path of the configuration file for `cwd`, or undefined when there is none. */
export async function discoverConfig(cwd: string): Promise<string | undefined> {
  // The first search place wins whenever it exists, so the common case needs no search (and
  // none of cosmiconfig's start-up time, a third of a no-op build's).
  // A search place that is there but is not a regular file (a FIFO, a directory, a loop of
  // links) is returned for the reader to report: cosmiconfig would read it, and a FIFO blocks.
  for (const [i, place] of SEARCH_PLACES.entries()) {
    const p = path.join(cwd, place);
    const kind = entryKind(p);
    if (kind === 'other' || (kind === 'file' && i === 0)) return p;
    // package.json counts only with an `osv` key. One that is not valid JSON is returned for the
    // reader to report with its position (cosmiconfig's own error showed its code frame twice).
    if (kind === 'file' && place === 'package.json') return packageJsonHolds(p) ? p : undefined;
    if (kind === 'file') break;
  }
  // imported here: with --config, or an osv.yaml present, the search is skipped
  const { cosmiconfig } = await import('cosmiconfig');
  const explorer = cosmiconfig('osv', {
    searchPlaces: SEARCH_PLACES,
    searchStrategy: 'none',
    // An empty osv.yaml is found (and reported as having no cmd), not skipped.
    ignoreEmptySearchPlaces: false,
    cache: false,
    loaders: { '.yaml': found, '.yml': found, noExt: found, '.json': packageJson },
  });
  const r = await explorer.search(cwd);
  return r?.filepath;
}
