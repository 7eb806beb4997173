// The programs the runs start, and their boot command lines.
//
// Where cmd[0] goes in the image:
// - a guest path that an entry already provides (an `executables`/`files` dest, a module
//   file) is used as is;
// - an absolute host path keeps its path in the guest (/usr/bin/python3 stays
//   /usr/bin/python3, so programs that find their files relative to themselves still do),
//   except a program inside the project directory, which goes to /<name>;
// - a relative path (./build/app) is taken against the project directory and goes to /<name>;
// - a bare name is a file OSv finds at /<name> (OSv looks in / first), or else is looked up
//   on the host's PATH and copied to /<name>.
// Every run's program is in the image, so one image serves all named runs.

import { OsvError, type Source } from '../diagnostics/error.js';
import type { RunConfig } from '../config/types.js';
import { posix } from 'node:path';
import { buildCmdline } from './cmdline.js';
import { addClosure, pathRoot } from './closure.js';
import type { PlanContext } from './context.js';
import { isUnder, sysrootRelative } from './host-path.js';
import { findProgram, guestPath, searchPath, strict } from './specs.js';
import { ElfFile } from '../elf/file.js';
import { GuestFs } from './guest-fs.js';
import type { PlanEntry, PlannedRun, Provenance } from './types.js';
import { mountOptions } from './volume-mounts.js';

export const runKey = (name: string): string => (name === 'default' ? 'cmd' : `runs.${name}.cmd`);

/** The runs to plan: the default one first, then the named ones in the order declared. */
export function allRuns(ctx: PlanContext): Array<{ name: string; run: RunConfig }> {
  const out = [{ name: 'default', run: ctx.config.runs['default'] ?? ctx.config.defaultRun }];
  for (const [name, run] of Object.entries(ctx.config.runs)) if (name !== 'default') out.push({ name, run });
  return out;
}

/** Where a run's key was written (`cmd/0` of a named run may be inherited from the top level). */
export function runSource(ctx: PlanContext, name: string, run: RunConfig, key: string): Source | undefined {
  const s = ctx.config.sources;
  return (name === 'default' ? undefined : s.get(`runs/${name}/${key}`)) ?? s.get(key) ?? run.source;
}

/** Put a run's program in the image; returns its guest path. */
export function planProgram(ctx: PlanContext, name: string, run: RunConfig): string | undefined {
  const cmd0 = run.cmd?.[0];
  if (cmd0 === undefined) return undefined;
  const key = `${runKey(name)}[0]`;
  const source = runSource(ctx, name, run, 'cmd/0');
  const fromImage = run.fromImage?.cmd === true;
  const declared: Provenance = { kind: 'config', key, ...(source && !fromImage ? { source } : {}), ...(fromImage ? { detail: `Entrypoint + Cmd of the image ${ctx.config.from?.text ?? ''}`.trimEnd() } : {}) };
  if (cmd0 === '') {
    ctx.errors.push(new OsvError({ code: 'plan.cmd', message: `${key} is empty`, hint: 'name the program to run', ...(source ? { source } : {}) }));
    return undefined;
  }

  // Already in the image (declared elsewhere)?
  const asGuest = cmd0.startsWith('/') ? guestPath(ctx, cmd0, key, source) : cmd0.includes('/') ? undefined : `/${cmd0}`;
  if (cmd0.startsWith('/') && asGuest === undefined) return undefined;
  const existing = asGuest !== undefined ? ctx.table.get(asGuest) : undefined;
  if (asGuest !== undefined && existing) {
    if (existing.kind === 'dir') {
      ctx.errors.push(new OsvError({ code: 'plan.cmd', message: `${key}: ${asGuest} is a directory in the image, not a program`, hint: 'point cmd at the program file', ...(source ? { source } : {}) }));
      return undefined;
    }
    useEntry(ctx, existing, asGuest, declared);
    return asGuest;
  }

  // Through a link the image makes (files: {dest: /opt/app, link: /opt/app-2}): the program is
  // where the link leads, in the image or else from the host path of that name.
  const linked = asGuest !== undefined && cmd0.startsWith('/') ? throughGuestLinks(ctx, asGuest) : undefined;
  if (linked !== undefined) {
    const fail = (message: string): undefined => void ctx.errors.push(new OsvError({ code: 'plan.cmd', message: `${key}: ${message}`, hint: 'point cmd, or the link, at the program file', ...(source ? { source } : {}) }));
    if (linked === 'loop') return fail(`${asGuest} never reaches a file (a loop of links)`);
    const leads = `${asGuest} leads to ${linked} through the image's links`;
    const there = ctx.table.get(linked);
    if (there?.kind === 'dir') return fail(`${leads}, a directory, not a program`);
    if (there?.kind === 'file') {
      useEntry(ctx, there, linked, declared);
      return asGuest;
    }
    const host = findProgram(ctx, linked, `${key} (${leads})`, source, searchPath(ctx, run.env));
    if (!host || (strict(ctx) && refuseMusl(ctx, host, key, source))) return undefined;
    addClosure(ctx, { root: pathRoot(ctx, host), host, guest: () => linked, declared });
    return asGuest;
  }

  const host = findProgram(ctx, cmd0, key, source, searchPath(ctx, run.env));
  if (!host) return undefined;
  let guest: string;
  // An image's program keeps its path in the image, wherever PATH found it.
  if (strict(ctx) && isUnder(ctx.config.sysroot, host)) guest = sysrootRelative(ctx.config.sysroot, host);
  else if (!cmd0.startsWith('/') || isUnder(ctx.config.dir, cmd0)) guest = `/${posix.basename(cmd0)}`;
  else guest = asGuest as string;
  if (strict(ctx) && refuseMusl(ctx, host, key, source)) return undefined;
  return addClosure(ctx, { root: pathRoot(ctx, host), host, guest: () => guest, declared });
}

