// A plan as text for `osv plan` and one entry's reasons for `osv why`; and as JSON (generated
// file contents become strings). No colors or terminal logic beyond what the caller passes.

import type { KernelBundle } from '../kernel/types.js';
import { IMAGE_ROOT } from '../config/types.js';
import type { ImageOrigin } from '../hostfs.js';
import { defaultRelease } from '../kernel/default-release.js';
import { provenanceChain, shortProvenance } from './provenance.js';
import type { Plan, PlanEntry, PlannedRun, Provenance } from './types.js';
import { maskText } from '../secrets.js';
import { formatBytes } from '../units.js';

export { formatBytes };

/** `sha256:0123456789ab` (a digest shortened for people). */
const shortDigest = (d: string): string => d.slice(0, 19);

/** Paths inside a `from:` image are shown as `image:/usr/bin/x`, not by where the planner mounts it. */
export const imagePaths = (text: string): string => text.replaceAll(`${IMAGE_ROOT}/`, 'image:/').replaceAll(IMAGE_ROOT, 'image:/');

/** Where a file's bytes come from, for the SOURCE column. */
function sourceOf(e: PlanEntry): string {
  if (e.kind !== 'file') return e.kind === 'symlink' ? `-> ${e.target}` : '';
  if (e.content !== undefined) return '(generated)';
  return e.origin ? `${e.origin.path} [layer ${e.origin.layer}]` : e.host;
}

/** The declaration a tree or glob member came from (config/module key), or undefined. */
function declaration(e: PlanEntry): string | undefined {
  const w = e.why[0];
  if (e.why.length !== 1 || !w || !((w.kind === 'config' || w.kind === 'module') && w.detail !== undefined)) return undefined;
  return w.kind === 'config' ? `config ${w.key}` : `module ${w.module} ${w.key ?? ''}`;
}

export interface TableRow {
  guest: string;
  size: string;
  source: string;
  why: string;
}

/**
 * One row per entry; with `collapse`, the members of a copied tree are folded into the tree's
 * top directory (shown with how many entries and bytes it holds).
 */
export function planRows(plan: Plan, collapse: boolean): TableRow[] {
  const rows: TableRow[] = [];
  const folded = new Map<string, { row: TableRow; entries: number; bytes: number }>();
  let open: { prefix: string; decl: string; acc: { row: TableRow; entries: number; bytes: number } } | undefined;
  for (const e of plan.entries) {
    const decl = declaration(e);
    if (collapse && open && decl === open.decl && e.guest.startsWith(open.prefix)) {
      open.acc.entries++;
      if (e.kind === 'file') open.acc.bytes += e.size;
      continue;
    }
    const row: TableRow = {
      guest: e.kind === 'dir' ? `${e.guest === '/' ? '' : e.guest}/` : e.guest,
      size: e.kind === 'file' ? formatBytes(e.size) : '-',
      source: sourceOf(e),
      why: imagePaths(reasons(e.why)),
    };
    rows.push(row);
    if (collapse && e.kind === 'dir' && decl !== undefined) {
      const acc = { row, entries: 0, bytes: 0 };
      folded.set(e.guest, acc);
      open = { prefix: `${e.guest}/`, decl, acc };
    } else if (open && !e.guest.startsWith(open.prefix)) open = undefined;
  }
  for (const { row, entries, bytes } of folded.values()) {
    if (entries > 0) {
      row.size = formatBytes(bytes);
      row.source = `${row.source}(${entries} entries below; --all lists them)`.trim();
    }
  }
  return rows;
}

function reasons(why: Provenance[]): string {
  const labels = [...new Set(why.map(shortProvenance))];
  return labels.length <= 2 ? labels.join(', ') : `${labels.slice(0, 2).join(', ')} +${labels.length - 2}`;
}

function table(rows: TableRow[]): string[] {
  const w = (k: keyof TableRow, cap: number) => Math.min(cap, Math.max(k.length, ...rows.map((r) => r[k].length)));
  const gw = w('guest', 56);
  const sw = w('size', 10);
  const cw = w('source', 64);
  const line = (g: string, s: string, c: string, y: string) => `${g.padEnd(gw)}  ${s.padStart(sw)}  ${c.padEnd(cw)}  ${y}`.trimEnd();
  return [line('GUEST PATH', 'SIZE', 'SOURCE', 'WHY'), ...rows.map((r) => line(r.guest, r.size, r.source, r.why))];
}

export interface KernelView {
  bundle?: KernelBundle;
  /** Why the bundle is absent (not downloaded yet...). */
  note?: string;
}

export function describeKernel(plan: Plan, k: KernelView): string {
  const ref = plan.kernel;
  const what =
    k.bundle?.origin === 'env'
      ? 'OSV_KERNEL'
      : ref.path !== undefined
        ? `path ${ref.path}`
        : ref.version !== undefined
          ? `release ${ref.version}`
          : `none configured: osv-up's default, release ${k.bundle?.version ?? defaultRelease(plan.arch)?.version ?? '(none for this architecture)'}`;
  const hidden = plan.kernel.hiddenSymbols ? ', hidden symbols (libstdc++ shipped)' : '';
  const file = k.bundle ? ` -> ${k.bundle.elf ?? k.bundle.img} (sha256 ${k.bundle.sha256.slice(0, 12)})` : k.note ? ` (${k.note})` : '';
  return `${what}${hidden}${file}`;
}

