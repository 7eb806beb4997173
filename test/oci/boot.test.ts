// With OSV_KERNEL: a program that exists only inside an image (not on this host) boots and
// does its job through `osv up`, from a two-line osv.yaml (name, from), with the image's
// Entrypoint, Cmd and Env. The image is built here from a program compiled by the test and
// the libraries it needs, pushed to a registry started by the test.

import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addProgram, compile, debianSkeleton, GREET_PATH, GREET_SOURCE } from '../helpers/image-rootfs.js';
import { hasRegistryTools, push, registryToolsReason, startRegistry, umociImage, type Registry } from '../helpers/registry.js';
import { hasGcc, hasTool } from '../helpers/tools.js';
import { runOsv } from '../helpers/osv.js';

const kernel = process.env['OSV_KERNEL'];
const reason = !kernel
  ? 'OSV_KERNEL is not set (an OSv kernel directory or loader-stripped.elf)'
  : !hasTool('qemu-system-x86_64')
    ? 'qemu-system-x86_64 is not installed'
    : !hasRegistryTools
      ? registryToolsReason
      : !hasGcc
        ? 'gcc is not installed'
        : undefined;
if (reason) console.warn(`skipped: booting a from: image: ${reason}`);

describe.skipIf(reason !== undefined)('booting a program that exists only inside an image', () => {
  let work: string;
  let reg: Registry;
  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'osv-from-boot-'));
    reg = await startRegistry();
    const greet = compile(work, 'greet', GREET_SOURCE);
    const img = umociImage(work, 'greet', [(root) => (debianSkeleton(root), addProgram(root, greet, GREET_PATH))], {
      entrypoint: [GREET_PATH],
      cmd: ['and', 'its', 'Cmd'],
      env: ['GREETING=Hello with the image Env'],
    });
    push(img.ref, reg, 'apps/greet:1.0');
  }, 120_000);
  afterAll(async () => {
    await reg?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it('osv up with name and from only', () => {
    expect(existsSync(GREET_PATH), `${GREET_PATH} must not exist on the host`).toBe(false);
    const dir = join(work, 'project');
    mkdirSync(dir);
    writeFileSync(join(dir, 'osv.yaml'), `name: greet\nfrom: ${reg.host}/apps/greet:1.0\n`);
    const r = runOsv(['up', '--timeout', '90'], { cwd: dir, timeout: 150_000, env: { ...process.env, XDG_CACHE_HOME: join(work, 'cache'), CI: '1' } });
    expect(r.out).toContain('Hello with the image Env from inside the image: and its Cmd');
    expect(r.code, r.out).toBe(0);
  }, 180_000);
});
