// Per-object results -> grouped findings, totals and the one summary line. Findings name at
// most a few symbols in their message (the full list is in `symbols`): a program missing 50
// functions gets one line, not 50.

import { posix } from 'node:path';
import type { ImageObject, Unreadable } from './image.js';
import type { CheckReport, CheckTotals, Finding, KernelCheckInfo, MissingSymbol, ObjectReport, SymbolOwner } from './types.js';
import { plural } from '../units.js';

const SHOWN = 8;
/** "12345" -> "12,345" (not toLocaleString: loading ICU costs more than the whole check). */
const thousands = (digits: string): string => digits.replace(/\B(?=(\d{3})+$)/g, ',');
const basename = (p: string): string => posix.basename(p);


/** "a, b, c (+12 more)". */
export function shortList(names: string[], shown = SHOWN): string {
  if (names.length <= shown) return names.join(', ');
  return `${names.slice(0, shown).join(', ')} (+${names.length - shown} more)`;
}

/** How a finding names its object: the soname with the load chain, or the path of a run-time library. */
export function objectLabel(r: ObjectReport): string {
  if (r.role === 'dlopen') return r.guest;
  return r.chain.length > 1 ? `${r.soname} (${r.chain.join(' -> ')})` : r.soname;
}

const symbolText = (m: MissingSymbol): string => (m.version !== undefined ? `${m.name}@${m.version}` : m.name);

/**
 * Another run's program is in the image too, but it is not what this check is about: its
 * errors are reported as warnings that say how to check it.
 */
function forOtherRun(r: ObjectReport, f: Finding): Finding {
  if (r.role !== 'other-program') return f;
  const how = r.run !== undefined ? `\`osv check --run ${r.run}\`` : 'a run whose program it is';
  return { ...f, severity: 'warning', message: `${f.message} [not the selected run's program: ${how} checks it]` };
}

/** Missing symbols (or stubbed calls) in byte order of their names. */
export const byName = (a: { name: string }, b: { name: string }): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

function objectFindings(r: ObjectReport): Finding[] {
  const out: Finding[] = [];
  // Findings name symbols in byte order (dynsym order means nothing to a reader).
  const missing = [...r.missing].sort(byName);
  const label = objectLabel(r);
  const at = { object: r.guest };
  const inProgram = r.role === 'program' || r.role === 'needed' || r.role === 'other-program';

  // (Run-time libraries missing libraries are grouped into one finding by buildReport.)
  if (r.missingLibraries.length > 0 && inProgram) {
    const libs = r.missingLibraries;
    out.push({
      severity: 'error',
      code: 'check.missing-library',
      ...at,
      message: `${label} needs ${shortList(libs)}, ${libs.length === 1 ? 'which is' : 'which are'} not in the image: OSv loads the program without ${libs.length === 1 ? 'it' : 'them'}, and every symbol from ${libs.length === 1 ? 'it' : 'them'} fails (not checked)`,
      symbols: libs,
    });
  }

  const undefinedErrors = missing.filter((m) => m.reason === 'undefined' && m.severity === 'error');
  if (undefinedErrors.length > 0) {
    const aborts = undefinedErrors.some((m) => m.bind === 'copy' || m.bind === 'tls' || m.kind === 'tls');
    out.push({
      severity: 'error',
      code: 'check.missing-data',
      ...at,
      message: `${label} needs ${plural(undefinedErrors.length, 'data object')} that nothing in the image or the kernel defines: ${shortList(undefinedErrors.map(symbolText))}; ${aborts ? 'the loader aborts before the program starts' : 'the program faults when it first reads them'}`,
      symbols: undefinedErrors.map((m) => m.name),
    });
  }

  const functions = missing.filter((m) => m.reason === 'undefined' && m.severity === 'warning');
  if (functions.length > 0) {
    const plt = functions.filter((m) => m.bind === 'plt' || m.bind === 'none').length;
    const how = plt === functions.length ? 'all via PLT' : `${plt} via PLT, ${functions.length - plt} bound at load (a call through them faults)`;
    out.push({
      severity: 'warning',
      code: 'check.missing-function',
      ...at,
      message: `${label}: ${plural(functions.length, 'function')} OSv lacks, ${how} (fails only if called): ${shortList(functions.map((m) => m.name))}`,
      symbols: functions.map((m) => m.name),
    });
  }

  for (const severity of ['error', 'warning'] as const) {
    const versions = missing.filter((m) => m.reason === 'version' && m.severity === severity);
    if (versions.length === 0) continue;
    const first = versions[0]!;
    out.push({
      severity,
      code: 'check.missing-version',
      ...at,
      message:
        `${label} needs ${plural(versions.length, 'symbol')} in a version nothing defines: ${shortList(versions.map(symbolText))}` +
        ` (${first.version !== undefined ? symbolText(first) : `${first.name}, unversioned,`} is defined only as ${(first.offered ?? []).join(', ')})` +
        "; OSv's loader ignores versions and binds the version there is, which may behave differently (Linux's ld.so refuses to load it)",
      symbols: versions.map((m) => m.name),
    });
  }

  if (r.stubs.length > 0) {
    const stubs = [...r.stubs].sort(byName);
    const byEffect = new Map<string, string[]>();
    for (const s of stubs) byEffect.set(s.effect, [...(byEffect.get(s.effect) ?? []), s.name]);
    out.push({
      severity: 'warning',
      code: 'check.stub',
      ...at,
      message: `${label} uses ${plural(r.stubs.length, 'call')} OSv only stubs: ${[...byEffect].map(([effect, names]) => `${names.join(', ')}: ${effect}`).join('; ')}`,
      symbols: stubs.map((s) => s.name),
    });
  }
  return out;
}