export function renderPlan(plan: Plan, opts: { all: boolean; kernel: KernelView; symbols?: string }): string {
  const t = plan.totals;
  const out = [
    `Plan for "${plan.name}": ${plan.arch}, ${plan.filesystem} root, ${plan.output} image (${plan.format})`,
    ...(plan.image ? describeImage(plan.image) : []),
    `Kernel: ${describeKernel(plan, opts.kernel)}`,
    '',
    ...table(planRows(plan, !opts.all)),
    '',
    `Totals: ${t.files} files (${formatBytes(t.bytes)}), ${t.dirs} directories, ${t.symlinks} symlinks; ${t.libraries} shared libraries shipped` +
      (plan.kernelProvided.length > 0 ? `, ${plan.kernelProvided.length} provided by the kernel (${plan.kernelProvided.map((k) => k.soname).join(', ')})` : ''),
    ...(opts.symbols !== undefined ? [`${opts.symbols} (details: osv check)`] : []),
    '',
    `Boot command line${plan.runs.length > 1 ? ` (run "${plan.run.name}")` : ''}:`,
    `  ${mask(plan, plan.run.cmdline)}`,
  ];
  const others = plan.runs.filter((r) => r.name !== plan.run.name);
  if (others.length > 0) out.push('Other runs:', ...others.map((r) => `  ${r.name}: ${mask(plan, r.cmdline)}`));
  if (plan.warnings.length > 0) out.push('', 'Warnings:', ...plan.warnings.map((w) => `  ${mask(plan, imagePaths(w))}`));
  return out.join('\n') + '\n';
}

function describeImage(i: NonNullable<Plan['image']>): string[] {
  return [
    `From: ${i.reference} @ ${i.digest} (${i.platform})`,
    `  layers: ${i.layers.map((l, n) => `${n + 1} ${shortDigest(l.digest)} (${formatBytes(l.size)})`).join(', ')}`,
    ...(i.exposedPorts.length > 0 ? [`  exposes: ${i.exposedPorts.join(', ')} (osv up -P forwards them to the same host ports)`] : []),
  ];
}

/** `osv why`: the entry, then each reason with its chain down to a declaration. */
export function renderWhy(e: PlanEntry): string {
  const from = (o: ImageOrigin): string => `copied from ${o.path} in the image ${o.image} (${shortDigest(o.digest)}), layer ${o.layer} (${o.layerDigest})`;
  const what = e.kind === 'file' ? `file, ${formatBytes(e.size)}, ${e.content === undefined ? (e.origin ? from(e.origin) : `copied from ${e.host}`) : e.why.some((w) => w.kind === 'config' || w.kind === 'module') ? 'written from the configuration' : 'generated by osv-up'}` : e.kind === 'symlink' ? `symlink to ${e.target}` : 'directory';
  const out = [`${e.guest}: ${what}`];
  for (const w of e.why) {
    const [first, ...rest] = provenanceChain(w).map(imagePaths);
    out.push(`  ${first}`, ...rest.map((l) => `    ${l}`));
  }
  return out.join('\n') + '\n';
}

const mask = (plan: Plan, text: string): string => maskText(text, plan.secrets);

/** What is printed of a run: its command line, cmd and env with the secrets masked. */
function runJson(plan: Plan, r: PlannedRun): PlannedRun {
  const run = { ...r.run, env: Object.fromEntries(Object.entries(r.run.env).map(([k, v]) => [k, mask(plan, v)])), ...(r.run.cmd ? { cmd: r.run.cmd.map((w) => mask(plan, w)) } : {}) };
  return { ...r, cmdline: mask(plan, r.cmdline), run };
}

/** JSON for `--json`: generated contents as text (base64 when they are not UTF-8); secrets masked, and not listed. */
export function planJson(plan: Plan): unknown {
  const { secrets: _secrets, ...rest } = plan;
  return {
    ...rest,
    run: runJson(plan, plan.run),
    runs: plan.runs.map((r) => runJson(plan, r)),
    warnings: plan.warnings.map((w) => mask(plan, w)),
    entries: plan.entries.map((e) => (e.kind === 'file' && e.content !== undefined ? contentJson(plan, e, e.content) : e)),
  };
}

function contentJson(plan: Plan, e: PlanEntry, content: Uint8Array): unknown {
  const buf = Buffer.from(content);
  const text = buf.toString('utf8');
  return Buffer.from(text, 'utf8').equals(buf) ? { ...e, content: mask(plan, text), contentEncoding: 'utf8' } : { ...e, content: buf.toString('base64'), contentEncoding: 'base64' };
}
