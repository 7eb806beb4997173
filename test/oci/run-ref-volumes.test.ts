// `osv run REF` of an image whose run has named volumes, on a machine without the project: the
// volumes start from the seed images `osv push` put beside the application in its repository (a
// writable one behind a throwaway overlay, a read-only one as it is), mounted where the run
// mounts them, numbered for the disks this machine attaches (the build machine's disk image is
// not part of the image). An image written to a layout carries no seeds: its volumes are left
// out of the command line, with a warning, instead of mounts of devices that are not there.

import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { extKernelReason, osvKernel } from '../helpers/ext-kernel.js';
import { hasRegistryTools, registryToolsReason, startRegistry, type Registry } from '../helpers/registry.js';
import { lacks } from '../helpers/skip.js';
import { hasGcc, hasTool } from '../helpers/tools.js';
import { volumeProject } from '../helpers/volume-project.js';
import { runOsv } from '../helpers/osv.js';

// Reads the seeded file, appends a line to a log on the writable volume and prints the log (one
// line every run: the overlay is thrown away), tries to write to the read-only volume.
const PROGRAM = `#include <stdio.h>
static void show(const char *path) {
  char line[256];
  FILE *f = fopen(path, "r");
  if (!f) { printf("cannot open %s\\n", path); return; }
  while (fgets(line, sizeof line, f)) printf("%s: %s", path, line);
  fclose(f);
}
int main(void) {
  show("/data/hello.txt");
  show("/etc/app/app.conf");
  FILE *log = fopen("/data/log.txt", "a");
  if (log) { fputs("a run wrote this\\n", log); fclose(log); }
  show("/data/log.txt");
  FILE *w = fopen("/etc/app/new.txt", "w");
  printf("read-only volume write: %s\\n", w ? "succeeded" : "refused");
  return 0;
}
`;

describe.skipIf(
  lacks('osv run REF with named volumes', [!extKernelReason, extKernelReason ?? ''], [hasTool('qemu-system-x86_64'), 'qemu-system-x86_64 is not installed'], [hasRegistryTools, registryToolsReason ?? ''], [hasGcc, 'gcc is not installed']),
)('osv run REF of an image whose run has named volumes', () => {
  let work: string;
  let reg: Registry;
  let app: string;
  let elsewhere: string;
  let remote: NodeJS.ProcessEnv;
  const osv = (cwd: string, args: string[], env: NodeJS.ProcessEnv) => {
    const r = runOsv(args, { cwd, env, timeout: 200_000 });
    return { ...r, out: r.out.replace(/random: device unblocked\.\r?\n/g, '') };
  };

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'osv-run-ref-vol-'));
    reg = await startRegistry();
    app = join(work, 'app');
    volumeProject(app, { source: PROGRAM, cmd: '[./show]', seeded: 'seeded by the build machine', run: '  memory: 256M\n  timeout: 90\n' });
    elsewhere = join(work, 'elsewhere');
    mkdirSync(elsewhere);
    remote = { PATH: process.env['PATH'], HOME: join(work, 'home'), XDG_CACHE_HOME: join(work, 'remote-cache'), XDG_DATA_HOME: join(work, 'remote-data'), CI: '1' };
  }, 60_000);
  afterAll(async () => {
    await reg?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  const build = (): NodeJS.ProcessEnv => ({ PATH: process.env['PATH'], HOME: join(work, 'home'), XDG_CACHE_HOME: join(work, 'cache'), XDG_DATA_HOME: join(work, 'data'), OSV_KERNEL: osvKernel, CI: '1' });

  it('attaches the seeded volumes, mounted as /dev/vblk1 and /dev/vblk2, and the program reads and writes them', { timeout: 400_000 }, () => {
    const p = osv(app, ['push', `${reg.host}/apps/show:1`, '--no-check', '-q'], build());
    expect(p.code, p.out).toBe(0);
    const ref = `${reg.host}/apps/show:1`;
    const dry = osv(elsewhere, ['run', ref, '--dry-run'], remote);
    expect(dry.code, dry.out).toBe(0);
    expect(dry.stdout.match(/--mount-fs=\S+/g)).toEqual(['--mount-fs=ext,/dev/vblk1,/data', '--mount-fs=rofs,/dev/vblk2,/etc/app']);
    // The writable seed behind an overlay, the read-only one read-only.
    expect(dry.stdout).toMatch(/seeds\/[0-9a-f]{64}\/disk\.qcow2,[^ ]*format=qcow2,[^ ]*snapshot=on .*seeds\/[0-9a-f]{64}\/disk\.qcow2,[^ ]*readonly=on/);
    expect(dry.out).toContain('behind a throwaway overlay');
    for (let i = 0; i < 2; i++) {
      const r = osv(elsewhere, ['run', ref], remote);
      expect(r.out).toContain('/data/hello.txt: seeded by the build machine');
      expect(r.out).toContain('/etc/app/app.conf: mode=ro');
      // One line each run: what the first run wrote went with its overlay.
      expect(r.out.match(/\/data\/log\.txt: a run wrote this/g), r.out).toHaveLength(1);
      expect(r.out).toContain('read-only volume write: refused');
      expect(r.code, r.out).toBe(0);
    }
  });

  it('an image without seeds (an OCI layout): the volumes are neither attached nor mounted, and a warning says so', () => {
    const layout = join(work, 'layout');
    const p = osv(app, ['push', `oci:${layout}:1`, '--no-check', '-q'], build());
    expect(p.code, p.out).toBe(0);
    const dry = osv(elsewhere, ['run', `oci:${layout}:1`, '--dry-run'], remote);
    expect(dry.code, dry.out).toBe(0);
    expect(dry.stdout).not.toContain('--mount-fs');
    expect(dry.stdout).not.toContain('vblk');
    expect(dry.out).toMatch(/warning: the run's named volumes data \(32 MiB at \/data\), conf \(read-only at \/etc\/app\) have no seed image .*: they are not attached and not mounted/);
  });
});
