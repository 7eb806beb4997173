// Every example in examples/ planned through the real configuration loader, in a temp copy
// (built with its Makefile where it has one), and compared to the plan we expect of it:
// - the entries that do not depend on this machine's libraries, exactly (guest path, kind, and
//   host file, link target or generated content);
// - a tree copied from this machine, against the same directory walked here with the
//   template's exclusions;
// - the libraries, against what this machine's dynamic linker loads for the program and for
//   each run-time library: every one shipped at /usr/lib/<soname> or provided by the kernel,
//   and nothing shipped that it does not load.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, readdirSync, readFileSync, realpathSync } from 'node:fs';
import { join, posix } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { plan } from '../../src/plan/index.js';
import type { Plan, PlanEntry } from '../../src/plan/types.js';
import { lacks } from '../helpers/skip.js';
import { ldList } from '../resolve/fixtures.js';
import { hasGcc, tempDir } from './helpers.js';

const examplesDir = join(import.meta.dirname, '..', '..', 'examples');
const all = existsSync(examplesDir) ? readdirSync(examplesDir).filter((d) => existsSync(join(examplesDir, d, 'osv.yaml'))) : [];
// An example built `from:` a public image needs its registry: test/oci/example.test.ts plans and boots it against a stand-in.
const fromImage = all.filter((d) => /^from:/m.test(readFileSync(join(examplesDir, d, 'osv.yaml'), 'utf8')));
const examples = all.filter((d) => !fromImage.includes(d));
if (fromImage.length > 0) console.warn(`not planned here (from: a public image, see test/oci/example.test.ts): ${fromImage.join(', ')}`);
const hasMake = spawnSync('make', ['--version'], { stdio: 'ignore' }).status === 0;
const RTLD = '/lib64/ld-linux-x86-64.so.2';
const PY = '/usr/lib/python3.11';

/** [guest, kind, what]: `what` is `example:REL` (a file of the example), an absolute host path, `-> TARGET`, `inline`, or '' for a directory. */
type Row = [string, PlanEntry['kind'], string];

const skeleton = (mnttab = true): Row[] => [
  ['/data', 'dir', ''],
  ['/dev', 'dir', ''],
  ['/etc', 'dir', ''],
  ['/etc/fstab', 'file', 'inline'],
  ['/etc/hosts', 'file', 'inline'],
  ...(mnttab ? ([['/etc/mnttab', 'symlink', '-> /proc/mounts']] as Row[]) : []),
  ['/proc', 'dir', ''],
  ['/sys', 'dir', ''],
  ['/tmp', 'dir', ''],
  ['/usr', 'dir', ''],
  ['/usr/lib', 'dir', ''],
];

const pythonEnv = '--env=PYTHONHOME=/usr --env=PYTHONDONTWRITEBYTECODE=1 --env=PYTHONUNBUFFERED=1 --env=LANG=C.UTF-8';
const pythonFixed = (): Row[] => [
  ['/usr/bin', 'dir', ''],
  ['/usr/bin/python3', 'file', realpathSync('/usr/bin/python3.11')],
  ['/usr/bin/python3.11', 'symlink', '-> python3'],
  [PY, 'dir', ''],
  [`${PY}/lib-dynload`, 'dir', ''],
];

interface Expected {
  /** Preconditions on this machine beyond gcc and make: [present, why it is needed]. */
  needs: Array<readonly [boolean, string]>;
  cmdline: string;
  /** Every entry not below `tree` and not a library (sorted in byte order with the rest). */
  fixed: () => Row[];
  /** A directory of this machine copied whole (less `excluded`) to the same guest path. */
  tree?: { dir: string; excluded: (rel: string) => boolean };
  /** Guest paths of the ELF files whose libraries ld.so must find in the image or the kernel. */
  elves: (p: Plan) => string[];
}

/** The python template's exclusions, as its documentation states them. */
const pythonExcluded = (rel: string): boolean => {
  const parts = rel.split('/');
  const top = parts[0]!;
  if (['test', 'idlelib', 'tkinter', 'turtledemo', 'ensurepip', 'lib2to3', 'pydoc_data', 'lib-dynload'].includes(top) || top.startsWith('config-')) return true;
  return parts.includes('tests') || parts.includes('__pycache__') || rel.endsWith('.pyc');
};
const pythonElves = (p: Plan): string[] => ['/usr/bin/python3', ...p.entries.filter((e) => e.guest.startsWith(`${PY}/lib-dynload/`) && e.kind === 'file').map((e) => e.guest)];
const hasPython = [existsSync(`${PY}/os.py`) && existsSync('/usr/bin/python3.11'), `python 3.11 (/usr/bin/python3.11 and ${PY}) is not installed; template:python defaults to it`] as const;

