// The planner's entry point: `plan(config, options)` with the real resolver.

import type { Config } from '../config/types.js';
import type { OsvErrors } from '../diagnostics/error.js';
import type { Result } from '../diagnostics/result.js';
import { nodeHostFs } from '../hostfs.js';
import { resolveSession } from '../resolve/index.js';
import { planWith, type PlanOptions } from './plan.js';
import type { Plan } from './types.js';

export type { PlanOptions } from './plan.js';
export type * from './types.js';
export { isHostFile, isInlineFile } from './types.js';

/**
 * Everything that goes into the image, with reasons; pure (reads the host through options.fs
 * only). Its closures share what they read (resolveSession): the host is taken as unchanging
 * while one plan is made.
 */
export function plan(config: Config, options: PlanOptions = {}): Result<Plan, OsvErrors> {
  // Kept reads are by host file identity: never for another file system (an image's).
  const host = options.fs === undefined || options.fs === nodeHostFs;
  return planWith(resolveSession(host ? options.elfReads : undefined), config, options);
}
