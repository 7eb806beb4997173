// No input produces a stack trace: corrupted variants of the example configuration (bytes
// deleted, duplicated, swapped, lines shuffled, characters that matter to YAML inserted) all
// load to a Config or to positioned OsvErrors. Deterministic: a fixed-seed generator.

import { afterAll, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { loadConfig } from '../../src/config/index.js';
import { packageRoot } from '../../src/config/paths.js';
import { OsvError } from '../../src/diagnostics/error.js';
import { project, removeProjects } from './helpers.js';

afterAll(removeProjects);

const MUTANTS = 200;
const SPECIAL = [':', '-', ' ', '\n', '\t', '"', "'", '[', ']', '{', '}', '&', '*', '!', '|', '>', '#', '$', '${', '%', '@', '`', '\\', '\0', 'é', '💥'];

/** mulberry32: a small deterministic PRNG. */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function mutate(text: string, random: () => number): string {
  let s = text;
  const at = (): number => Math.floor(random() * s.length);
  for (let n = 1 + Math.floor(random() * 4); n > 0; n--) {
    const i = at();
    switch (Math.floor(random() * 5)) {
      case 0:
        s = s.slice(0, i) + s.slice(i + 1 + Math.floor(random() * 20));
        break;
      case 1:
        s = s.slice(0, i) + SPECIAL[Math.floor(random() * SPECIAL.length)] + s.slice(i);
        break;
      case 2: {
        const j = at();
        s = s.slice(0, i) + s.slice(j, j + 30) + s.slice(i);
        break;
      }
      case 3: {
        const lines = s.split('\n');
        const a = Math.floor(random() * lines.length);
        const b = Math.floor(random() * lines.length);
        [lines[a], lines[b]] = [lines[b]!, lines[a]!];
        s = lines.join('\n');
        break;
      }
      default:
        s = s.replace(/^( +)/m, (m) => (random() < 0.5 ? m.slice(1) : m + ' '));
    }
  }
  return s;
}

describe('corrupted configurations', () => {
  it(`${MUTANTS} mutants of osv.config.example.yaml load or fail with OsvErrors`, async () => {
    const text = readFileSync(path.join(packageRoot, 'osv.config.example.yaml'), 'utf8');
    const dir = project({});
    const random = rng(20240601);
    let failed = 0;
    for (let k = 0; k < MUTANTS; k++) {
      const mutant = mutate(text, random);
      writeFileSync(path.join(dir, 'osv.yaml'), mutant);
      // the example names its module relative to the repository: keep that working
      const r = await loadConfig({ cwd: dir, env: {}, templatesDir: path.join(packageRoot, 'templates') }).catch((e: unknown) => {
        throw new Error(`mutant ${k} threw ${String(e)}:\n${mutant}`);
      });
      if (r.ok) continue;
      failed++;
      for (const e of r.error.errors) {
        expect(e, `mutant ${k}`).toBeInstanceOf(OsvError);
        expect(e.code).toMatch(/^config\./);
        expect(e.message.length).toBeGreaterThan(5);
      }
    }
    // most mutants break something; a fuzz that never fails would test nothing
    expect(failed).toBeGreaterThan(MUTANTS / 2);
  });
});
