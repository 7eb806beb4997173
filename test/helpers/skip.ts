// A test that cannot run here skips and says why, never passes in silence:
//   describe.skipIf(lacks('osv check', [hasGcc, 'gcc is not installed (it compiles the fixtures)']))(...)

/**
 * True when any precondition is missing, after printing "skipped: WHAT: REASON" (at
 * collection time, where vitest evaluates skipIf) for each missing one.
 */
export function lacks(what: string, ...needs: ReadonlyArray<readonly [ok: unknown, reason: string]>): boolean {
  const why = needs.filter(([ok]) => !ok).map(([, reason]) => reason);
  if (why.length > 0) console.warn(`skipped: ${what}: ${why.join('; ')}`);
  return why.length > 0;
}
