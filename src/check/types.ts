// The symbol check's contract: what `checkPlan` reports about a plan. Plain data (JSON-able)
// apart from `symbolOwner`, which the console scanner calls.

/** What kind of thing a needed symbol is, from its st_type in the needing object. */
export type SymbolKind = 'function' | 'data' | 'tls' | 'unknown';

/**
 * How the needing object binds the symbol, from the relocations that name it (strongest wins):
 * - copy: R_*_COPY: the loader copies the data out of the definition; it aborts without one;
 * - tls: a TLS relocation: the loader aborts without a definition;
 * - load: bound when the object is loaded (GLOB_DAT, R_X86_64_64): OSv points it at an
 *   unmapped page when missing, so the first use faults;
 * - plt: only through the PLT (JUMP_SLOT): OSv fails ("failed looking up symbol") when it is
 *   first called, and not before;
 * - none: no dynamic relocation names it.
 */
export type BindClass = 'copy' | 'tls' | 'load' | 'plt' | 'none';

export type Severity = 'error' | 'warning';

/** How an object got into the running program. */
export type LoadRole =
  | 'program' // the selected run's program
  | 'needed' // loaded with the program (its DT_NEEDED closure)
  | 'dlopen' // loaded at run time: a declared library, or an ELF in a files tree
  | 'other-program'; // another run's program, or a library only it needs

/** A needed symbol that nothing in the image (nor the kernel) defines. */
export interface MissingSymbol {
  name: string;
  /** The GNU version needed (e.g. "GLIBC_2.34"), when the reference is versioned. */
  version?: string;
  /** The file the version is needed from (e.g. "libc.so.6"). */
  from?: string;
  kind: SymbolKind;
  bind: BindClass;
  severity: Severity;
  /** undefined: no definition at all; version: defined, but not in the needed version. */
  reason: 'undefined' | 'version';
  /** For reason 'version': the versions that are defined, as "object: version". */
  offered?: string[];
}

/** A call OSv implements only as a failing stub, used by an object. */
export interface StubUse {
  name: string;
  /** What happens on OSv when it is called. */
  effect: string;
}

export interface ObjectReport {
  /** Guest path in the image. */
  guest: string;
  /** Host file it is copied from. */
  host: string;
  /** DT_SONAME, or the file name. */
  soname: string;
  role: LoadRole;
  /** Sonames from the root that brought it in to this object, e.g. ["python3", "libexpat.so.1"]. */
  chain: string[];
  /** For role 'other-program': the run whose program brought it in. */
  run?: string;
  /** Where the root was declared (e.g. "cmd[0] (osv.yaml:3:6)", "files[0], tree /usr/lib/python3.11"). */
  declared: string;
  /** DT_NEEDED libraries found nowhere in the image (nor provided by the kernel). */
  missingLibraries: string[];
  missing: MissingSymbol[];
  stubs: StubUse[];
  /** Undefined, non-weak symbols it needs. */
  needs: number;
  /** Of those, the ones that could not be checked (no kernel symbols, or a library missing). */
  unchecked: number;
}

/** One grouped finding: one object, one category, every symbol named in `symbols`. */
export interface Finding {
  /** Findings about other runs' programs are warnings here: `--run NAME` checks them. */
  severity: Severity;
  code:
    | 'check.missing-data' // data objects (or COPY/TLS needs) nobody defines: the program cannot start
    | 'check.missing-function' // functions nobody defines: fail when called
    | 'check.missing-version' // defined, but not in the version needed
    | 'check.missing-library' // DT_NEEDED not in the image
    | 'check.stub' // calls OSv only stubs
    | 'check.no-kernel' // kernel symbols not checked
    | 'check.unreadable'; // an ELF file of the plan could not be read
  /** Guest path of the object, when the finding is about one. */
  object?: string;
  message: string;
  symbols?: string[];
}

export interface KernelCheckInfo {
  /** Whether the kernel's exported symbols were checked against. */
  checked: boolean;
  sha256?: string;
  /** Exported symbols of the kernel. */
  symbols?: number;
  /** Loaded from the symbol cache (else read from the ELF). */
  cached?: boolean;
  /** Why not, when not checked. */
  reason?: string;
}

/** Which object needed a symbol, for mapping "failed looking up symbol X" back to its cause. */
export interface SymbolOwner {
  symbol: string;
  /** Guest path of the needing object. */
  object: string;
  soname: string;
  chain: string[];
  /** The finding for it, when the check reported it missing. */
  missing?: MissingSymbol;
}

export interface CheckTotals {
  objects: number;
  needs: number;
  unchecked: number;
  errors: number;
  warnings: number;
  missingFunctions: number;
  missingData: number;
  missingVersions: number;
  /** Distinct DT_NEEDED names found nowhere. */
  missingLibraries: number;
  stubCalls: number;
  /** Objects of other runs' programs with missing symbols or libraries (not in the counts above). */
  otherRunObjects: number;
}

export interface CheckReport {
  /** No errors (warnings allowed). */
  ok: boolean;
  errors: Finding[];
  warnings: Finding[];
  /** One line for `osv plan` and `osv build`, e.g. "symbols: ok, 58 warnings (...)". */
  summary: string;
  perObject: ObjectReport[];
  kernel: KernelCheckInfo;
  totals: CheckTotals;
  /**
   * The object that needs `symbol` (as OSv prints it: a C++ name may be followed by its
   * demangled form in parentheses); `object` (the guest path OSv prints before ": failed
   * looking up symbol") picks among several. An object that misses it comes first.
   */
  symbolOwner(symbol: string, object?: string): SymbolOwner | undefined;
}
