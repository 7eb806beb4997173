// Runs never change the built image: an ext root is writable while the guest runs, and every
// write goes into a throwaway overlay. A program appends a line to a file in the root and
// counts the lines; each of `osv up`, `osv run` and `osv test` must see 1, the image file must
// keep its sha256, and the build record must still hold (no rebuild). An ext root needs the
// kernel of an `fs=ext` OSv build (OSV_KERNEL_EXT); QEMU and gcc too. Each one missing skips
// with the reason printed.

import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasGcc, hasTool } from '../helpers/tools.js';
import { runOsv, type OsvResult } from '../helpers/osv.js';

const kernel = process.env['OSV_KERNEL_EXT'];
const reason = !kernel
  ? 'OSV_KERNEL_EXT is not set (the directory of an fs=ext OSv build: an ext root needs its kernel)'
  : !hasTool('qemu-system-x86_64')
    ? 'qemu-system-x86_64 is not installed'
    : !hasGcc
      ? 'gcc is not installed'
      : undefined;
if (reason) console.warn(`skipped: ext-root overlay boot tests: ${reason}`);

const PROG = `#include <stdio.h>
int main(void) {
  FILE *f = fopen("/state.txt", "a");
  if (!f) { perror("/state.txt"); return 1; }
  fputs("run\\n", f);
  fclose(f);
  f = fopen("/state.txt", "r");
  int n = 0, c;
  while ((c = fgetc(f)) != EOF) n += c == '\\n';
  fclose(f);
  printf("lines %d\\n", n);
  return 0;
}
`;

let dir = '';
beforeAll(() => {
  if (reason) return;
  dir = mkdtempSync(join(tmpdir(), 'osv-overlay-boot-'));
  writeFileSync(join(dir, 'count.c'), PROG);
  const cc = spawnSync('gcc', ['-o', join(dir, 'count'), join(dir, 'count.c')], { encoding: 'utf8' });
  if (cc.status !== 0) throw new Error(cc.stderr);
  writeFileSync(join(dir, 'osv.yaml'), ['name: overlay', 'filesystem: ext', 'cmd: [./count]', ''].join('\n'));
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function osv(args: string[]): OsvResult {
  const env: NodeJS.ProcessEnv = { ...process.env, OSV_KERNEL: kernel, XDG_CACHE_HOME: join(dir, 'cache') };
  delete env['CI'];
  return runOsv(args, { cwd: dir, timeout: 120_000, env, input: '' });
}

const sha256 = (p: string): string => createHash('sha256').update(readFileSync(p)).digest('hex');

describe.runIf(!reason)('an ext root through a throwaway overlay', () => {
  it('the guest writes into its root, every run starts from the image as built, and the image keeps its bytes', { timeout: 300_000 }, () => {
    const built = osv(['build', '-q']);
    expect(built.code, built.stderr).toBe(0);
    const image = join(dir, '.osv', 'overlay.img');
    const before = sha256(image);
    for (const args of [['up', '-q'], ['up', '-q'], ['run'], ['test', '-q']]) {
      const r = osv(args);
      expect([args.join(' '), r.code, r.stdout.match(/^lines \d+$/m)?.[0]], r.stderr).toEqual([args.join(' '), 0, 'lines 1']);
      expect(sha256(image)).toBe(before);
    }
    // Still the image the record describes: the next `osv up` builds nothing.
    const again = osv(['up']);
    expect(again.stderr).toContain('image up to date');
  });
});
