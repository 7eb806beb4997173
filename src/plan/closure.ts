// ELF objects and their library closures: the resolver finds the files; this places them.
// Roots go where they were declared; every needed library goes to /usr/lib/<soname>, where
// OSv's loader looks (it searches / then /usr/lib). Kernel-provided libraries are not shipped.

import { checkGuestName } from './guest-path.js';
import { posix } from 'node:path';
import { OsvError } from '../diagnostics/error.js';
import type { ResolvedObject, ResolveRoot } from '../resolve/types.js';
import type { PlanContext } from './context.js';
import { isUnder, sysrootRelative } from './host-path.js';
import { describeProvenance } from './provenance.js';
import type { Provenance } from './types.js';

export interface ClosureRequest {
  root: ResolveRoot;
  /** Where the root object goes in the image. */
  guest: (root: ResolvedObject) => string;
  declared: Provenance;
  /** The root itself may be absent (libraries[].optional). */
  optional?: boolean;
  /** The root's host path, when given by path (for messages). */
  host?: string;
  /** Permission bits for the root (files[].mode-like override); libraries keep the host's. */
  mode?: number;
  /**
   * The root is a file `files` copied, data as far as the user said: a root the resolver
   * cannot load (static, another machine, not a program) stays a plain copy, and a library
   * that cannot be found is a warning, not an error.
   */
  copied?: boolean;
}

/** A root given by host path, as the resolver wants it: relative to the sysroot when inside it. */
export function pathRoot(ctx: PlanContext, hostPath: string): ResolveRoot {
  const sysroot = ctx.config.sysroot;
  return { path: isUnder(sysroot, hostPath) ? sysrootRelative(sysroot, hostPath) : hostPath };
}

