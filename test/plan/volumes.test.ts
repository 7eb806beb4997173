// Named volumes in the plan: each gets a mount point in the image and a --mount-fs option in its
// run's command line, and a ROFS image gets OSv's ext module from the kernel bundle. The pure
// mapping to guest devices and to a cluster's disks and claims is checked on its own.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NamedVolume, Volume } from '../../src/config/types.js';
import type { KernelBundle } from '../../src/kernel/types.js';
import { plan } from '../../src/plan/index.js';
import { shortProvenance } from '../../src/plan/provenance.js';
import { mountOptions, volumeDevice } from '../../src/plan/volume-mounts.js';
import { buildProject, type Project } from './fixture.js';
import { copy, hasGcc, makeConfig, runConfig, runSettings, tempDir } from './helpers.js';

const MiB = 2 ** 20;
const named = (name: string, dest: string, over: Partial<NamedVolume> = {}): NamedVolume => ({ kind: 'named', name, dest, size: 1024 * MiB, readonly: false, ...over });
const disk = (path: string): Volume => ({ kind: 'disk', path, format: 'raw', readonly: false });

describe('volumes as the guest sees them', () => {
  it('each volume is the disk after the image at its place in run.volumes; named ones get a --mount-fs', () => {
    const volumes = [disk('/v/raw.img'), named('data', '/data')];
    expect(volumeDevice(0)).toBe('/dev/vblk1');
    expect(mountOptions(volumes)).toEqual(['--mount-fs=ext,/dev/vblk2,/data']);
    expect(mountOptions([disk('/v/raw.img')])).toEqual([]);
    // A read-only volume is mounted as the ROFS copy of its files.
    expect(mountOptions([named('data', '/data'), named('conf', '/etc/app', { readonly: true })])).toEqual(['--mount-fs=ext,/dev/vblk1,/data', '--mount-fs=rofs,/dev/vblk2,/etc/app']);
  });
});