export function buildReport(perObject: ObjectReport[], objects: () => ImageObject[], unreadable: Unreadable[], kernel: KernelCheckInfo): CheckReport {
  const findings: Finding[] = perObject.flatMap((r) => objectFindings(r).map((f) => forOtherRun(r, f)));
  const lacking = perObject.filter((r) => r.role === 'dlopen' && r.missingLibraries.length > 0);
  if (lacking.length > 0) {
    const libs = [...new Set(lacking.flatMap((r) => r.missingLibraries))];
    const names = lacking.map((r) => `${basename(r.guest)} (${r.missingLibraries.join(', ')})`);
    findings.push({
      severity: 'warning',
      code: 'check.missing-library',
      message: `${plural(lacking.length, 'library', 'libraries')} loaded at run time ${lacking.length === 1 ? 'needs' : 'need'} libraries that are not in the image, so using ${lacking.length === 1 ? 'it' : 'them'} will fail: ${shortList(names, 6)}; add the libraries under \`libraries\` to ship them`,
      symbols: libs,
    });
  }
  for (const u of unreadable) findings.push({ severity: 'warning', code: 'check.unreadable', object: u.guest, message: `${u.guest} (${u.host}) was not checked: ${u.reason}` });

  const totals: CheckTotals = { objects: perObject.length, needs: 0, unchecked: 0, errors: 0, warnings: 0, missingFunctions: 0, missingData: 0, missingVersions: 0, missingLibraries: 0, stubCalls: 0, otherRunObjects: 0 };
  for (const r of perObject) {
    totals.needs += r.needs;
    totals.unchecked += r.unchecked;
    if (r.role === 'other-program') {
      if (r.missing.length + r.missingLibraries.length > 0) totals.otherRunObjects++;
      continue; // counted apart: see forOtherRun
    }
    totals.stubCalls += r.stubs.length;
    for (const m of r.missing) {
      if (m.reason === 'version') totals.missingVersions++;
      else if (m.severity === 'error') totals.missingData++;
      else totals.missingFunctions++;
    }
  }
  totals.missingLibraries = new Set(perObject.filter((r) => r.role !== 'other-program').flatMap((r) => r.missingLibraries)).size;
  if (!kernel.checked) {
    findings.push({
      severity: 'warning',
      code: 'check.no-kernel',
      message: `the kernel's symbols were not checked: ${kernel.reason}. ${plural(totals.unchecked, 'needed symbol').replace(/^\d+/, thousands)} that no object of the image defines may or may not be provided by OSv`,
    });
  }
  const errors = findings.filter((f) => f.severity === 'error');
  const warnings = findings.filter((f) => f.severity === 'warning');
  totals.errors = errors.length;
  totals.warnings = warnings.length;

  return {
    ok: errors.length === 0,
    errors,
    warnings,
    summary: summaryLine(totals, kernel),
    perObject,
    kernel,
    totals,
    symbolOwner: ownerIndex(perObject, objects),
  };
}