/** Resolve one root's closure and add its objects; returns the root's guest path when shipped. */
export function addClosure(ctx: PlanContext, req: ClosureRequest): string | undefined {
  const sysroot = ctx.config.sysroot;
  if ('path' in req.root && req.host !== undefined && sysroot !== '/' && !isUnder(sysroot, req.host)) {
    // The resolver works inside the sysroot (the program's $ORIGIN, RPATH and libraries all
    // live there); a program outside it would mix two file systems.
    if (req.copied) {
      ctx.warnings.push(`${describeProvenance(req.declared)}: ${req.host} is outside the sysroot ${sysroot}: the libraries it needs are not looked up`);
      return undefined;
    }
    ctx.errors.push(
      new OsvError({
        code: 'plan.outside-sysroot',
        // The host's own copy is used only where the sysroot has none: say that it has none.
        message: `${req.declared.kind === 'config' || req.declared.kind === 'module' ? (req.declared.key ?? req.declared.kind) : describeProvenance(req.declared)}: ${req.host} is outside the sysroot ${sysroot}${ctx.fs.lstat(sysroot + req.host) ? '' : ` (the sysroot has no ${sysroot}${req.host})`}`,
        hint: `with a sysroot, programs and libraries are read from inside it: put the file under ${sysroot} and name it by its path there`,
        ...(sourceOf(req.declared) ? { source: sourceOf(req.declared)! } : {}),
      }),
    );
    return undefined;
  }
  const r = ctx.resolve([req.root], { ...ctx.resolveOptions, optional: [...(ctx.resolveOptions.optional ?? []), ...(req.optional && 'soname' in req.root ? [req.root.soname] : [])] }, ctx.fs);
  if (!r.ok) {
    if (!req.copied) ctx.errors.push(withScriptHint(ctx, req, r.error));
    return undefined;
  }
  let rootGuest: string | undefined;
  for (const obj of r.value.objects) {
    if (obj.providedByKernel) {
      if (obj.root) ctx.warnings.push(`${obj.soname} (${describeProvenance(req.declared)}) is provided by the OSv kernel: not shipped`);
      if (!ctx.kernelProvided.has(obj.soname)) ctx.kernelProvided.set(obj.soname, { soname: obj.soname, host: obj.hostPath, chain: [...obj.chain, obj.soname] });
      continue;
    }
    const st = ctx.fs.stat(obj.hostPath);
    if (!st || st.kind !== 'file') {
      ctx.errors.push(new OsvError({ code: 'plan.not-found', message: `${obj.hostPath} (found for ${obj.soname}) is not a readable file`, hint: 'check the file and its permissions' }));
      continue;
    }
    const guest = obj.root ? req.guest(obj) : `/usr/lib/${obj.soname}`;
    const why: Provenance = obj.root
      ? req.declared
      : { kind: 'needed', by: obj.chain[obj.chain.length - 1] ?? obj.soname, chain: obj.chain, rule: obj.rule, tried: obj.tried, declaredBy: req.declared };
    const mode = obj.root && req.mode !== undefined ? req.mode : st.mode;
    const e = ctx.table.add({ guest, kind: 'file', host: obj.hostPath, size: st.size, mtimeMs: st.mtimeMs, ino: st.ino, mode, why: [why] });
    if (e) ctx.errors.push(e);
    if (obj.root) {
      rootGuest = guest;
      // A copied file's missing libraries were only warnings: as a program it is checked again.
      if (!req.copied) ctx.resolvedRoots.add(guest);
    }
    // OSv looks a DT_NEEDED (or dlopen) name up as written: a library asked for by another name
    // than its file's soname (linked against a file without DT_SONAME, renamed since) gets a
    // link with that name beside it.
    for (const name of [...(obj.requestedAs ?? []), ...(obj.root && 'soname' in req.root ? [req.root.soname] : [])]) {
      const dir = posix.dirname(guest);
      if (name === posix.basename(guest) || name.includes('/') || name === '.' || name === '..' || checkGuestName(name)) continue;
      ctx.aliases.push({ guest: dir === '/' ? `/${name}` : `${dir}/${name}`, kind: 'symlink', target: posix.basename(guest), why: [why] });
    }
    if (!obj.root || obj.kind === 'shared-library') ctx.libraries.add(guest);
  }
  for (const m of r.value.missing) {
    const chain = m.chain.length > 0 ? m.chain.join(' -> ') : undefined;
    const text = `${m.soname} not found${chain ? `, needed by ${chain}` : ''}`;
    if (m.optional) {
      ctx.warnings.push(`${text} (optional, not shipped)`);
      continue;
    }
    if (req.copied) {
      ctx.warnings.push(`library ${text} (${describeProvenance(req.declared)}): not shipped; the guest fails if it loads ${chain ? m.chain[0] : 'it'}`);
      continue;
    }
    const source = sourceOf(req.declared);
    ctx.errors.push(
      new OsvError({
        code: 'plan.library-not-found',
        message: `library ${text} (${describeProvenance(req.declared)})`,
        details: m.tried.length > 0 ? ['tried:', ...m.tried.map((t) => `  ${t}`)] : ['no search path had a candidate'],
        hint: `install it in the sysroot (${ctx.config.sysroot}), add its directory to libraryPath, or mark it optional under libraries`,
        ...(source ? { source } : {}),
      }),
    );
  }
  return rootGuest;
}

function sourceOf(p: Provenance) {
  return p.kind === 'config' || p.kind === 'module' ? p.source : undefined;
}

/** A resolver error on a root that is a `#!` script gets a hint: OSv runs ELF programs only. */
function withScriptHint(ctx: PlanContext, req: ClosureRequest, e: OsvError): OsvError {
  const host = req.host;
  if (host === undefined) return e;
  let head = '';
  try {
    head = ctx.fs.readRange(host, 0, 2).toString('latin1');
  } catch {
    return e;
  }
  if (head !== '#!') return e;
  const source = sourceOf(req.declared);
  return new OsvError({
    code: 'plan.script',
    message: `${host} is a script (#!), not an ELF program; OSv cannot run scripts (${describeProvenance(req.declared)})`,
    hint: 'name the interpreter instead, e.g. cmd: [/usr/bin/python3, script.py], and put the script in files (a PATH shim such as pyenv\'s is a script too)',
    ...(source ? { source } : {}),
    cause: e,
  });
}
