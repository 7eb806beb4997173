// The symbol check's findings for a project's plan, kept so that checking an unchanged image
// again (`osv plan`, `osv check`, a build after an edit that moved no ELF file) does not look
// up its thousands of symbols again: in a fresh process that was half of `osv plan`'s time,
// even with every object's symbols kept (object-cache.ts). Under
// $XDG_CACHE_HOME/osv-up/checks/<slot>.json (default ~/.cache), one file per image name and run,
// with the inputs it was computed from as text: the plan's entries, the file identity of every
// ELF candidate (dev, ino, size, mtime, ctime), the kernel's sha256, and the source this osv
// was built from (source-id.ts: an osv run from source keeps nothing). Used only when all of
// them are equal, compared as text (no hash: loading node:crypto would cost more). Data only,
// checked field by field when read: a damaged or foreign entry is a miss; a failed write only
// costs time; a tampered entry can at worst make the report wrong (docs/security.md).

import * as fs from 'node:fs';
import * as path from 'node:path';
import { makeDirs, writeFileAtomic } from '../atomic.js';
import type { HostFs } from '../hostfs.js';
import type { Plan } from '../plan/types.js';
import { sourceId } from '../source-id.js';
import { candidates, type Unreadable } from './image.js';
import { defaultSymbolCacheDir } from './symbol-cache.js';
import type { KernelCheckInfo, MissingSymbol, ObjectReport, StubUse } from './types.js';
import { readOwnedJson } from '../owned-file.js';

/** What the check found, without what buildReport derives from it. */
export interface Findings {
  kernel: KernelCheckInfo;
  perObject: ObjectReport[];
  unreadable: Unreadable[];
}

/** What a check is computed from: all of it as text, and the slot its findings are kept in. */
export interface ReportInputs {
  text: string;
  /** A file name for the image, run and kernel. */
  slot: string;
}

export interface ReportCache {
  /** The inputs of checking `plan`, or undefined when this cache keeps nothing. */
  inputs(plan: Plan, kernel: { sha256?: string; hidden: boolean; reason?: string }, fs: HostFs): ReportInputs | undefined;
  read(inputs: ReportInputs): Findings | undefined;
  write(inputs: ReportInputs, findings: Findings): void;
}

export const noReportCache: ReportCache = { inputs: () => undefined, read: () => undefined, write: () => undefined };

/** Bump when what is kept changes shape. */
const FORMAT = 1;

const isStr = (x: unknown): x is string => typeof x === 'string';
const isNum = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);
const isStrs = (x: unknown): x is string[] => Array.isArray(x) && x.every(isStr);
const isObj = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
const optional = (x: unknown, is: (y: unknown) => boolean): boolean => x === undefined || is(x);
const oneOf =
  (...values: string[]) =>
  (x: unknown): boolean =>
    values.includes(x as string);

function isMissing(x: unknown): x is MissingSymbol {
  return (
    isObj(x) &&
    isStr(x['name']) &&
    optional(x['version'], isStr) &&
    optional(x['from'], isStr) &&
    oneOf('function', 'data', 'tls', 'unknown')(x['kind']) &&
    oneOf('copy', 'tls', 'load', 'plt', 'none')(x['bind']) &&
    oneOf('error', 'warning')(x['severity']) &&
    oneOf('undefined', 'version')(x['reason']) &&
    optional(x['offered'], isStrs)
  );
}

const isStub = (x: unknown): x is StubUse => isObj(x) && isStr(x['name']) && isStr(x['effect']);

function isObjectReport(x: unknown): x is ObjectReport {
  return (
    isObj(x) &&
    isStr(x['guest']) &&
    isStr(x['host']) &&
    isStr(x['soname']) &&
    oneOf('program', 'needed', 'dlopen', 'other-program')(x['role']) &&
    isStrs(x['chain']) &&
    optional(x['run'], isStr) &&
    isStr(x['declared']) &&
    isStrs(x['missingLibraries']) &&
    Array.isArray(x['missing']) &&
    x['missing'].every(isMissing) &&
    Array.isArray(x['stubs']) &&
    x['stubs'].every(isStub) &&
    isNum(x['needs']) &&
    isNum(x['unchecked'])
  );
}

const isUnreadable = (x: unknown): x is Unreadable => isObj(x) && isStr(x['guest']) && isStr(x['host']) && isStr(x['reason']);

function isKernelInfo(x: unknown): x is KernelCheckInfo {
  return isObj(x) && typeof x['checked'] === 'boolean' && optional(x['sha256'], isStr) && optional(x['symbols'], isNum) && optional(x['cached'], (y) => typeof y === 'boolean') && optional(x['reason'], isStr);
}

/** An entry as written. */
interface Entry extends Findings {
  format: number;
  inputs: string;
}

function isEntry(x: unknown): x is Entry {
  return (
    isObj(x) &&
    x['format'] === FORMAT &&
    isStr(x['inputs']) &&
    isKernelInfo(x['kernel']) &&
    Array.isArray(x['perObject']) &&
    x['perObject'].every(isObjectReport) &&
    Array.isArray(x['unreadable']) &&
    x['unreadable'].every(isUnreadable)
  );
}

/**
 * A file name for the image name, arch, run and kernel (FNV-1a): what a project checks again and
 * again stays in its slot (and the directory stays small); two projects of one image name take
 * turns, which only costs a miss. The kernel is in it because commands that know it differently
 * (`osv plan` and `osv check` without a kernel give different reasons) would take turns too.
 */
function slotOf(plan: Plan, kernel: unknown): string {
  let h = 0x811c9dc5;
  for (const ch of `${plan.name}\0${plan.arch}\0${plan.run.name}\0${JSON.stringify(kernel)}`) h = Math.imul(h ^ ch.codePointAt(0)!, 0x01000193) >>> 0;
  return `${h.toString(16).padStart(8, '0')}.json`;
}

export const defaultReportCacheDir = (env: Record<string, string | undefined> = process.env): string => path.join(path.dirname(defaultSymbolCacheDir(env)), 'checks');

/** A cache in a directory (created on first write); keeps nothing for an osv run from source. */
export function fileReportCache(dir: string = defaultReportCacheDir(), source: string | undefined = sourceId): ReportCache {
  if (source === undefined) return noReportCache;
  return {
    inputs(plan, kernel, hostFs) {
      const identities = candidates(plan).map((e) => {
        const st = hostFs.stat(e.host);
        return st ? `${st.kind} ${st.dev} ${st.ino} ${st.size} ${st.mtimeMs} ${st.ctimeMs}` : null;
      });
      const { arch, entries, runs } = plan;
      const text = JSON.stringify({ source, kernel, arch, run: plan.run.name, runs: runs.map((r) => r.name), hidden: plan.kernel.hiddenSymbols, entries, identities });
      return { text, slot: slotOf(plan, kernel) };
    },
    read(inputs) {
      const e = readOwnedJson(path.join(dir, inputs.slot));
      if (!isEntry(e) || e.inputs !== inputs.text) return undefined;
      return { kernel: e.kernel, perObject: e.perObject, unreadable: e.unreadable };
    },
    write(inputs, findings) {
      const e: Entry = { format: FORMAT, inputs: inputs.text, ...findings };
      try {
        makeDirs(dir);
        writeFileAtomic(path.join(dir, inputs.slot), JSON.stringify(e));
      } catch {
        // a read-only cache only costs time
      }
    },
  };
}