/**
 * `path` with the symlinks the plan has made so far followed, in its directories and at its end;
 * undefined when no link is on the way.
 */
function throughGuestLinks(ctx: PlanContext, path: string): string | 'loop' | undefined {
  const f = new GuestFs((g) => ctx.table.get(g), { implicitDirs: true }).follow(path);
  if (!f.ok && f.why === 'loop') return 'loop';
  return f.links > 0 ? f.path : undefined;
}

/** The run's program is an entry the image already has: a program `files` copied gets its libraries looked at now. */
function useEntry(ctx: PlanContext, entry: PlanEntry, guest: string, declared: Provenance): void {
  if (entry.kind === 'file' && entry.content === undefined && !ctx.resolvedRoots.has(guest)) addClosure(ctx, { root: pathRoot(ctx, entry.host), host: entry.host, guest: () => guest, declared });
  else entry.why.push(declared);
}

/**
 * A program of an image linked against musl (Alpine): osv-up builds glibc programs, whose
 * libraries and symbol versions OSv's loader provides; an error that says so, before the
 * resolver reports the musl libraries as something else.
 */
function refuseMusl(ctx: PlanContext, host: string, key: string, source: Source | undefined): boolean {
  let interp: string | undefined;
  try {
    const f = ElfFile.open(ctx.fs, host);
    try {
      interp = f.interpreter();
    } finally {
      f.close();
    }
  } catch {
    return false; // not an ELF file: the resolver says what it is
  }
  if (interp === undefined || !/\/ld-musl-/.test(interp)) return false;
  ctx.errors.push(
    new OsvError({
      code: 'plan.musl',
      message: `${key}: ${sysrootRelative(ctx.config.sysroot, host)} in the image ${ctx.config.from!.text} is linked against musl (its interpreter is ${interp}); osv-up builds images from glibc programs`,
      hint: 'use a Debian- or Ubuntu-based variant of the image (e.g. python:3.12-slim rather than python:3.12-alpine)',
      ...(source ? { source } : {}),
    }),
  );
  return true;
}

/** The environment of a run: modules' env first (in module order), the run's own on top. */
function runEnv(ctx: PlanContext, run: RunConfig): Array<[string, string]> {
  const env = new Map<string, string>();
  for (const m of ctx.config.modules) if (m.kind === 'osv-up') for (const [k, v] of Object.entries(m.env)) env.set(k, v);
  for (const [k, v] of Object.entries(run.env)) env.set(k, v);
  return [...env];
}

/**
 * Kernel options every run gets. OSv reports the program's exit status on the console only
 * with --verbose (facts §13); the runner reads it there and hides the rest of the debug log.
 */
const STATUS_OPTIONS = ['--verbose'];

export function plannedRun(ctx: PlanContext, name: string, run: RunConfig, program: string): PlannedRun | undefined {
  const args = run.cmd?.slice(1) ?? [];
  const cmdSource = runSource(ctx, name, run, 'cmd');
  const built = buildCmdline({
    rootfs: ctx.config.filesystem,
    kernelArgs: [...STATUS_OPTIONS.filter((o) => !run.run.kernelArgs.includes(o)), ...run.run.kernelArgs, ...mountOptions(run.run.volumes)],
    env: runEnv(ctx, run),
    ...(run.cwd !== undefined ? { cwd: run.cwd } : {}),
    argv: [program, ...args],
    key: runKey(name),
    secrets: ctx.config.secrets,
    ...(cmdSource ? { source: cmdSource } : {}),
  });
  if (!built.ok) {
    ctx.errors.push(built.error);
    return undefined;
  }
  ctx.warnings.push(...built.value.warnings);
  return { name, cmdline: built.value.cmdline, run };
}

/**
 * A run's program that is a symlink in the image must lead to a file there: OSv resolves it
 * at boot, and a link into nothing (or round in a loop) fails only then.
 */
export function checkProgramLinks(ctx: PlanContext, runs: ReadonlyArray<{ name: string; run: RunConfig }>, programs: ReadonlyMap<string, string>, entries: readonly PlanEntry[]): void {
  let tree: GuestFs | undefined;
  for (const { name, run } of runs) {
    const program = programs.get(name);
    const link = program === undefined ? undefined : ctx.table.get(program);
    if (program === undefined || link?.kind !== 'symlink') continue;
    tree ??= new GuestFs(entries);
    const to = tree.follow(program);
    if (to.ok && to.entry?.kind === 'file') continue;
    const what = `${runKey(name)}[0]: ${program} is a symlink to ${link.target}`;
    const message = !to.ok
      ? to.why === 'loop'
        ? `${what} that never reaches a file (a loop of links)`
        : `${what}, and the image has no ${to.path}`
      : `${what}, which leads to ${to.path}, ${to.entry?.kind === 'dir' ? 'a directory' : 'nothing'} in the image, not a program`;
    const source = runSource(ctx, name, run, 'cmd/0');
    ctx.errors.push(
      new OsvError({
        code: 'plan.cmd',
        message,
        hint: 'point cmd, or the link, at the program file',
        ...(source ? { source } : {}),
      }),
    );
  }
}