/** e.g. "symbols: no errors; 58 functions OSv lacks (warnings), 9 stubbed calls — 48 objects, 6,120 needs, kernel 14,872 exports". */
export function summaryLine(t: CheckTotals, kernel: KernelCheckInfo): string {
  const problems: string[] = [];
  if (t.missingData > 0) problems.push(`${plural(t.missingData, 'missing data object')} (errors)`);
  if (t.missingLibraries > 0) problems.push(`${plural(t.missingLibraries, 'needed library', 'needed libraries')} not in the image`);
  if (t.missingVersions > 0) problems.push(`${plural(t.missingVersions, 'version mismatch', 'version mismatches')}`);
  if (t.missingFunctions > 0) problems.push(`${plural(t.missingFunctions, 'function')} OSv lacks (warnings: fail only if called)`);
  if (t.stubCalls > 0) problems.push(`${plural(t.stubCalls, 'stubbed call')}`);
  if (t.otherRunObjects > 0) problems.push(`problems in ${plural(t.otherRunObjects, 'object')} of other runs' programs (check them with --run)`);
  const head = t.errors > 0 ? `symbols: ${plural(t.errors, 'error')}` : 'symbols: no errors';
  const n = (x: number): string => thousands(String(x));
  const scope = `${plural(t.objects, 'object')}, ${n(t.needs)} needed symbols`;
  const k = kernel.checked ? `kernel ${n(kernel.symbols ?? 0)} exports` : `kernel NOT checked, ${n(t.unchecked)} symbols unchecked`;
  return `${head}${problems.length ? `; ${problems.join(', ')}` : ', all found'} [${scope}; ${k}]`;
}

/** symbolOwner: an index of every needed symbol, built on first use. */
function ownerIndex(perObject: ObjectReport[], objects: () => ImageObject[]): CheckReport['symbolOwner'] {
  let index: Map<string, SymbolOwner[]> | undefined;
  const build = (): Map<string, SymbolOwner[]> => {
    const m = new Map<string, SymbolOwner[]>();
    const reports = new Map(perObject.map((r) => [r.guest, r]));
    for (const o of objects()) {
      const r = reports.get(o.guest);
      if (!r) continue;
      const missing = new Map(r.missing.map((x) => [x.name, x]));
      for (const need of o.symbols.needs) {
        const owner: SymbolOwner = { symbol: need.name, object: o.guest, soname: o.soname, chain: r.chain };
        const mm = missing.get(need.name);
        if (mm) owner.missing = mm;
        const list = m.get(need.name);
        if (list) list.push(owner);
        else m.set(need.name, [owner]);
      }
    }
    for (const list of m.values()) list.sort((a, b) => Number(b.missing !== undefined) - Number(a.missing !== undefined));
    return m;
  };
  return (printed, object) => {
    index ??= build();
    // OSv prints C++ names as "mangled (demangled)": the mangled one is the symbol.
    const symbol = printed.trim().split(' (')[0]!;
    const list = index.get(symbol);
    if (!list) return undefined;
    if (object !== undefined) {
      const hit = list.find((x) => x.object === object) ?? list.find((x) => x.soname === object || x.object.endsWith(`/${object}`));
      if (hit) return hit;
    }
    return list[0];
  };
}
