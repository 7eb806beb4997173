// Find the configuration file with cosmiconfig: these names, in this order, in the working
// directory only (a predictable rule; --config names any other file). cosmiconfig only
// finds the file: we parse it ourselves to keep line and column positions.

import { statSync } from 'node:fs';
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

/** The absolute path of the configuration file for `cwd`, or undefined when there is none. */
export async function discoverConfig(cwd: string): Promise<string | undefined> {
  // The first search place wins whenever it exists, so the common case needs no search (and
  // none of cosmiconfig's start-up time, a third of a no-op build's).
  const first = path.join(cwd, SEARCH_PLACES[0]!);
  if (statSync(first, { throwIfNoEntry: false })?.isFile()) return first;
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
