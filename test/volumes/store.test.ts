// Named volumes on the host, with the real mke2fs, debugfs and (for the in-use checks) QEMU:
// where they live, how they are made and seeded, that an existing one is never made again and
// a file that is not ext4 is never formatted, and that removal waits for the VM to let go.

import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { NamedVolume, Volume } from '../../src/config/types.js';
import { listExt } from '../../src/image/extread.js';
import { inspectImage } from '../../src/image/inspect.js';
import { findTool } from '../../src/image/tools.js';
import { attachVolumes } from '../../src/volumes/attach.js';
import { readMeta } from '../../src/volumes/meta.js';
import { projectVolumesDir, volumeFile, volumesRoot } from '../../src/volumes/paths.js';
import { ensureVolume, readVolume, removeVolume } from '../../src/volumes/store.js';

const MiB = 2 ** 20;
const reason = !findTool('mke2fs') ? 'mke2fs is not installed (e2fsprogs)' : !findTool('debugfs') ? 'debugfs is not installed (e2fsprogs)' : undefined;
if (reason) console.warn(`skipped: volume store tests: ${reason}`);
const qemu = findTool('qemu-system-x86_64');
const qemuIo = findTool('qemu-io');
const inUseReason = !qemu ? 'qemu-system-x86_64 is not installed' : !qemuIo ? 'qemu-io is not installed (qemu-utils)' : undefined;
if (inUseReason) console.warn(`skipped: volume in-use tests: ${inUseReason}`);

