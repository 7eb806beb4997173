// OSv's command line is loader options followed by the application (facts §5.2): while the
// next non-blank character is '-', one option token is taken (a backslash escapes a
// delimiter); the first other token starts the application part, kept verbatim.

const isBlank = (c: string): boolean => c === ' ' || c === '\t' || c === '\n';

export interface SplitCmdline {
  /** Raw option tokens, escapes kept, e.g. `--env=A=b\ c`. */
  options: string[];
  /** The application part, verbatim (may be empty). */
  app: string;
}

export function splitCmdline(cmdline: string): SplitCmdline {
  const options: string[] = [];
  let i = 0;
  for (;;) {
    while (i < cmdline.length && isBlank(cmdline[i]!)) i++;
    if (cmdline[i] !== '-') break;
    let tok = '';
    while (i < cmdline.length && !isBlank(cmdline[i]!)) {
      if (cmdline[i] === '\\' && i + 1 < cmdline.length) tok += cmdline[i++]!;
      tok += cmdline[i++]!;
    }
    options.push(tok);
  }
  return { options, app: cmdline.slice(i) };
}

/** `--ip=a,b,c` -> `ip`; `--verbose` -> `verbose`. */
export function optionName(token: string): string {
  const eq = token.indexOf('=');
  return token.slice(2, eq < 0 ? undefined : eq);
}

/** The loader options OSv takes more than once (facts §5.2). */
const REPEATABLE = new Set(['env', 'ip', 'trace', 'mount-fs']);

/**
 * Add loader options before the application. An option whose name is already present is left
 * as the user wrote it (OSv rejects mixed flag/value forms and ignores repeats of single-valued
 * options, so adding a second one would at best be noise); a repeatable one is added unless
 * the very same token is there.
 */
export function addKernelOptions(cmdline: string, add: readonly string[]): string {
  const { options, app } = splitCmdline(cmdline);
  const present = new Set(options.map(optionName));
  const extra = add.filter((o) => (REPEATABLE.has(optionName(o)) ? !options.includes(o) : !present.has(optionName(o))));
  if (extra.length === 0) return cmdline;
  return [...options, ...extra, app].filter((s) => s !== '').join(' ');
}

export function hasKernelOption(cmdline: string, name: string): boolean {
  return splitCmdline(cmdline).options.some((o) => optionName(o) === name);
}
