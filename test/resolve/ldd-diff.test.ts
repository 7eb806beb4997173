// Differential test: for a fixed sample of the dynamically linked ELF files in /usr/bin and
// /usr/lib/x86_64-linux-gnu, the set of libraries we resolve (without the OSv filter) must
// be exactly the set the system's dynamic linker loads, ignoring linux-vdso and the
// interpreter. `ldd` is a shell wrapper that runs `ld.so --list`; we run the latter
// directly (checked equal to ldd on a few files) to fit the sample in the time budget.

import { execFile, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ElfFile } from '../../src/elf/index.js';
import { nodeHostFs } from '../../src/hostfs.js';
import { resolveClosure } from '../../src/resolve/index.js';
import type { ResolveOptions } from '../../src/resolve/types.js';

const RTLD = '/lib64/ld-linux-x86-64.so.2';
const DIRS = ['/usr/bin', '/usr/lib/x86_64-linux-gnu'];
// A fixed sample keeps the suite fast; OSV_LDD_SAMPLE=100000 compares every file.
const SAMPLE = Number(process.env['OSV_LDD_SAMPLE'] ?? 200);
const usable = process.arch === 'x64' && existsSync(RTLD) && DIRS.every((d) => existsSync(d)) && existsSync('/usr/bin/ldd');
if (!usable) console.warn(`skipped: needs an x86_64 glibc host with ${RTLD}, ldd and ${DIRS.join(', ')}`);

const run = promisify(execFile);
const options: ResolveOptions = { arch: 'x86_64', sysroot: '/', libraryPath: [], hiddenSymbols: false, osvFilter: false };
const real = (p: string): string => {
  try {
    return realpathSync(p);
  } catch {
    return p;
  }
};

/** Regular files that are dynamically linked ELF for this machine (PT_DYNAMIC), sorted. */
function dynamicElfs(): string[] {
  const out: string[] = [];
  for (const d of DIRS) {
    for (const n of readdirSync(d).sort()) {
      const p = `${d}/${n}`;
      try {
        if (!statSync(p).isFile()) continue;
        const f = ElfFile.open(nodeHostFs, p);
        const ok = f.header.machine === 62 && f.progs.some((x) => x.type === 2);
        f.close();
        if (ok) out.push(p);
      } catch {
        // not ELF, unreadable: not part of the comparison
      }
    }
  }
  return out;
}

interface Listed {
  paths: Set<string>;
  missing: string[];
  /** ld.so refused the file for another reason (printed on stderr). */
  refused?: string;
}

/** What `ld.so --list` (= ldd) loads for a file: the real paths, and what it could not find. */
async function ldList(file: string): Promise<Listed> {
  let stdout = '';
  let stderr = '';
  try {
    ({ stdout, stderr } = await run(RTLD, ['--list', file], { maxBuffer: 1 << 22 }));
  } catch (e) {
    ({ stdout = '', stderr = '' } = e as { stdout?: string; stderr?: string });
  }
  const paths = new Set<string>();
  const missing: string[] = [];
  for (const line of stdout.split('\n')) {
    const m = /^\s+\S+ => (\S+) \(0x/.exec(line);
    if (m) paths.add(real(m[1]!));
    const nf = /^\s+(\S+) => not found/.exec(line);
    if (nf) missing.push(nf[1]!);
  }
  const fatal = /error while loading shared libraries: ([^:]+): cannot open/.exec(stderr);
  if (fatal) missing.push(fatal[1]!);
  else if (stdout === '' && stderr !== '') return { paths, missing, refused: stderr.trim() };
  return { paths, missing };
}

describe.runIf(usable)('closure equals the dynamic linker’s (ldd) on this machine’s ELF files', () => {
  it('ldd is ld.so --list', () => {
    for (const f of ['/usr/bin/ls', '/usr/bin/curl'].filter(existsSync)) {
      const a = spawnSync('ldd', [f], { encoding: 'utf8' }).stdout.replace(/\(0x[0-9a-f]+\)/g, '');
      const b = spawnSync(RTLD, ['--list', f], { encoding: 'utf8' }).stdout.replace(/\(0x[0-9a-f]+\)/g, '');
      expect(a).toBe(b);
    }
  });

  it(`the same library set for a fixed sample of ${SAMPLE} files`, async () => {
    const all = dynamicElfs();
    const step = Math.max(1, Math.floor(all.length / SAMPLE));
    const sample = all.filter((_, i) => i % step === 0).slice(0, SAMPLE);
    const interp = real(RTLD);
    const diffs: string[] = [];
    let compared = 0;
    let refused = 0;
    let i = 0;
    const started = Date.now();
    const worker = async (): Promise<void> => {
      while (i < sample.length) {
        const file = sample[i++]!;
        // ld.so --list takes $ORIGIN of the program from the path it is given; a program that
        // runs gets it from /proc/self/exe (its real path). Give it the real path, as exec would.
        const theirs = await ldList(real(file));
        const r = resolveClosure([{ path: file }], options, nodeHostFs);
        if (theirs.refused !== undefined) {
          refused++;
          continue;
        }
        compared++;
        if (!r.ok) {
          diffs.push(`${file}: we failed with ${r.error.code} (${r.error.message}); ld.so listed ${theirs.paths.size} libraries`);
          continue;
        }
        const ours = new Set(r.value.objects.filter((o) => !o.root && o.hostPath !== '').map((o) => o.hostPath));
        ours.delete(interp);
        theirs.paths.delete(interp);
        const onlyOurs = [...ours].filter((p) => !theirs.paths.has(p));
        const onlyTheirs = [...theirs.paths].filter((p) => !ours.has(p));
        const ourMissing = r.value.missing.map((m) => m.soname).sort();
        if (onlyOurs.length || onlyTheirs.length || ourMissing.join() !== [...new Set(theirs.missing)].sort().join()) {
          diffs.push(`${file}: only ours ${JSON.stringify(onlyOurs)}, only ld.so ${JSON.stringify(onlyTheirs)}, missing ours ${ourMissing} vs ld.so ${theirs.missing}`);
        }
      }
    };
    await Promise.all([worker(), worker(), worker()]);
    console.log(`ldd differential: ${compared} dynamically linked ELF files compared (sample of ${sample.length} from ${all.length}; ${refused} refused by ld.so itself), ${diffs.length} differences, ${((Date.now() - started) / 1000).toFixed(1)} s`);
    expect(diffs).toEqual([]);
    expect(compared).toBeGreaterThan(sample.length * 0.8);
  }, 600_000);
});
