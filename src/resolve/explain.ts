// `osv resolve --explain`: the closure as a tree of who needed what, each library with the
// rule that found it, the paths tried before it and the candidates passed over.

import type { Closure, MissingLibrary, ResolvedObject } from './types.js';

export function explainClosure(c: Closure): string {
  // In the function, not at module level, so that mutation testing can tell which test reads it.
  const ruleText: Record<ResolvedObject['rule'], string> = {
    path: 'by path',
    rpath: 'DT_RPATH',
    'library-path': 'library path',
    runpath: 'DT_RUNPATH',
    'ld.so.cache': 'ld.so.cache',
    default: 'default directory',
    kernel: 'not on the host',
  };
  const bySoname = new Map<string, ResolvedObject>();
  for (const o of c.objects) for (const n of [o.soname, ...(o.requestedAs ?? [])]) if (!bySoname.has(n)) bySoname.set(n, o);
  const missing = new Map<string, MissingLibrary>(c.missing.map((m) => [m.soname, m]));
  const shown = new Set<ResolvedObject>();
  const out: string[] = [];

  const describe = (o: ResolvedObject): string => {
    const where = o.hostPath === '' ? o.path : o.hostPath === o.path ? o.path : `${o.path} -> ${o.hostPath}`;
    const tags = [o.kind === 'shared-library' ? '' : o.kind.toUpperCase(), ruleText[o.rule], o.providedByKernel ? 'provided by the OSv kernel, not shipped' : ''].filter(Boolean);
    return `${where} [${tags.join(', ')}]`;
  };
  const notes = (o: ResolvedObject, pad: string): void => {
    if (o.tried.length) out.push(`${pad}tried first: ${o.tried.join(', ')}`);
    for (const s of o.skipped ?? []) out.push(`${pad}skipped ${s.path}: ${s.reason}`);
  };
  const walk = (o: ResolvedObject, pad: string): void => {
    shown.add(o);
    const kids = o.providedByKernel ? [] : o.needed;
    kids.forEach((name, i) => {
      const last = i === kids.length - 1;
      const branch = pad + (last ? '└─ ' : '├─ ');
      const next = pad + (last ? '   ' : '│  ');
      const child = bySoname.get(name);
      if (!child) {
        // A needed name that loaded nothing is in the missing list (by the name as needed).
        const m = missing.get(name)!;
        out.push(`${branch}${name}: NOT FOUND${m.optional ? ' (optional)' : ''}`);
        if (m.tried.length) out.push(`${next}   tried: ${m.tried.join(', ')}`);
        for (const s of m.skipped ?? []) out.push(`${next}   skipped ${s.path}: ${s.reason}`);
        return;
      }
      // A library is explained under the object that first needed it; elsewhere it is a reference.
      const first = child.chain[child.chain.length - 1] === o.soname && !shown.has(child);
      if (!first) {
        const first = child.chain[child.chain.length - 1];
        out.push(`${branch}${name} (${first === undefined ? 'a root' : `shown under ${first}`}${child.providedByKernel ? ', kernel' : ''})`);
        return;
      }
      out.push(`${branch}${name} => ${describe(child)}`);
      notes(child, next + '   ');
      walk(child, next);
    });
  };

  for (const r of c.objects.filter((x) => x.root)) {
    // A soname root (dlopen) that a program needs too is explained where it was needed.
    if (shown.has(r)) {
      out.push(`${r.soname} (a root too; shown under ${r.chain[r.chain.length - 1]})`);
      continue;
    }
    out.push(`${r.soname} => ${describe(r)}${r.interpreter ? ` interpreter ${r.interpreter}` : ''}`);
    if (r.rpath !== undefined) out.push(`   DT_RPATH ${r.rpath}`);
    if (r.runpath !== undefined) out.push(`   DT_RUNPATH ${r.runpath}`);
    walk(r, '');
  }
  const rest = c.objects.filter((o) => !shown.has(o) && !o.root);
  if (rest.length) {
    out.push('also loaded (the interpreter, PT_INTERP):');
    for (const o of rest) out.push(`   ${o.soname} => ${describe(o)}`);
  }
  for (const m of c.missing.filter((x) => x.chain.length === 0)) out.push(`${m.soname}: NOT FOUND${m.optional ? ' (optional)' : ''}; tried: ${m.tried.join(', ')}`);
  const shipped = c.objects.filter((o) => !o.root && !o.providedByKernel).length;
  const kernel = c.objects.filter((o) => o.providedByKernel).length;
  out.push('', `${shipped} ${shipped === 1 ? 'library' : 'libraries'} to ship, ${kernel} provided by the OSv kernel, ${c.missing.length} missing`);
  return out.join('\n') + '\n';
}
