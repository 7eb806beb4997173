// Human-readable quantities, shared by every printer.

/** 1536 -> "1.5 KiB"; binary units, one decimal below 10. */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

/** 1 -> "1 layer", 2 -> "2 layers"; a consonant and y makes -ies ("2 libraries"); else `many` says it. */
export function plural(n: number, one: string, many = /[^aeiou]y$/.test(one) ? `${one.slice(0, -1)}ies` : `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/**
 * The longest wait osv can arm, in seconds: Node's timers hold at most 2^31 - 1 ms (about 24.8
 * days) and fire at once, after a warning, for anything longer. The shortest is a millisecond.
 */
export const MAX_WAIT_SECONDS = Math.floor((2 ** 31 - 1) / 1000);
export const MIN_WAIT_SECONDS = 0.001;

/** Why `seconds` cannot be waited for (too short, too long), or undefined when it can. */
export function waitProblem(seconds: number): string | undefined {
  if (seconds < MIN_WAIT_SECONDS) return 'is shorter than a millisecond';
  if (seconds > MAX_WAIT_SECONDS) return `is longer than osv can wait (at most ${MAX_WAIT_SECONDS} s, about 24.8 days)`;
  return undefined;
}
