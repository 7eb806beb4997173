// Temp files are created exclusively beside their destination (issue #20): a symlink planted at
// the name a writer used to pick (`FILE.<pid>.tmp` and the like) is never written through, and
// the temp files of a build stopped by a signal, or killed, do not stay behind.

import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { removeStaleTemps, writeFileAtomic } from '../../src/atomic.js';
import { writeAtomically } from '../../src/image/atomic.js';
import { ok } from '../../src/diagnostics/result.js';
import { writeRecord, type BuildRecord } from '../../src/image/record.js';
import { writeLock } from '../../src/kernel/lock.js';
import { cachedSha256 } from '../../src/kernel/hash.js';
import { writeNoop } from '../../src/tasks/noop.js';
import { RecordingHostFs } from '../../src/tasks/fingerprint.js';
import { nodeHostFs } from '../../src/hostfs.js';
import { checkKvm } from '../../src/run/accel.js';
import type { Config } from '../../src/config/types.js';
import type { KernelBundle } from '../../src/kernel/types.js';

let dir: string;
let victim: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'osv-atomic-'));
  victim = join(dir, 'victim.txt');
  writeFileSync(victim, 'precious\n');
});
afterEach(() => {
  vi.restoreAllMocks();
  rmSync(dir, { recursive: true, force: true });
});

/** Plant a symlink to the victim at `path`; returns a check that the victim is untouched. */
const plant = (path: string): void => symlinkSync(victim, path);
const victimIntact = (): void => expect(readFileSync(victim, 'utf8')).toBe('precious\n');

describe('writeFileAtomic', () => {
  it('writes, renames, and leaves no temp file', () => {
    const dest = join(dir, 'out.json');
    writeFileAtomic(dest, '{}\n');
    writeFileAtomic(dest, '{"a":1}\n', { mode: 0o600 });
    expect(readFileSync(dest, 'utf8')).toBe('{"a":1}\n');
    expect(statSync(dest).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir).sort()).toEqual(['out.json', 'victim.txt']);
  });

  it('never writes through a symlink at its temp name: it takes another name', () => {
    const dest = join(dir, 'out.json');
    const values = [0.5, 0.5, 0.25];
    vi.spyOn(Math, 'random').mockImplementation(() => values.shift() ?? 0.75);
    plant(join(dir, `.out.json.${process.pid}-80000000.tmp`));
    writeFileAtomic(dest, 'new\n');
    victimIntact();
    expect(readFileSync(dest, 'utf8')).toBe('new\n');
  });

  it('replaces a symlink at the destination itself instead of following it', () => {
    const dest = join(dir, 'out.json');
    plant(dest);
    writeFileAtomic(dest, 'new\n');
    victimIntact();
    expect(readFileSync(dest, 'utf8')).toBe('new\n');
  });
});

describe('the writers that used a predictable temp name', () => {
  const pid = process.pid;

  it('the build record (IMAGE.build.json.tmp-PID), written 0600', () => {
    const image = join(dir, 'app.img');
    plant(`${image}.build.json.tmp-${pid}`);
    writeRecord(image, { version: 3 } as BuildRecord);
    victimIntact();
    expect(statSync(`${image}.build.json`).mode & 0o777).toBe(0o600);
  });

  it('osv.lock (osv.lock.PID.tmp)', () => {
    plant(join(dir, `osv.lock.${pid}.tmp`));
    const w = writeLock(dir, { version: 'v1', repo: 'a/b', tag: 'v1', arch: 'x86_64', files: {} });
    expect(w.ok).toBe(true);
    victimIntact();
  });

  it('the no-op record (noop-*.json.tmp-PID), written 0600', () => {
    const file = join(dir, '.osv', 'noop-x.json');
    mkdirSync(join(dir, '.osv'));
    plant(`${file}.tmp-${pid}`);
    writeNoop(file, {
      image: join(dir, 'app.img'),
      output: 'disk',
      format: 'raw',
      config: { dir } as Config,
      run: 'default',
      key: 'k',
      kernel: { sha256: 'x' } as KernelBundle,
      configReads: new RecordingHostFs(nodeHostFs),
      env: [],
      discovered: false,
      cwd: dir,
    });
    victimIntact();
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('the kernel hash cache (sha256-cache.json.PID.tmp)', () => {
    const env = { XDG_CACHE_HOME: join(dir, 'cache') };
    mkdirSync(join(dir, 'cache', 'osv-up'), { recursive: true });
    plant(join(dir, 'cache', 'osv-up', `sha256-cache.json.${pid}.tmp`));
    const kernel = join(dir, 'kernel.elf');
    writeFileSync(kernel, 'not really a kernel');
    cachedSha256(kernel, env);
    victimIntact();
    expect(existsSync(join(dir, 'cache', 'osv-up', 'sha256-cache.json'))).toBe(true);
  });

  it('the KVM verdict cache (FILE.PID.tmp)', async () => {
    const cacheFile = join(dir, 'accel.json');
    const kvm = join(dir, 'kvm');
    writeFileSync(kvm, '');
    plant(`${cacheFile}.${pid}.tmp`);
    const host = process.arch === 'arm64' ? 'aarch64' : 'x86_64';
    await checkKvm({ qemu: '/bin/true', arch: host, kvmDevice: kvm, cacheFile, probe: async () => ({ usable: true }) });
    victimIntact();
    expect(JSON.parse(readFileSync(cacheFile, 'utf8'))).toMatchObject({ version: 1 });
  });
});

describe('temp files of interrupted builds', () => {
  it('a signal during writeAtomically removes its temp file and still ends the process', async () => {
    const dest = join(dir, 'big.img');
    const atomicJs = pathToFileURL(join(import.meta.dirname, '..', '..', 'dist', 'image', 'atomic.js')).href;
    const script = `
      const { writeAtomically } = await import(${JSON.stringify(atomicJs)});
      await writeAtomically(${JSON.stringify(dest)}, async (tmp) => {
        (await import('node:fs')).writeFileSync(tmp, Buffer.alloc(1 << 20));
        process.stdout.write('writing\\n');
        await new Promise(() => setInterval(() => {}, 1000));
      });`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((res) => child.stdout.once('data', () => res()));
    expect(readdirSync(dir).filter((n) => n.endsWith('.tmp'))).toHaveLength(1);
    child.kill('SIGINT');
    const signal = await new Promise<NodeJS.Signals | null>((res) => child.once('exit', (_c, s) => res(s)));
    expect(signal).toBe('SIGINT');
    expect(readdirSync(dir).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });

  it('the next write removes what a killed process left, and keeps a live one\'s', async () => {
    const dest = join(dir, 'app.img');
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout;
    writeFileSync(join(dir, `.app.img.${dead}-0badc0de.tmp`), 'left by a killed build');
    writeFileSync(join(dir, `.app.img.raw.${process.pid}-0badc0de.tmp`), 'this process is alive');
    writeFileSync(join(dir, `.other.img.${dead}-0badc0de.tmp`), 'another image');
    const r = await writeAtomically(dest, async (tmp) => (writeFileSync(tmp, 'image'), ok(undefined)));
    expect(r.ok).toBe(true);
    expect(readdirSync(dir).sort()).toEqual([`.app.img.raw.${process.pid}-0badc0de.tmp`, `.other.img.${dead}-0badc0de.tmp`, 'app.img', 'victim.txt']);
    expect(removeStaleTemps(join(dir, 'other.img'))).toEqual([`.other.img.${dead}-0badc0de.tmp`]);
  });
});
