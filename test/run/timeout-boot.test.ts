// A program that never ends does not pass `osv test`: without run.timeout it is stopped after the
// default (60 s), and the reason says it was the default. On a real kernel; its own file so that
// the minute runs beside the other tests. Needs OSV_KERNEL, QEMU and gcc (each missing: skipped,
// the reason printed).

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { DEFAULTS } from '../../src/config/defaults.js';
import { hasGcc, hasTool } from '../helpers/tools.js';
import { runOsv } from '../helpers/osv.js';

const kernel = process.env['OSV_KERNEL'];
const reason = !kernel ? 'OSV_KERNEL is not set (an OSv kernel directory or loader-stripped.elf)' : !hasTool('qemu-system-x86_64') ? 'qemu-system-x86_64 is not installed' : !hasGcc ? 'gcc is not installed' : undefined;
if (reason) console.warn(`skipped: default-timeout boot test: ${reason}`);

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

it.runIf(!reason)(`osv test stops a hung program after the default ${DEFAULTS.ciTimeoutSeconds} s and fails naming it`, { timeout: 240_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'osv-timeout-boot-'));
  dirs.push(dir);
  writeFileSync(join(dir, 'hang.c'), '#include <stdio.h>\n#include <unistd.h>\nint main(void) { puts("waiting"); fflush(stdout); for (;;) sleep(1); }\n');
  expect(spawnSync('gcc', ['-o', join(dir, 'hang'), join(dir, 'hang.c')]).status).toBe(0);
  writeFileSync(join(dir, 'osv.yaml'), 'cmd: [./hang]\n');
  const t0 = Date.now();
  const r = runOsv(['test', '-q'], { cwd: dir, timeout: 200_000, env: { ...process.env, OSV_KERNEL: kernel } });
  const seconds = (Date.now() - t0) / 1000;
  expect(r.code).toBe(4);
  expect(r.stderr).toContain(`error: timed out after ${DEFAULTS.ciTimeoutSeconds} s (osv test's default timeout); last console line: "waiting"`);
  expect(seconds).toBeGreaterThanOrEqual(DEFAULTS.ciTimeoutSeconds);
  expect(seconds).toBeLessThan(DEFAULTS.ciTimeoutSeconds + 60);
});
