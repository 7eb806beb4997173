// Values osv-up treats as secrets: what `${env:NAME}` read from the host environment (a token, a
// password passed in by CI). The guest needs them, so they stay in the boot command line, the
// image's build record and the no-op record (files written 0600); everything osv-up prints
// (plans, build lines, --json, manifests, dry runs, `osv config`) shows `***` in their place.
// This is the one place that decides how; every printer calls it. docs/security.md says why.

export const MASK = '***';

/**
 * How a value can appear in what osv-up prints: as is, escaped as a loader option, quoted as an
 * application word (facts doc §5), and each of those inside shell quotes (a --dry-run command).
 */
function spellings(value: string): string[] {
  const option = value.replace(/[\\ \t\n]/g, (c) => `\\${c}`);
  const quoted = value.replace(/[\\"]/g, (c) => `\\${c}`).replace(/\n/g, '\\n').replace(/\t/g, '\\t').replace(/\r/g, '\\r');
  const plain = [value, option, quoted];
  return [...new Set([...plain, ...plain.map((p) => p.replace(/'/g, `'\\''`))])];
}

/** `text` with every spelling of every secret replaced by ***, longest first. */
export function maskText(text: string, secrets: readonly string[]): string {
  if (secrets.length === 0) return text;
  const all = secrets.filter((s) => s !== '').flatMap(spellings).sort((a, b) => b.length - a.length);
  let out = text;
  for (const s of all) out = out.split(s).join(MASK);
  return out;
}

/** A copy of a JSON-like value with every string masked (keys are names, not values: left as they are). */
export function maskDeep<T>(value: T, secrets: readonly string[]): T {
  if (secrets.length === 0) return value;
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return maskText(v, secrets);
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === 'object' && !(v instanceof Map)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    return v;
  };
  return walk(value) as T;
}
