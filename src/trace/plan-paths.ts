// What a plan already holds, in the two forms the trace compares against: guest paths, and
// the real host files behind copied entries.

import type { Plan } from '../plan/types.js';
import type { PlannedPaths } from './report.js';

export function plannedPaths(plan: Plan): PlannedPaths {
  const guests = new Set<string>();
  const hosts = new Set<string>();
  for (const e of plan.entries) {
    guests.add(e.guest);
    if (e.kind === 'file' && e.host !== undefined) hosts.add(e.host);
  }
  return { guests, hosts };
}
