// POSIX shell quoting for --dry-run: the printed command, pasted into sh/bash, runs exactly
// the argv we would spawn.

const SAFE = /^[A-Za-z0-9_@%+=:,./-]+$/;

export function shellQuoteArg(arg: string): string {
  if (arg !== '' && SAFE.test(arg)) return arg;
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

export function shellQuote(argv: readonly string[]): string {
  return argv.map(shellQuoteArg).join(' ');
}
