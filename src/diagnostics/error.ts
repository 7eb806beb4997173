// One error type for the whole tool. Stages return or throw OsvError; only the CLI renders it.

/** Where a value came from: a file and a 1-based line and column. */
export interface Source {
  file: string;
  line: number;
  column: number;
}

/** Process exit codes (README documents them). */
export const ExitCode = {
  ok: 0,
  invalidInput: 1,
  usage: 2,
  buildFailed: 3,
  guestFailed: 4,
  // `osv up` and `osv run` (not --ci) exit with the program's own status, as `docker run`
  // does; these three, from docker's range, are what they keep for themselves.
  /** osv-up or the hypervisor failed: invalid input, usage, the build, QEMU itself. */
  osvFailed: 125,
  /** The guest failed without an exit status: an OSv failure line, a timeout, no status reported. */
  noStatus: 126,
  /** OSv could not load the program (not in the image, or not an ELF it loads). */
  programNotLoaded: 127,
  interrupted: 130,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export interface OsvErrorInit {
  /** Stable machine-readable code, e.g. `config.unknown-key`, `elf.truncated`, `resolve.not-found`. */
  code: string;
  message: string;
  /** What the user can do about it. */
  hint?: string;
  source?: Source;
  /** Extra lines shown under the message (tried paths, a chain, a code frame). */
  details?: string[];
  exitCode?: ExitCode;
  cause?: unknown;
}

export class OsvError extends Error {
  readonly code: string;
  readonly hint: string | undefined;
  readonly source: Source | undefined;
  readonly details: string[];
  readonly exitCode: ExitCode;

  constructor(init: OsvErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = 'OsvError';
    this.code = init.code;
    this.hint = init.hint;
    this.source = init.source;
    this.details = init.details ?? [];
    this.exitCode = init.exitCode ?? ExitCode.invalidInput;
  }

  toJSON(): Record<string, unknown> {
    return {
      code: this.code,
      message: this.message,
      ...(this.hint ? { hint: this.hint } : {}),
      ...(this.source ? { source: this.source } : {}),
      ...(this.details.length ? { details: this.details } : {}),
    };
  }
}

/** Several errors reported at once (e.g. every schema error of a file). */
export class OsvErrors extends Error {
  readonly errors: OsvError[];
  constructor(errors: OsvError[]) {
    super(errors.map((e) => e.message).join('\n'));
    this.name = 'OsvErrors';
    this.errors = errors;
  }
  get exitCode(): ExitCode {
    return this.errors[0]?.exitCode ?? ExitCode.invalidInput;
  }
}

export function isOsvError(e: unknown): e is OsvError {
  return e instanceof OsvError;
}

export function formatSource(s: Source): string {
  return `${s.file}:${s.line}:${s.column}`;
}
