// The plan a trace is compared with: the configuration's, when there is one. A configuration
// that cannot be planned is not fatal here (what the trace finds may be the fix): the trace
// then compares with an empty plan and says so.

import { findConfigFile, loadConfig } from '../config/index.js';
import type { Arch } from '../config/types.js';
import { plan } from '../plan/index.js';
import { EMPTY_PLAN, type PlannedPaths } from './report.js';
import { plannedPaths } from './plan-paths.js';

export interface Planned {
  /** The configuration file (for --write), when one was found. */
  file?: string;
  paths: PlannedPaths;
  /** Says what was compared, for the report. */
  description: string;
  /** Why the configuration could not be planned, when it could not. */
  problem?: string;
  arch?: Arch;
  hiddenSymbols?: boolean;
  /** The configuration's sysroot, when it is not the host itself. */
  sysroot?: string;
}

/** `explicit` is --config (an error when missing); otherwise the configuration is discovered from cwd. */
export async function loadPlanned(explicit: string | undefined, cwd: string): Promise<Planned> {
  const found = await findConfigFile({ cwd, ...(explicit !== undefined ? { configFile: explicit } : {}) });
  if (!found.ok) {
    if (explicit !== undefined) throw found.error;
    return { paths: EMPTY_PLAN, description: 'an empty plan (no configuration file here)' };
  }
  const file = found.value;
  const config = await loadConfig({ cwd, configFile: file });
  if (!config.ok) {
    const first = config.error.errors[0];
    return { file, paths: EMPTY_PLAN, description: `an empty plan (${file} has errors)`, problem: `${file} does not load: ${first?.message ?? 'invalid'}; run osv validate` };
  }
  const planned = plan(config.value, { env: process.env });
  const base = {
    file,
    arch: config.value.arch,
    hiddenSymbols: config.value.kernel.hiddenSymbols,
    ...(config.value.sysroot !== '/' ? { sysroot: config.value.sysroot } : {}),
  };
  if (!planned.ok) {
    const first = planned.error.errors[0];
    return { ...base, paths: EMPTY_PLAN, description: `an empty plan (${file} does not plan)`, problem: `${file} does not plan: ${first?.message ?? 'error'}; run osv plan` };
  }
  return { ...base, paths: plannedPaths(planned.value), description: `the plan of ${file} (${planned.value.entries.length} entries)` };
}
