// Writing a ROFS of python3's standard library in-process against the in-process floor for
// the same bytes: every file read and appended to one file with node:fs (read every byte once,
// write it once), as `cat` would, but in this process like the writer (a spawned cat's start-up
// would flatter the ratio). Target (in-process): ratio <= 1.5.
// Run: node --import tsx bench/rofs.ts   (or `npm run bench -- rofs`)

import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { writeRofs } from '../src/image/rofs/writer.js';
import type { ImageEntry } from '../src/image/entries.js';

const TREE = '/usr/lib/python3.11';
const RUNS = 15;

/** Entries for every file, dir and symlink under `root`, guest paths under /usr/lib/python3.11. */
function walk(root: string): ImageEntry[] {
  const out: ImageEntry[] = [];
  const visit = (host: string, guest: string): void => {
    for (const d of fs.readdirSync(host, { withFileTypes: true })) {
      const h = join(host, d.name);
      const g = `${guest}/${d.name}`;
      if (d.isSymbolicLink()) out.push({ kind: 'symlink', guest: g, target: fs.readlinkSync(h) });
      else if (d.isDirectory()) {
        out.push({ kind: 'dir', guest: g });
        visit(h, g);
      } else if (d.isFile()) out.push({ kind: 'file', guest: g, host: h, size: fs.statSync(h).size });
    }
  };
  visit(root, root);
  return out;
}

/** The floor: each file read whole and appended to `out`, in this process. */
function copyAll(paths: string[], out: string): void {
  const fd = fs.openSync(out, 'w');
  try {
    for (const p of paths) fs.writeSync(fd, fs.readFileSync(p));
  } finally {
    fs.closeSync(fd);
  }
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function bench(): Promise<void> {
  if (!fs.existsSync(TREE)) {
    console.log(`skipped: ${TREE} does not exist on this machine`);
    return;
  }
  const entries = walk(TREE);
  const files = entries.filter((e): e is ImageEntry & { kind: 'file'; host: string } => e.kind === 'file' && e.host !== undefined);
  const bytes = files.reduce((s, f) => s + f.size, 0);
  const dir = fs.mkdtempSync(join(tmpdir(), 'osv-bench-rofs-'));
  try {
    const copyOut = join(dir, 'copy.out');
    const rofsOut = join(dir, 'py.rofs');
    const copyTimes: number[] = [];
    const rofsTimes: number[] = [];
    let imageBytes = 0;
    // Alternate the two so page-cache and disk state affect both alike; run 0 is a warm-up.
    for (let i = 0; i <= RUNS; i++) {
      fs.rmSync(copyOut, { force: true });
      fs.rmSync(rofsOut, { force: true });
      const t0 = performance.now();
      copyAll(files.map((f) => f.host), copyOut);
      const t1 = performance.now();
      const t2 = performance.now();
      const w = await writeRofs(entries, rofsOut);
      const t3 = performance.now();
      if (!w.ok) throw w.error;
      imageBytes = w.value.bytes;
      if (i > 0) {
        copyTimes.push(t1 - t0);
        rofsTimes.push(t3 - t2);
      }
    }
    const c = median(copyTimes);
    const w = median(rofsTimes);
    // Each run's pair ran back to back: the median of their ratios shrugs off a load that comes
    // and goes on a shared machine better than the ratio of the two medians.
    const ratio = median(rofsTimes.map((t, i) => t / copyTimes[i]!));
    console.log(`tree: ${TREE}: ${files.length} files, ${entries.length - files.length} dirs/symlinks, ${(bytes / 1e6).toFixed(1)} MB`);
    console.log(`copy floor:        ${c.toFixed(1)} ms (in-process: each file read and appended to one file; median of ${RUNS})`);
    console.log(`writeRofs:         ${w.toFixed(1)} ms (in-process; median of ${RUNS}; image ${(imageBytes / 1e6).toFixed(1)} MB)`);
    console.log(`ratio rofs/copy:   ${ratio.toFixed(2)}x (median of the runs' ratios; target (in-process) <= 1.5x: ${ratio <= 1.5 ? 'met' : 'MISSED'})`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await bench();