const work = mkdtempSync(join(tmpdir(), 'osv-volumes-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
let n = 0;
/** A fresh project directory and data home. */
function fresh(): { project: string; env: NodeJS.ProcessEnv } {
  const base = join(work, String(n++));
  mkdirSync(join(base, 'app'), { recursive: true });
  return { project: join(base, 'app'), env: { XDG_DATA_HOME: join(base, 'data'), HOME: base } };
}
const vol = (name: string, over: Partial<NamedVolume> = {}): NamedVolume => ({ kind: 'named', name, dest: '/data', size: 64 * MiB, readonly: false, ...over });
const sha = (p: string): string => createHash('sha256').update(readFileSync(p)).digest('hex');

describe('where volumes live', () => {
  it('$XDG_DATA_HOME/osv-up/volumes (else ~/.local/share), one directory per project named after it and a hash of its path', () => {
    expect(volumesRoot({ XDG_DATA_HOME: '/x/data' })).toBe('/x/data/osv-up/volumes');
    expect(volumesRoot({ HOME: '/home/u' })).toBe('/home/u/.local/share/osv-up/volumes');
    expect(volumesRoot({ XDG_DATA_HOME: 'relative', HOME: '/home/u' })).toBe('/home/u/.local/share/osv-up/volumes');
    const a = projectVolumesDir('/srv/my app', { XDG_DATA_HOME: '/d' });
    expect(a).toMatch(/^\/d\/osv-up\/volumes\/my-app-[0-9a-f]{12}$/);
    expect(projectVolumesDir('/other/my app', { XDG_DATA_HOME: '/d' })).not.toBe(a);
    expect(volumeFile('/srv/my app', 'data', { XDG_DATA_HOME: '/d' })).toEqual({ ok: true, value: `${a}/data.ext4` });
  });

  it('a name that would leave the project\'s directory is refused', () => {
    for (const name of ['../x', 'a/b', '..', '', 'UP']) {
      const r = volumeFile('/srv/app', name, { XDG_DATA_HOME: '/d' });
      expect([name, r.ok || r.error.code]).toEqual([name, 'volume.bad-name']);
    }
  });
});

describe.skipIf(Boolean(reason))('making and keeping volumes', () => {
  it('made on first use as an ext4 OSv reads, described in project.json; kept as it is afterwards', async () => {
    const { project, env } = fresh();
    const r = await ensureVolume(project, vol('data'), { env });
    if (!r.ok) throw r.error;
    expect(r.value).toMatchObject({ created: true, path: volumeFile(project, 'data', env).ok && join(projectVolumesDir(project, env), 'data.ext4') });
    expect(r.value.notes[0]).toMatch(/^made volume "data" \(64 MiB ext4\) at /);
    const sb = readVolume(r.value.path, 'data');
    if (!sb.ok) throw sb.error;
    expect(sb.value).toMatchObject({ label: 'data', blockSize: 4096, blocks: 16384 });
    expect(sb.value.features).not.toContain('64bit');
    expect(sb.value.features).not.toContain('metadata_csum');
    // A program's data: readable by this user only.
    expect([statSync(r.value.path).mode & 0o777, statSync(projectVolumesDir(project, env)).mode & 0o777]).toEqual([0o600, 0o700]);
    const meta = readMeta(projectVolumesDir(project, env));
    expect(meta).toMatchObject({ version: 1, project, volumes: { data: { size: 64 * MiB, usedBy: [] } } });
    // Again, asking for another size: the same file, untouched, and a note.
    const before = { sha: sha(r.value.path), ino: statSync(r.value.path).ino };
    const again = await ensureVolume(project, vol('data', { size: 128 * MiB }), { env });
    if (!again.ok) throw again.error;
    expect(again.value.created).toBe(false);
    expect(again.value.notes).toEqual(['volume "data" holds 64 MiB (run.volumes says 128 MiB): an existing volume keeps its size']);
    expect({ sha: sha(r.value.path), ino: statSync(r.value.path).ino }).toEqual(before);
  });

  it('seeded from a directory: the files are there, and a later change of the seed does not reach it', async () => {
    const { project, env } = fresh();
    const seed = join(project, 'seed');
    mkdirSync(join(seed, 'conf'), { recursive: true });
    writeFileSync(join(seed, 'conf', 'app.conf'), 'port = 8080\n');
    writeFileSync(join(seed, 'big.bin'), Buffer.alloc(3 * MiB, 1));
    const r = await ensureVolume(project, vol('seeded', { from: seed }), { env });
    if (!r.ok) throw r.error;
    const tree = await listExt(r.value.path);
    if (!tree.ok) throw tree.error;
    expect(tree.value.filter((e) => !e.path.startsWith('/lost+found')).map((e) => [e.path, e.kind, e.kind === 'file' ? e.size : 0])).toEqual([
      ['/', 'dir', 0],
      ['/big.bin', 'file', 3 * MiB],
      ['/conf', 'dir', 0],
      ['/conf/app.conf', 'file', 12],
    ]);
    const cat = spawnSync(findTool('debugfs')!, ['-R', 'cat /conf/app.conf', r.value.path], { encoding: 'utf8' });
    expect(cat.stdout).toBe('port = 8080\n');
    writeFileSync(join(seed, 'later.txt'), 'x');
    const again = await ensureVolume(project, vol('seeded', { from: seed }), { env });
    expect(again.ok && again.value.created).toBe(false);
    const after = await listExt(r.value.path);
    expect(after.ok && after.value.some((e) => e.path === '/later.txt')).toBe(false);
    expect(readMeta(projectVolumesDir(project, env)).volumes['seeded']?.from).toBe(seed);
  });

  it('a seed larger than the size, or no seed directory: an error, and no volume', async () => {
    const { project, env } = fresh();
    const seed = join(project, 'seed');
    mkdirSync(seed);
    writeFileSync(join(seed, 'huge.bin'), Buffer.alloc(20 * MiB, 1));
    const small = await ensureVolume(project, vol('small', { from: seed, size: 16 * MiB }), { env });
    expect(!small.ok && [small.error.code, small.error.message]).toEqual(['volume.too-small', `volume "small" of 16 MiB is too small: the seed ${seed} takes 20 MiB`]);
    // Not larger than the size, but more than fits beside ext4's journal and tables: mke2fs says so.
    writeFileSync(join(seed, 'huge.bin'), Buffer.alloc(15 * MiB, 1));
    const tight = await ensureVolume(project, vol('small', { from: seed, size: 16 * MiB }), { env });
    expect(!tight.ok && tight.error.code).toBe('volume.too-small');
    const none = await ensureVolume(project, vol('small', { from: join(project, 'nope') }), { env });
    expect(!none.ok && none.error.message).toBe(`volume "small": from ${join(project, 'nope')} does not exist`);
    const home = projectVolumesDir(project, env);
    expect(existsSync(home) ? readFileSyncList(home) : []).toEqual([]);
  });

  it('a file that is not ext4 where the volume belongs is never formatted', async () => {
    const { project, env } = fresh();
    const path = join(projectVolumesDir(project, env), 'data.ext4');
    mkdirSync(projectVolumesDir(project, env), { recursive: true });
    writeFileSync(path, Buffer.alloc(4 * MiB, 0x5a));
    const r = await ensureVolume(project, vol('data'), { env });
    expect(!r.ok && [r.error.code, r.error.message]).toEqual(['volume.not-ext4', `volume "data" (${path}) is not an ext4 file system: osv-up never formats over existing data`]);
    expect(readFileSync(path).equals(Buffer.alloc(4 * MiB, 0x5a))).toBe(true);
  });

  it('two runs making one volume at once: one makes it, neither clobbers the other', async () => {
    const { project, env } = fresh();
    const [a, b] = await Promise.all([ensureVolume(project, vol('race'), { env }), ensureVolume(project, vol('race'), { env })]);
    if (!a.ok || !b.ok) throw new Error('failed');
    expect([a.value.created, b.value.created].filter(Boolean).length).toBeLessThanOrEqual(1);
    expect(readVolume(a.value.path, 'race').ok).toBe(true);
    expect(readFileSyncList(projectVolumesDir(project, env))).toEqual(['project.json', 'race.ext4']);
  });

  it('a dry run makes nothing and says what a run would make', async () => {
    const { project, env } = fresh();
    const r = await ensureVolume(project, vol('later', { from: '/srv/seed' }), { env, dryRun: true });
    expect(r.ok && r.value).toMatchObject({ pending: true, created: false, notes: [expect.stringMatching(/^volume "later" does not exist yet: the run makes it \(64 MiB ext4, seeded from \/srv\/seed\) at /)] });
    expect(existsSync(projectVolumesDir(project, env))).toBe(false);
  });

  it('attached in run.volumes order after the image, mounted by --mount-fs; the use is remembered', async () => {
    const { project, env } = fresh();
    const raw = join(project, 'raw.img');
    writeFileSync(raw, Buffer.alloc(MiB));
    const volumes: Volume[] = [{ kind: 'disk', path: raw, readonly: true }, vol('data', { dest: '/my data' })];
    const r = await attachVolumes(volumes, { project, config: join(project, 'osv.yaml'), run: 'db', env });
    if (!r.ok) throw r.error;
    const path = join(projectVolumesDir(project, env), 'data.ext4');
    expect(r.value.disks).toEqual([
      { path: raw, format: 'raw', readonly: true },
      { path, format: 'raw' },
    ]);
    expect(r.value.kernelOptions).toEqual(['--mount-fs=ext,/dev/vblk2,/my\\ data']);
    expect(readMeta(projectVolumesDir(project, env)).volumes['data']?.usedBy).toEqual([{ config: join(project, 'osv.yaml'), run: 'db', lastUsed: expect.any(String) }]);
    // A dry run of a volume not made yet: a pending disk, nothing made.
    const dry = await attachVolumes([vol('other')], { project, run: 'default', env, dryRun: true });
    expect(dry.ok && dry.value.disks).toEqual([{ path: join(projectVolumesDir(project, env), 'other.ext4'), format: 'raw', pending: true }]);
  });

  it('a read-only volume is attached as a ROFS copy of its files, made again only when the volume changed', async () => {
    const { project, env } = fresh();
    const seed = join(project, 'seed');
    mkdirSync(join(seed, 'etc'), { recursive: true });
    writeFileSync(join(seed, 'etc', 'app.conf'), 'port = 8080\n');
    symlinkSync('etc/app.conf', join(seed, 'link'));
    const ro = vol('conf', { dest: '/conf', readonly: true, from: seed });
    const r = await attachVolumes([ro], { project, run: 'default', env });
    if (!r.ok) throw r.error;
    const home = projectVolumesDir(project, env);
    expect(r.value.disks).toEqual([{ path: join(home, 'conf.rofs'), format: 'raw', readonly: true }]);
    expect(r.value.kernelOptions).toEqual(['--mount-fs=rofs,/dev/vblk1,/conf']);
    expect(r.value.notes).toContain(`made the read-only copy of volume "conf" (ROFS) at ${join(home, 'conf.rofs')}`);
    const img = await inspectImage(join(home, 'conf.rofs'));
    if (!img.ok) throw img.error;
    expect(img.value.filesystem.type).toBe('rofs');
    expect(img.value.tree.map((t) => [t.path, t.kind, t.kind === 'file' ? t.size : t.target])).toEqual([
      ['/', 'dir', undefined],
      ['/etc', 'dir', undefined],
      ['/etc/app.conf', 'file', 12],
      ['/link', 'symlink', 'etc/app.conf'],
    ]);
    expect(img.value.problems).toEqual([]);
    // Unchanged volume: the same copy; a changed one (a writable run wrote to it): a new copy.
    const mtime = statSync(join(home, 'conf.rofs')).mtimeMs;
    const again = await attachVolumes([ro], { project, run: 'default', env });
    expect(again.ok && again.value.notes.some((n) => n.startsWith('made the read-only copy'))).toBe(false);
    expect(statSync(join(home, 'conf.rofs')).mtimeMs).toBe(mtime);
    spawnSync(findTool('debugfs')!, ['-w', '-R', 'mkdir /added', join(home, 'conf.ext4')]);
    const changed = await attachVolumes([ro], { project, run: 'default', env });
    expect(changed.ok && changed.value.notes.some((n) => n.startsWith('made the read-only copy'))).toBe(true);
    const after = await inspectImage(join(home, 'conf.rofs'));
    expect(after.ok && after.value.tree.map((t) => t.path)).toContain('/added');
    // The ext4 itself was never attached: only debugfs above changed it.
    expect(readVolume(join(home, 'conf.ext4'), 'conf').ok).toBe(true);
  });

  it.skipIf(Boolean(inUseReason))('refused while a VM has it: attaching it to a second run, and removing it', { timeout: 30_000 }, async () => {
    const { project, env } = fresh();
    const made = await ensureVolume(project, vol('busy'), { env });
    if (!made.ok) throw made.error;
    // A paused QEMU holding the volume as a running `osv up` would.
    const vm = spawn(qemu!, ['-accel', 'tcg', '-nographic', '-nodefaults', '-S', '-drive', `file=${made.value.path},format=raw,if=virtio`], { stdio: 'ignore' });
    try {
      await waitLocked(made.value.path);
      const attach = await attachVolumes([vol('busy')], { project, run: 'default', env });
      expect(!attach.ok && attach.error.code).toBe('volume.in-use');
      const rm = await removeVolume(project, 'busy', env);
      expect(!rm.ok && [rm.error.code, rm.error.message]).toEqual(['volume.in-use', `volume "busy" is in use by a running VM (${made.value.path})`]);
      expect(existsSync(made.value.path)).toBe(true);
    } finally {
      vm.kill('SIGKILL');
      await new Promise((res) => vm.on('close', res));
    }
    const rm = await removeVolume(project, 'busy', env);
    expect(rm.ok).toBe(true);
    // The last volume of the project gone: its directory too.
    expect(existsSync(projectVolumesDir(project, env))).toBe(false);
    const gone = await removeVolume(project, 'busy', env);
    expect(!gone.ok && gone.error.code).toBe('volume.missing');
  });
});

function readFileSyncList(dir: string): string[] {
  return spawnSync('ls', ['-A', dir], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
}

/** Until QEMU has taken its lock on the file (qemu-io cannot open it for writing). */
async function waitLocked(file: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (spawnSync(qemuIo!, ['-f', 'raw', '-c', 'quit', file], { encoding: 'utf8' }).status !== 0) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('QEMU never locked the volume');
}
