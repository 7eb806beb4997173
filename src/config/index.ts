// The configuration stage: osv.yaml -> Config. Other stages import from here.

export { loadConfig, loadConfigDetailed, findConfigFile, type LoadOptions, type Loaded } from './load.js';
export { checkRunName } from './runs.js';
export { printableConfig, configToYaml } from './print.js';
export { parseSize, parsePort, parseDuration, splitCommand, normalizeGuestPath } from './values.js';
export { SEARCH_PLACES } from './discover.js';
export { selectRun } from './types.js';
export type * from './types.js';