describe.runIf(hasGcc)('planning named volumes', () => {
  let t: ReturnType<typeof tempDir>;
  let p: Project;
  let kernel: KernelBundle;
  const env = { PATH: '/usr/bin:/bin' };
  beforeAll(() => {
    t = tempDir();
    p = buildProject(t.path);
    // The plan only looks at the module's files; their bytes are OSv's business.
    const ext = { libext: join(t.path, 'libext.so'), liblwext4: join(t.path, 'liblwext4.so') };
    writeFileSync(ext.libext, 'libext');
    writeFileSync(ext.liblwext4, 'liblwext4');
    kernel = { elf: '/k/loader-stripped.elf', sha256: 'x', origin: 'path', hiddenSymbols: false, ext };
    rawImg = join(t.path, 'raw.img');
    writeFileSync(rawImg, Buffer.alloc(4096));
  });
  let rawImg = '';
  afterAll(() => t.cleanup());

  const withVolumes = (volumes: Volume[], runs: Record<string, Volume[]> = {}, over: Parameters<typeof makeConfig>[0] = {}): ReturnType<typeof makeConfig> => {
    const c = makeConfig({ dir: p.dir, cmd: [p.app], ...over });
    c.defaultRun.run = runSettings({ volumes });
    c.runs = Object.fromEntries(Object.entries(runs).map(([n, v]) => [n, runConfig([p.app, n], { run: runSettings({ volumes: v }) })]));
    return c;
  };

  it('mount points for every run\'s volumes, the ext module from the kernel, and a --mount-fs in each run\'s command line', () => {
    const r = plan(withVolumes([disk(rawImg), named('data', '/var/lib/app')], { logs: [named('logs', '/logs')] }), { env, kernel });
    if (!r.ok) throw r.error;
    const at = (g: string): [string, string[]] | undefined => {
      const e = r.value.entries.find((x) => x.guest === g);
      return e ? [e.kind, e.why.map(shortProvenance)] : undefined;
    };
    expect(at('/var/lib/app')).toEqual(['dir', ['run.volumes[1]']]);
    expect(at('/logs')).toEqual(['dir', ['runs.logs.run.volumes[0]']]);
    expect(r.value.entries.find((e) => e.guest === '/var/lib/app')!.why[0]).toMatchObject({ kind: 'config', detail: 'mount point of volume "data"' });
    for (const [guest, host] of [['/usr/lib/fs/libext.so', kernel.ext!.libext], ['/usr/lib/liblwext4.so', kernel.ext!.liblwext4]] as const)
      expect(r.value.entries.find((e) => e.guest === guest)).toMatchObject({ kind: 'file', host, why: [{ kind: 'kernel', reason: expect.stringContaining('"data", "logs"') }] });
    expect(r.value.runs.map((x) => [x.name, x.cmdline.match(/--mount-fs=\S+/g)])).toEqual([
      ['default', ['--mount-fs=ext,/dev/vblk2,/var/lib/app']],
      ['logs', ['--mount-fs=ext,/dev/vblk1,/logs']],
    ]);
    expect(r.value.run.cmdline).toMatch(/^--rootfs=rofs --verbose --mount-fs=ext,\/dev\/vblk2,\/var\/lib\/app \/app !$/);
  });

  it('without named volumes, no ext module and no --mount-fs; with read-only ones only, no ext module either (ROFS is in the kernel)', () => {
    const r = plan(withVolumes([disk(rawImg)]), { env, kernel });
    if (!r.ok) throw r.error;
    expect(r.value.entries.some((e) => e.guest.includes('ext'))).toBe(false);
    expect(r.value.run.cmdline).not.toContain('--mount-fs');
    const ro = plan(withVolumes([named('conf', '/etc/app', { readonly: true })]), { env, kernel: { ...kernel, ext: undefined } as KernelBundle });
    if (!ro.ok) throw ro.error;
    expect(ro.value.entries.some((e) => e.guest.includes('ext'))).toBe(false);
    expect(ro.value.entries.find((e) => e.guest === '/etc/app')).toMatchObject({ kind: 'dir' });
    expect(ro.value.run.cmdline).toContain(' --mount-fs=rofs,/dev/vblk1,/etc/app ');
  });

  it('what a run reads from this machine is checked by the plan: a disk volume is a file, a named volume\'s from a directory', () => {
    const r = plan(withVolumes([disk(t.path), disk(join(t.path, 'gone.img')), named('data', '/data', { from: join(t.path, 'gone') }), named('conf', '/conf', { from: rawImg })]), { env, kernel });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.errors.map((e) => [e.code, e.message])).toEqual([
      ['plan.volume-source', `run.volumes[0]: ${t.path} is a directory, not a disk image file`],
      ['plan.volume-source', `run.volumes[1]: ${join(t.path, 'gone.img')} does not exist, not a disk image file`],
      ['plan.volume-source', `run.volumes[2]: ${join(t.path, 'gone')} does not exist, not a directory to seed the volume from`],
      ['plan.volume-source', `run.volumes[3]: ${rawImg} is a regular file, not a directory to seed the volume from`],
    ]);
  });

  it('a kernel without the ext module is an error that names the files and where an OSv build keeps them', () => {
    const release: KernelBundle = { elf: '/k/loader-stripped.elf', sha256: 'x', origin: 'release', version: 'v0.57.0', hiddenSymbols: false };
    const r = plan(withVolumes([named('data', '/data')]), { env, kernel: release });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    const e = r.error.errors[0]!;
    expect(e.code).toBe('plan.ext-module-missing');
    expect(e.message).toBe('the named volume "data" needs OSv\'s ext module (libext.so and liblwext4.so), and the kernel release v0.57.0 (release kernels do not include it) comes without it');
    expect(e.details.join('\n')).toContain('build/<mode>/modules/libext/libext.so and modules/lwext4/upstream/lwext4/build_lib_only/src/liblwext4.so');
    expect(e.hint).toMatch(/kernel\.path or OSV_KERNEL/);
  });

  it('a kernel not on this machine yet (osv plan): a warning, no module', () => {
    const r = plan(withVolumes([named('data', '/data')]), { env });
    if (!r.ok) throw r.error;
    expect(r.value.warnings.join('\n')).toContain('needs OSv\'s ext module from the kernel bundle, and the kernel is not on this machine yet');
  });

  it('a dest that is a file of the image is an error; what the image has under a dest is hidden, and the plan says so', () => {
    const onFile = plan(withVolumes([named('data', '/srv/a.txt')], {}, { files: [copy(p.data, '/srv')] }), { env, kernel });
    expect(!onFile.ok && onFile.error.errors.map((e) => [e.code, e.message])).toEqual([
      ['plan.volume-dest', 'run.volumes[0]: volume "data" is to be mounted on /srv/a.txt, which the image has as a file'],
    ]);
    const over = plan(withVolumes([named('data', '/srv')], {}, { files: [copy(p.data, '/srv')] }), { env, kernel });
    if (!over.ok) throw over.error;
    expect(over.value.warnings).toContainEqual(expect.stringMatching(/^\d+ entries under \/srv \(\/srv\/a\.txt, \.\.\.\): the volume mounted on \/srv hides them from the program/));
  });
});
