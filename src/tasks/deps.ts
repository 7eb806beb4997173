// The real kernel resolver and symbol checker, loaded on demand (the build takes them as
// parameters so tests can run the pipeline with stand-ins).

import type { KernelResolver, PlanChecker } from './build.js';

export async function realDeps(): Promise<{ resolveKernel: KernelResolver; checkPlan: PlanChecker }> {
  const [{ resolveKernel }, { checkPlan }] = await Promise.all([import('../kernel/resolve.js'), import('../check/index.js')]);
  return {
    resolveKernel: (config, env, onProgress) =>
      resolveKernel({ kernel: config.kernel, arch: config.arch, dir: config.dir, filesystem: config.filesystem }, env, onProgress ? { onProgress } : {}),
    checkPlan: (plan, kernel, fs) => checkPlan(plan, kernel, fs),
  };
}
