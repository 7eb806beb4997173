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
