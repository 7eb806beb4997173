// The plan a trace is compared with: the configuration's, when there is one.

import * as fs from 'node:fs';
import { join } from 'node:path';
import type { Arch } from '../config/types.js';
import { EMPTY_PLAN, type PlannedPaths } from './report.js';

export interface Planned {
  /** The configuration file (for --write), when one was found. */
  file?: string;
  paths: PlannedPaths;
  /** Says what was compared, for the report. */
  description: string;
  arch?: Arch;
  hiddenSymbols?: boolean;
}

export async function loadPlanned(explicit: string | undefined, cwd: string): Promise<Planned> {
  const file = explicit ?? (fs.existsSync(join(cwd, 'osv.yaml')) ? join(cwd, 'osv.yaml') : undefined);
  if (!file) return { paths: EMPTY_PLAN, description: 'an empty plan (no osv.yaml here)' };
  // TODO(integration): load the configuration and plan it once src/config and src/plan land.
  return { file, paths: EMPTY_PLAN, description: `an empty plan (planning ${file} is not available yet)` };
}
