// The symbol check's public entry points (contract in ./types.ts).

export { checkPlan, type CheckOptions } from './check.js';
export { checkError } from './refusal.js';
export { renderCheck, type RenderOptions } from './render.js';
export { fileSymbolCache, noSymbolCache, defaultSymbolCacheDir, type SymbolCache } from './symbol-cache.js';
export { fileObjectCache, noObjectCache, defaultObjectCacheDir, type ObjectCache } from './object-cache.js';
export { fileReportCache, noReportCache, defaultReportCacheDir, type ReportCache } from './report-cache.js';
export { loadKernelSymbols, readKernelExports, KernelSymbols, type KernelExports } from './kernel-symbols.js';
export type * from './types.js';