const expected: Record<string, Expected> = {
  'hello-c': {
    needs: [],
    cmdline: '--rootfs=rofs --verbose /hello world !',
    fixed: () => [...skeleton(), ['/hello', 'file', 'example:hello']],
    elves: () => ['/hello'],
  },
  'python-hello': {
    needs: [hasPython],
    cmdline: `--rootfs=rofs --verbose --power-off-on-abort ${pythonEnv} /usr/bin/python3 -c "import sys, json; print(json.dumps({'python': sys.version.split()[0], 'answer': 6*7}))" !`,
    fixed: () => [...skeleton(), ...pythonFixed()],
    tree: { dir: PY, excluded: pythonExcluded },
    elves: pythonElves,
  },
  'python-http': {
    needs: [hasPython],
    cmdline: `--rootfs=rofs --verbose --power-off-on-abort ${pythonEnv} --cwd=/srv/www /usr/bin/python3 -m http.server 8000 !`,
    fixed: () => [...skeleton(), ...pythonFixed(), ['/srv', 'dir', ''], ['/srv/www', 'dir', ''], ['/srv/www/index.html', 'file', 'example:www/index.html']],
    tree: { dir: PY, excluded: pythonExcluded },
    elves: pythonElves,
  },
  'redis-state': {
    needs: [[existsSync('/usr/bin/redis-server'), '/usr/bin/redis-server is not installed (Debian redis-server)']],
    // The named volume's mount comes before the program; /data is its mount point.
    cmdline: '--rootfs=rofs --verbose --power-off-on-abort --mount-fs=ext,/dev/vblk1,/data /redis-server --appendonly yes --dir /data --save "" --bind 0.0.0.0 --protected-mode no !',
    fixed: () => [...skeleton(), ['/redis-server', 'file', realpathSync('/usr/bin/redis-server')]],
    elves: () => ['/redis-server'],
  },
  'node-http': {
    needs: [[existsSync('/usr/bin/node'), '/usr/bin/node is not installed; template:node defaults to it']],
    cmdline:
      '--rootfs=rofs --verbose --power-off-on-abort --env=NODE_OPTIONS=--max-old-space-size=768\\ --require\\ /usr/lib/osv-up/node-exit.cjs --env=TZ=UTC --env=PORT=8080 /usr/bin/node /app/server.js !',
    // The template does not mount /proc (docs/templates.md), so no /etc/mnttab link into it.
    fixed: () => [
      ['/app', 'dir', ''],
      ['/app/server.js', 'file', 'example:server.js'],
      ...skeleton(false),
      ['/usr/bin', 'dir', ''],
      ['/usr/bin/node', 'file', realpathSync('/usr/bin/node')],
      ['/usr/lib/osv-up', 'dir', ''],
      ['/usr/lib/osv-up/node-exit.cjs', 'file', 'inline'],
    ],
    elves: () => ['/usr/bin/node'],
  },
};

const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Non-directory and directory paths of a host tree, relative, less the excluded ones. */
function walk(dir: string, excluded: (rel: string) => boolean, rel = ''): string[] {
  const out: string[] = [];
  for (const e of readdirSync(join(dir, rel), { withFileTypes: true })) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (excluded(r)) continue;
    out.push(r);
    if (e.isDirectory()) out.push(...walk(dir, excluded, r));
  }
  return out;
}

const missingExpectation = examples.filter((n) => !expected[n]);

