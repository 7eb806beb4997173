// Load groups: which objects OSv's loader loads together, in its order, and so which
// definitions a symbol lookup can see. OSv keeps one module list for everything loaded
// (the program, its DT_NEEDED libraries depth-first, whatever it dlopens later) and always
// searches the kernel last. A group here is:
// - the program with its libraries;
// - a library loaded at run time (a `libraries` entry, an extension module of a files tree):
//   the program's group plus that library and what it needs;
// - another run's program with its libraries (a separate boot, so not the program's).

import type { ImageObject } from './image.js';
import { GuestFs } from '../plan/guest-fs.js';

export const KERNEL = 'kernel' as const;
export type Loaded = ImageObject | typeof KERNEL;

export interface Group {
  root: ImageObject;
  /** Image objects in load order (the kernel is searched after them). */
  order: ImageObject[];
  /** Names already loaded (guest paths, sonames, the kernel's sonames). */
  byName: Map<string, Loaded>;
  /** DT_NEEDED names found nowhere, per needing object. */
  missing: Map<ImageObject, string[]>;
}

export class Loader {
  private readonly byGuest: Map<string, ImageObject>;
  constructor(
    objects: ImageObject[],
    private readonly guestFs: GuestFs,
    private readonly kernelSonames: Set<string>,
  ) {
    this.byGuest = new Map(objects.map((o) => [o.guest, o]));
  }

  /** Load `root` (and what it needs) on top of `base`, or into a fresh program. */
  load(root: ImageObject, base?: Group): Group {
    const byName = base ? new Map(base.byName) : new Map<string, Loaded>([...this.kernelSonames].map((s) => [s, KERNEL]));
    // `missing` only of the objects loaded here: the base's were reported with the base.
    const g: Group = { root, order: base ? [...base.order] : [], byName, missing: new Map() };
    // Depth-first, each object before the libraries it needs (OSv appends as it loads).
    const visit = (o: ImageObject): void => {
      if (byName.get(o.guest) !== undefined) return;
      g.order.push(o);
      byName.set(o.guest, o);
      if (o.hasSoname && !byName.has(o.soname)) byName.set(o.soname, o);
      for (const n of o.needed) {
        const r = this.resolve(o, n, byName);
        if (r === undefined) {
          const m = g.missing.get(o);
          if (m) m.push(n);
          else g.missing.set(o, [n]);
        } else if (r !== KERNEL) visit(r);
      }
    };
    visit(root);
    return g;
  }

  /** What a DT_NEEDED name of `o` loads, or undefined when the image has nothing for it. */
  private resolve(o: ImageObject, name: string, byName: Map<string, Loaded>): Loaded | undefined {
    const known = byName.get(name);
    if (known !== undefined) return known;
    const paths = name.includes('/') ? [name.startsWith('/') ? name : `/${name}`] : [...o.searchDirs, '/', '/usr/lib'].map((d) => `${d}/${name}`);
    for (const p of paths) {
      const real = this.guestFs.file(p);
      if (real === undefined) continue;
      return byName.get(real) ?? this.byGuest.get(real);
    }
    return undefined;
  }
}
