// Writing a ROFS of python3's standard library against `cat` of the same files into one file:
// cat is the physical floor (read every byte once, write it once). Target: ratio <= 1.5.
// Run: node --import tsx bench/rofs.ts   (or `npm run bench -- rofs`)

import { spawnSync } from 'node:child_process';
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
    const catOut = join(dir, 'cat.out');
    const rofsOut = join(dir, 'py.rofs');
    const catTimes: number[] = [];
    const rofsTimes: number[] = [];
    let imageBytes = 0;
    // Alternate the two so page-cache and disk state affect both alike; run 0 is a warm-up.
    for (let i = 0; i <= RUNS; i++) {
      fs.rmSync(catOut, { force: true });
      fs.rmSync(rofsOut, { force: true });
      const fd = fs.openSync(catOut, 'w');
      const t0 = performance.now();
      const r = spawnSync('cat', files.map((f) => f.host), { stdio: ['ignore', fd, 'inherit'] });
      const t1 = performance.now();
      fs.closeSync(fd);
      if (r.status !== 0) throw new Error('cat failed');
      const t2 = performance.now();
      const w = await writeRofs(entries, rofsOut);
      const t3 = performance.now();
      if (!w.ok) throw w.error;
      imageBytes = w.value.bytes;
      if (i > 0) {
        catTimes.push(t1 - t0);
        rofsTimes.push(t3 - t2);
      }
    }
    const c = median(catTimes);
    const w = median(rofsTimes);
    // Each run's pair ran back to back: the median of their ratios shrugs off a load that comes
    // and goes on a shared machine better than the ratio of the two medians.
    const ratio = median(rofsTimes.map((t, i) => t / catTimes[i]!));
    console.log(`tree: ${TREE}: ${files.length} files, ${entries.length - files.length} dirs/symlinks, ${(bytes / 1e6).toFixed(1)} MB`);
    console.log(`cat of the files:  ${c.toFixed(1)} ms (median of ${RUNS})`);
    console.log(`writeRofs:         ${w.toFixed(1)} ms (median of ${RUNS}; image ${(imageBytes / 1e6).toFixed(1)} MB)`);
    console.log(`ratio rofs/cat:    ${ratio.toFixed(2)}x (median of the runs' ratios; target <= 1.5x)`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await bench();