describe.skipIf(lacks('examples', [examples.length > 0, 'no examples/*/osv.yaml yet'], [hasGcc, 'gcc is not installed (hello-c is built with it)'], [hasMake, 'make is not installed'], [existsSync(RTLD), `${RTLD} is absent (the libraries are compared with what it loads)`]))('examples', () => {
  let t: ReturnType<typeof tempDir>;
  beforeAll(() => {
    t = tempDir('osv-examples-');
    for (const name of examples) {
      const dir = join(t.path, name);
      cpSync(join(examplesDir, name), dir, { recursive: true });
      if (existsSync(join(dir, 'Makefile'))) {
        const r = spawnSync('make', ['-s'], { cwd: dir, encoding: 'utf8' });
        if (r.status !== 0) throw new Error(`make in ${name} failed: ${r.stderr}`);
      }
    }
  });
  afterAll(() => t.cleanup());

  it('every example has an expected plan', () => {
    expect(missingExpectation, 'add these to `expected` in test/plan/examples.test.ts').toEqual([]);
  });

  const cases = examples.filter((n) => expected[n]).map((n) => [n, expected[n]!] as const);
  for (const [name, want] of cases) {
    it.skipIf(lacks(`the ${name} example`, ...want.needs))(`${name} plans to its expected entries and boot command line`, async () => {
      const dir = join(t.path, name);
      const config = await loadConfig({ cwd: dir, env: process.env });
      if (!config.ok) throw config.error;
      const r = plan(config.value, { env: process.env });
      if (!r.ok) throw r.error;
      const p = r.value;
      expect(p.run.cmdline).toBe(want.cmdline);

      const shipped = new Set(p.entries.map((e) => e.guest));
      const isLibrary = (e: PlanEntry): boolean => e.kind !== 'dir' && posix.dirname(e.guest) === '/usr/lib' && e.why.some((w) => w.kind === 'needed' || w.kind === 'skeleton');
      const inTree = (g: string): boolean => want.tree !== undefined && g.startsWith(`${want.tree.dir}/`) && !g.startsWith(`${want.tree.dir}/lib-dynload`);

      // The entries that do not depend on this machine's libraries, exactly.
      const row = (e: PlanEntry): Row => {
        const what = e.kind === 'dir' ? '' : e.kind === 'symlink' ? `-> ${e.target}` : e.content !== undefined ? 'inline' : e.host.startsWith(`${dir}/`) ? `example:${e.host.slice(dir.length + 1)}` : e.host;
        return [e.guest, e.kind, what];
      };
      const lib64 = (e: PlanEntry): boolean => e.guest.startsWith(`${PY}/lib-dynload/`) && e.kind === 'file';
      const fixed = p.entries.filter((e) => !isLibrary(e) && !inTree(e.guest) && !lib64(e)).map(row);
      expect(fixed).toEqual([...want.fixed()].sort((a, b) => compare(a[0], b[0])));

      // A copied tree: what is on this machine, less the exclusions.
      if (want.tree) {
        const host = walk(want.tree.dir, want.tree.excluded).map((rel) => `${want.tree!.dir}/${rel}`);
        expect(host.length).toBeGreaterThan(100);
        expect(p.entries.filter((e) => inTree(e.guest)).map((e) => e.guest)).toEqual(host.sort(compare));
        // Its run-time libraries: every lib-dynload module, from the libraries glob.
        const modules = readdirSync(`${want.tree.dir}/lib-dynload`).filter((n) => n.endsWith('.so')).map((n) => `${want.tree!.dir}/lib-dynload/${n}`);
        expect(p.entries.filter(lib64).map((e) => e.guest)).toEqual(modules.sort(compare));
      }

      // The libraries: what ld.so loads for each ELF file, in the image or the kernel's; nothing more.
      const kernel = new Set(p.kernelProvided.map((k) => k.soname));
      const loaded = new Set<string>();
      for (const guest of want.elves(p)) {
        const e = p.entries.find((x) => x.guest === guest);
        expect(e?.kind, guest).toBe('file');
        const l = ldList((e as { host: string }).host);
        expect(l.missing, `${guest}: libraries ld.so cannot find`).toEqual([]);
        for (const [soname, path] of l.found) {
          loaded.add(soname);
          if (kernel.has(soname)) {
            expect(shipped.has(`/usr/lib/${soname}`), `${soname} is the kernel's, yet shipped`).toBe(false);
            continue;
          }
          const lib = p.entries.find((x) => x.guest === `/usr/lib/${soname}`);
          expect(lib, `${soname}, needed by ${guest}, is not in the image`).toMatchObject({ kind: 'file', host: realpathSync(path) });
        }
      }
      // libgcc_s.so.1 is always shipped (the skeleton's only host file), needed or not.
      const extra = p.entries.filter(isLibrary).map((e) => posix.basename(e.guest)).filter((s) => !loaded.has(s) && s !== 'libgcc_s.so.1');
      expect(extra, 'shipped libraries that nothing loads').toEqual([]);
    });
  }
});
