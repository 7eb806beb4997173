// Modules: directories pulled in by `modules:`. An osv-up module has an osv.module.yaml (its
// own vars, files, libraries, executables, env, and further modules); an OSv module has a
// usr.manifest. Dependencies come before the modules that pull them in or require them.

import * as path from 'node:path';
import { report, displayFile, type LoadContext } from './context.js';
import { readConfigFile } from './extends.js';
import { Interpolator } from './interpolate.js';
import { schemaErrors } from './schema-errors.js';
import { SpecReader } from './specs.js';
import { displayPath, str, type Path, type PNode, type PScalar } from './tree.js';
import type { ModuleSpec } from './types.js';
import type { Pos } from './texts.js';

export const MODULE_FILE = 'osv.module.yaml';
export const OSV_MANIFEST = 'usr.manifest';

interface Loaded {
  spec: ModuleSpec;
  /** Where each `requires` entry was written. */
  requires: Array<{ name: string; pos: Pos; label: string }>;
  via: Pos;
}

export class ModuleLoader {
  private readonly byDir = new Map<string, Loaded>();
  private readonly order: Loaded[] = [];

  constructor(
    private readonly ctx: LoadContext,
    private readonly reader: SpecReader,
  ) {}

  /** Load every module a `modules:` list names (recursively). */
  loadList(list: PNode | undefined, at: Path, stack: string[] = []): void {
    if (list?.kind !== 'seq') return;
    list.items.forEach((item, i) => {
      const node = item.kind === 'map' ? item.entries.get('path')?.value : item;
      if (node?.kind !== 'scalar' || typeof node.value !== 'string') return;
      this.load(this.reader.hostPath(node, false), node, [...at, i], stack);
    });
  }

  private load(dir: string, via: PScalar, at: Path, stack: string[]): void {
    const label = displayPath(at);
    const cycleAt = stack.indexOf(dir);
    if (cycleAt >= 0) {
      const chain = [...stack.slice(cycleAt), dir].map((d) => displayFile(this.ctx, d)).join(' → ');
      report(this.ctx, 'config.module-cycle', `${label}: module cycle: ${chain}`, via.pos, 'a module cannot pull in itself, directly or through others');
      return;
    }
    if (this.byDir.has(dir)) return;
    const st = this.ctx.fs.stat(dir);
    if (st?.kind !== 'dir') {
      const what = st ? 'is not a directory' : 'not found';
      report(this.ctx, 'config.module-not-found', `${label}: module directory ${what}: ${String(via.value)}`, via.pos, `module paths are relative to ${path.dirname(via.pos.file)}`);
      return;
    }
    const moduleFile = path.join(dir, MODULE_FILE);
    if (this.ctx.fs.stat(moduleFile)?.kind === 'file') {
      this.loadOsvUp(dir, moduleFile, via, [...stack, dir]);
      return;
    }
    const manifest = path.join(dir, OSV_MANIFEST);
    if (this.ctx.fs.stat(manifest)?.kind === 'file') {
      const spec: ModuleSpec = { kind: 'osv-manifest', name: path.basename(dir), dir, manifest, requires: [], source: { file: manifest, line: 1, column: 1 } };
      this.add(dir, { spec, requires: [], via: via.pos });
      return;
    }
    report(this.ctx, 'config.not-a-module', `${label}: ${String(via.value)} is not a module: it has no ${MODULE_FILE} or ${OSV_MANIFEST}`, via.pos, `create ${path.join(dir, MODULE_FILE)}`);
  }

  private loadOsvUp(dir: string, file: string, via: PScalar, stack: string[]): void {
    const parsed = readConfigFile(this.ctx, file, via.pos);
    if (!parsed) return;
    const tree = new Interpolator(this.ctx, parsed).tree(parsed);
    const { errors } = schemaErrors('module', tree, this.ctx.texts);
    if (errors.length) {
      this.ctx.errors.push(...errors);
      return;
    }
    if (tree.kind !== 'map') return;
    const get = (k: string): PNode | undefined => tree.entries.get(k)?.value;
    this.loadList(get('modules'), ['modules'], stack);
    const requires: Loaded['requires'] = [];
    const req = get('requires');
    if (req?.kind === 'seq') req.items.forEach((n, i) => requires.push({ name: String((n as PScalar).value), pos: n.pos, label: `requires[${i}]` }));
    const spec: ModuleSpec = {
      kind: 'osv-up',
      name: str(get('name')) ?? path.basename(dir),
      dir,
      executables: this.reader.executables(get('executables'), ['executables']),
      libraries: this.reader.libraries(get('libraries'), ['libraries']),
      files: this.reader.files(get('files'), ['files']),
      env: this.reader.strings(get('env')),
      requires: requires.map((r) => r.name),
      source: { file, line: 1, column: 1 },
    };
    this.add(dir, { spec, requires, via: via.pos });
  }

  private add(dir: string, m: Loaded): void {
    this.byDir.set(dir, m);
    this.order.push(m);
  }

  /** The modules, each after the ones it requires; unknown, duplicate or cyclic requirements reported. */
  result(): ModuleSpec[] {
    const byName = new Map<string, Loaded>();
    for (const m of this.order) {
      const prev = byName.get(m.spec.name);
      if (prev) {
        report(this.ctx, 'config.module-duplicate', `two modules are named "${m.spec.name}": ${displayFile(this.ctx, prev.spec.dir)} and ${displayFile(this.ctx, m.spec.dir)}`, m.via, 'give one of them another name: in its osv.module.yaml');
        continue;
      }
      byName.set(m.spec.name, m);
    }
    for (const m of this.order)
      for (const r of m.requires)
        if (!byName.has(r.name))
          report(this.ctx, 'config.module-requires', `${r.label}: module "${m.spec.name}" requires "${r.name}", which is not in the image`, r.pos, `add the directory of "${r.name}" to modules: (in osv.yaml or in this module)`);
    // Stable topological order: a module comes after everything it requires.
    const out: ModuleSpec[] = [];
    const placed = new Set<string>();
    let pending = [...byName.values()];
    while (pending.length) {
      const ready = pending.filter((m) => m.requires.every((r) => placed.has(r.name) || !byName.has(r.name)));
      if (!ready.length) {
        const names = pending.map((m) => m.spec.name).join(', ');
        const first = pending[0]!;
        report(this.ctx, 'config.module-cycle', `modules require each other in a cycle: ${names}`, first.requires[0]?.pos ?? first.via, 'remove one of these requires entries');
        break;
      }
      for (const m of ready) {
        out.push(m.spec);
        placed.add(m.spec.name);
      }
      pending = pending.filter((m) => !placed.has(m.spec.name));
    }
    return out;
  }
}
