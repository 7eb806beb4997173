// checkPlan: every symbol each ELF object of the plan needs, looked up where OSv's loader will
// look for it (the objects loaded with it, then the kernel's exports). Pure apart from the
// kernel symbol cache, the object cache and the report cache, which are injectable.

import type { OsvError } from '../diagnostics/error.js';
import { ok, type Result } from '../diagnostics/result.js';
import { nodeHostFs, type HostFs } from '../hostfs.js';
import type { KernelBundle } from '../kernel/types.js';
import { runKey } from '../plan/runs.js';
import { describeProvenance } from '../plan/provenance.js';
import type { Plan } from '../plan/types.js';
import { kernelSonames } from '../resolve/kernel-libraries.js';
import { GuestFs } from '../plan/guest-fs.js';
import { imageObjects, type ImageObject } from './image.js';
import { loadKernelSymbols, type KernelSymbols } from './kernel-symbols.js';
import { KERNEL, Loader, type Group } from './loader.js';
import { lookup, severityOf } from './lookup.js';
import { fileObjectCache, noObjectCache, type ObjectCache } from './object-cache.js';
import { fileReportCache, noReportCache, type ReportCache } from './report-cache.js';
import { buildReport } from './report.js';
import { osvStubs } from './stubs.js';
import { fileSymbolCache, type SymbolCache } from './symbol-cache.js';
import type { CheckReport, KernelCheckInfo, LoadRole, MissingSymbol, ObjectReport, StubUse } from './types.js';

export interface CheckOptions {
  /** Where kernel symbols are cached; default $XDG_CACHE_HOME/osv-up/symbols. */
  cache?: SymbolCache;
  /**
   * What was read from the image's objects, by file identity; default
   * $XDG_CACHE_HOME/osv-up/objects when `fs` is the host's own (another HostFs's identities
   * are not the host's), else none.
   */
  objects?: ObjectCache;
  /**
   * The findings of earlier checks, by their inputs; default $XDG_CACHE_HOME/osv-up/checks
   * when `fs` is the host's own and osv runs built (report-cache.ts), else none.
   */
  reports?: ReportCache;
  /** Why there is no kernel, for the report (e.g. "kernel v0.57.0 is not downloaded yet"). */
  noKernelReason?: string;
}

/** Check `plan` against `kernel` (undefined: say what cannot be checked, check the rest). */
export function checkPlan(plan: Plan, kernel: KernelBundle | undefined, fs: HostFs = nodeHostFs, options: CheckOptions = {}): Result<CheckReport, OsvError> {
  const objectCache = options.objects ?? (fs === nodeHostFs ? defaultObjectCache() : noObjectCache);
  const reportCache = options.reports ?? (fs === nodeHostFs ? defaultReportCache() : noReportCache);
  const hidden = plan.kernel.hiddenSymbols || kernel?.hiddenSymbols === true;
  // Keyed by the ELF's own hash (a bundle's primary sha256 may be loader.img's).
  const sha256 = kernel?.elf !== undefined ? (kernel.sha256s?.elf ?? kernel.sha256) : undefined;
  const noKernel = options.noKernelReason ?? (kernel ? 'the kernel bundle has no loader-stripped.elf (only a boot image)' : 'no kernel ELF was given');
  const inputs = reportCache.inputs(plan, { ...(sha256 !== undefined ? { sha256 } : { reason: noKernel }), hidden }, fs);
  const kept = inputs !== undefined ? reportCache.read(inputs) : undefined;
  if (kept) {
    // The objects' symbols only for symbolOwner (`osv up` reading a failed lookup), if asked.
    const objects = (): ImageObject[] => imageObjects(plan, fs, objectCache).objects;
    return ok(buildReport(kept.perObject, objects, kept.unreadable, { ...kept.kernel, ...(kept.kernel.checked ? { cached: true } : {}) }));
  }

  let ksyms: KernelSymbols | undefined;
  let kinfo: KernelCheckInfo;
  if (kernel?.elf !== undefined && sha256 !== undefined) {
    const r = loadKernelSymbols({ elf: kernel.elf, sha256 }, plan.arch, fs, options.cache ?? defaultCache());
    if (!r.ok) return r;
    ksyms = r.value.symbols;
    kinfo = { checked: true, sha256, symbols: ksyms.size, cached: r.value.cached };
  } else {
    kinfo = { checked: false, reason: noKernel };
  }

  const { objects, unreadable } = imageObjects(plan, fs, objectCache);
  const sonames = kernelSonames(plan.arch, hidden);
  const loader = new Loader(objects, new GuestFs(plan.entries), sonames);

  const reports = new Map<ImageObject, ObjectReport>();
  const checkGroup = (g: Group, role: (o: ImageObject) => LoadRole, run?: string): void => {
    for (const o of g.order) {
      if (reports.has(o)) continue;
      const r = checkObject(o, role(o), g, ksyms, sonames);
      if (run !== undefined) r.run = run;
      reports.set(o, r);
    }
  };

  // The selected run's program and its libraries.
  const byGuest = new Map(objects.map((o) => [o.guest, o]));
  const programOf = (runName: string): ImageObject | undefined => {
    const key = `${runKey(runName)}[0]`;
    const e = plan.entries.find((x) => x.why.some((w) => w.kind === 'config' && w.key === key));
    return e ? byGuest.get(e.guest) : undefined;
  };
  const program = programOf(plan.run.name);
  const main = program ? loader.load(program) : undefined;
  if (main) checkGroup(main, (o) => (o === program ? 'program' : 'needed'));

  // Other runs' programs boot separately: their own groups.
  const others = new Map<ImageObject, string>();
  for (const r of plan.runs) {
    if (r.name === plan.run.name) continue;
    const p = programOf(r.name);
    if (p && p !== program && !others.has(p)) others.set(p, r.name);
  }
  for (const [p, run] of others) checkGroup(loader.load(p), () => 'other-program', run);

  // Everything else is loaded at run time (dlopen) by the program. A library only another
  // such library needs is checked with it, not as a root of its own.
  // A shipped copy of a library the kernel provides (libc.so.6) is never loaded: the kernel's
  // alias for its soname wins. It is not checked.
  const rest = objects.filter((o) => !reports.has(o) && !(o.hasSoname && sonames.has(o.soname)));
  const groups = rest.map((o) => ({ o, g: loader.load(o, main) }));
  const reached = new Set<ImageObject>();
  for (const { o, g } of groups) for (const x of g.order) if (x !== o && !main?.order.includes(x)) reached.add(x);
  for (const { o, g } of groups) if (!reached.has(o)) checkGroup(g, () => (o.kind === 'pie' || o.kind === 'pde' ? 'other-program' : 'dlopen'));
  for (const { o, g } of groups) if (!reports.has(o)) checkGroup(g, () => 'dlopen'); // dependency cycles

  const perObject = objects.flatMap((o) => reports.get(o) ?? []);
  objectCache.flush();
  if (inputs !== undefined) reportCache.write(inputs, { kernel: kinfo, perObject, unreadable });
  return ok(buildReport(perObject, () => objects, unreadable, kinfo));
}

