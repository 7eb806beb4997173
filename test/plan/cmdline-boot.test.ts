// The boot command line as OSv reads it: words that need quoting or escaping reach the program
// byte for byte, and a word OSv cannot parse never reaches a boot; OSV_KERNEL boots in place of
// a pinned kernel and says which pin it skipped (issue #20). Boots the kernel
// named by OSV_KERNEL under QEMU through the CLI; skipped, with the reason printed, without one.

import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasGcc } from '../helpers/tools.js';
import { runOsv } from '../helpers/osv.js';

const kernel = process.env['OSV_KERNEL'];
const qemu = spawnSync('qemu-system-x86_64', ['--version'], { stdio: 'ignore' }).status === 0;
const reason = !kernel
  ? 'OSV_KERNEL is not set (an OSv kernel directory or loader-stripped.elf)'
  : !qemu
    ? 'qemu-system-x86_64 is not installed'
    : !hasGcc
      ? 'gcc is not installed'
      : undefined;
if (reason) console.warn(`skipped: command-line boot tests: ${reason}`);

const ARGS = ['plain', 'two words', '', 'semi;colon', 'amp&and', 'bang!', 'say "hi"', 'back\\slash', "it's", 'tab\there'];
const ENV = 'a b\\c "d"';

describe.runIf(!reason)('the boot command line under a real OSv (OSV_KERNEL)', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'osv-cmdline-boot-'));
    writeFileSync(
      join(dir, 'args.c'),
      '#include <stdio.h>\n#include <stdlib.h>\nint main(int c, char **v) { for (int i = 1; i < c; i++) printf("arg%d=[%s]\\n", i, v[i]); printf("env=[%s]\\n", getenv("TRICKY")); return 0; }\n',
    );
    execFileSync('gcc', ['-fPIE', '-pie', '-o', 'args', 'args.c'], { cwd: dir });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('quoted and escaped ASCII words arrive byte for byte', { timeout: 120_000 }, () => {
    // kernel.sha256 that OSV_KERNEL's kernel cannot match: the override boots it, and says it skipped the pin.
    const pin = { sha256: '0'.repeat(64) };
    writeFileSync(join(dir, 'osv.yaml'), `${JSON.stringify({ kernel: pin, cmd: ['./args', ...ARGS], env: { TRICKY: ENV }, run: { timeout: 60 } })}\n`);
    const r = runOsv(['test'], { cwd: dir, timeout: 110_000, env: { ...process.env, CI: '1' } });
    expect(r.code, r.out).toBe(0);
    ARGS.forEach((a, i) => expect(r.out, a).toContain(`arg${i + 1}=[${a}]`));
    expect(r.out).toContain(`env=[${ENV}]`);
    expect(r.out).toContain("OSV_KERNEL overrides osv.yaml's kernel: not checked against kernel.sha256");
  });

  it('a non-ASCII word is refused before anything boots', { timeout: 60_000 }, () => {
    writeFileSync(join(dir, 'osv.yaml'), 'cmd: [./args, "café"]\n');
    const r = runOsv(['test'], { cwd: dir, timeout: 50_000, env: { ...process.env, CI: '1' } });
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain('cmd[1] "café" contains "é" (U+00E9)');
    expect(r.stdout).not.toContain('passed');
  });
});
