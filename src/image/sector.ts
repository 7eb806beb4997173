export const SECTOR = 512;
export const MiB = 1024 * 1024;

export const roundUp = (n: number, to: number): number => Math.ceil(n / to) * to;