/** The default caches, one per process (so repeated checks read the kernel's files once). */
let processCache: SymbolCache | undefined;
const defaultCache = (): SymbolCache => (processCache ??= fileSymbolCache());
let processObjects: ObjectCache | undefined;
const defaultObjectCache = (): ObjectCache => (processObjects ??= fileObjectCache());
let processReports: ReportCache | undefined;
const defaultReportCache = (): ReportCache => (processReports ??= fileReportCache());

const isKernelName = (sonames: Set<string>, lib: string | undefined): boolean => lib !== undefined && sonames.has(lib);

function checkObject(o: ImageObject, role: LoadRole, g: Group, kernel: KernelSymbols | undefined, sonames: Set<string>): ObjectReport {
  const missingLibs = g.missing.get(o) ?? [];
  const stubs = osvStubs();
  const missing: MissingSymbol[] = [];
  const stubUses: StubUse[] = [];
  let unchecked = 0;
  for (const need of o.symbols.needs) {
    const r = lookup(need, g.order, kernel, o);
    if (r.status === 'found') {
      const stub = stubs.get(need.name);
      if (stub && r.by === KERNEL) stubUses.push({ name: need.name, effect: stub.effect });
      continue;
    }
    // Cannot tell: the definition may be in a library that is missing, or in the kernel we
    // do not have. A version needed from a library in the image is checkable either way.
    if (missingLibs.length > 0 && (need.from === undefined || missingLibs.includes(need.from))) {
      unchecked++;
      continue;
    }
    if (!kernel && (need.from === undefined || isKernelName(sonames, need.from))) {
      unchecked++;
      const stub = stubs.get(need.name);
      if (stub) stubUses.push({ name: need.name, effect: stub.effect });
      continue;
    }
    const m: MissingSymbol = { name: need.name, kind: need.kind, bind: need.bind, severity: severityOf(need.kind, need.bind), reason: r.status === 'version' ? 'version' : 'undefined' };
    if (need.version !== undefined) m.version = need.version;
    if (need.from !== undefined) m.from = need.from;
    if (r.status === 'version') m.offered = r.offered;
    missing.push(m);
  }
  const why = o.why;
  const chain = why?.kind === 'needed' ? [...why.chain, o.soname] : [o.soname];
  const declared = why === undefined ? '' : why.kind === 'needed' ? (why.declaredBy ? describeProvenance(why.declaredBy) : describeProvenance(why)) : describeProvenance(why);
  return { guest: o.guest, host: o.host, soname: o.soname, role, chain, declared, missingLibraries: missingLibs, missing, stubs: stubUses, needs: o.symbols.needs.length, unchecked };
}
