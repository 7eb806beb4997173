// The build pipeline end to end on a gcc-built program: the image is written and read back,
// an unchanged build is a no-op, a changed input rebuilds, and a failed build leaves the last
// good image in place.

import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import type { Config } from '../../src/config/types.js';
import { ok } from '../../src/diagnostics/result.js';
import { OsvError } from '../../src/diagnostics/error.js';
import { openRofsFile } from '../../src/image/rofs/reader.js';
import { parseMbr } from '../../src/image/mbr.js';
import type { KernelBundle } from '../../src/kernel/types.js';
import { build, type BuildOutcome } from '../../src/tasks/build.js';
import { progressReporter, type Reporter } from '../../src/tasks/report.js';
import { hasGcc } from '../helpers/tools.js';

// The kernel is only needed to boot; a `disk` image is built without one.
const noKernel: KernelBundle = { sha256: 'stand-in', origin: 'path', hiddenSymbols: false };
const resolveKernel = async () => ok(noKernel);

let dir: string;
const env = { PATH: process.env['PATH'] ?? '/usr/bin:/bin' };

async function load(): Promise<Config> {
  const r = await loadConfig({ cwd: dir, env });
  if (!r.ok) throw r.error;
  return r.value;
}

async function buildHere(extra: { reporter?: Reporter; force?: boolean } = {}): Promise<BuildOutcome> {
  return build({ config: await load(), env, resolveKernel, reporter: extra.reporter ?? progressReporter('quiet'), ...(extra.force ? { force: true } : {}) });
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'osv-build-'));
  if (!hasGcc) return;
  writeFileSync(join(dir, 'hello.c'), '#include <stdio.h>\nint main(void) { puts("hi"); return 0; }\n');
  execFileSync('gcc', ['-O2', '-fPIE', '-pie', '-o', join(dir, 'hello'), join(dir, 'hello.c')]);
  writeFileSync(join(dir, 'data.txt'), 'some data\n');
  writeFileSync(
    join(dir, 'osv.yaml'),
    ['name: demo', 'cmd: [./hello, "two words"]', 'files:', '  - src: data.txt', '    dest: /srv/data.txt', ''].join('\n'),
  );
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.runIf(hasGcc)('osv build pipeline', () => {
  it('writes a disk image whose root filesystem holds the plan', async () => {
    const out = await buildHere();
    expect(out.upToDate).toBe(false);
    expect(out.reason).toBe('no previous build');
    expect(out.image).toBe(join(dir, '.osv', 'demo.img'));
    expect(out.cmdline).toBe('--rootfs=rofs --verbose /hello "two words" !');

    const head = Buffer.alloc(512);
    const fd = readFileSync(out.image).subarray(0, 512);
    fd.copy(head);
    const mbr = parseMbr(head);
    const root = mbr.partitions.find((p) => p.slot === 2);
    expect(root?.type).toBe(0x83);

    const opened = openRofsFile(out.image, root!.start);
    if (!opened.ok) throw opened.error;
    const { rofs, close } = opened.value;
    try {
      expect(rofs.check()).toEqual([]);
      const hello = rofs.readFile('/hello');
      if (!hello.ok) throw hello.error;
      expect(hello.value.equals(readFileSync(join(dir, 'hello')))).toBe(true);
      const data = rofs.readFile('/srv/data.txt');
      expect(data.ok && data.value.toString()).toBe('some data\n');
      const fstab = rofs.readFile('/etc/fstab');
      expect(fstab.ok && fstab.value.toString()).toMatch(/^\/dev\/vblk0\.1\s+\/\s+rofs\s/m);
      expect(rofs.lookup('/etc/mnttab')?.kind).toBe('symlink');
      expect(rofs.lookup('/usr/lib/libgcc_s.so.1')?.kind).toBe('file');
      // The kernel provides libc: it must not be shipped.
      expect(rofs.walk().map((n) => n.path)).not.toContain('/usr/lib/libc.so.6');
    } finally {
      close();
    }
  });

  it('does no work when nothing changed, and says so', async () => {
    const before = statSync(join(dir, '.osv', 'demo.img')).mtimeMs;
    const out = await buildHere();
    expect(out.reason).toBeUndefined();
    expect(out.upToDate).toBe(true);
    expect(out.plan).toBeUndefined(); // not even planned
    expect(statSync(out.image).mtimeMs).toBe(before);
  });

  it('rebuilds when a host input changes, naming it', async () => {
    writeFileSync(join(dir, 'data.txt'), 'other data, longer\n');
    const out = await buildHere();
    expect(out.upToDate).toBe(false);
    expect(out.reason).toBe(`${join(dir, 'data.txt')} changed`);
    expect((await buildHere()).upToDate).toBe(true);
  });

  it('rebuilds when the configuration changes', async () => {
    const yaml = readFileSync(join(dir, 'osv.yaml'), 'utf8');
    writeFileSync(join(dir, 'osv.yaml'), yaml + 'env: {GREETING: hello}\n');
    const out = await buildHere();
    expect(out.upToDate).toBe(false);
    expect(out.reason).toBe('the configuration, kernel or build options changed');
    expect(out.cmdline).toBe('--rootfs=rofs --verbose --env=GREETING=hello /hello "two words" !');
  });

  it('keeps the last good image when a build fails half-way', async () => {
    const image = join(dir, '.osv', 'demo.img');
    const good = readFileSync(image);
    // Shrink a planned file once the image task has started: the writer must notice and fail.
    const sabotage: Reporter = {
      ...progressReporter('json', { write: () => undefined }),
      emit(e) {
        if (e.event === 'task' && e['task'] === 'Image' && e['status'] === 'started') truncateSync(join(dir, 'data.txt'), 2);
      },
    };
    writeFileSync(join(dir, 'data.txt'), 'a third version of the data\n');
    await expect(buildHere({ reporter: sabotage })).rejects.toBeInstanceOf(OsvError);
    expect(readFileSync(image).equals(good)).toBe(true);
    expect(readdirSync(join(dir, '.osv')).filter((n) => n.includes('.tmp'))).toEqual([]);
    // The next build sees the change and succeeds.
    const out = await buildHere();
    expect(out.upToDate).toBe(false);
  });

  it('--force rebuilds an up-to-date image', async () => {
    expect((await buildHere()).upToDate).toBe(true);
    const out = await buildHere({ force: true });
    expect(out.upToDate).toBe(false);
    expect(out.reason).toBe('forced (--force)');
    expect(existsSync(out.image)).toBe(true);
  });
});
