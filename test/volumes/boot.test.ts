// State that survives, on a real OSv kernel under QEMU, through the CLI as users run it: a
// sqlite counter on a named volume counts on across runs and rebuilds while no run changes the
// image; a seeded volume shows its files; a read-only one refuses the guest's writes; redis
// keeps a key across Ctrl-C and a rebuild. Needs OSV_KERNEL with OSv's ext module beside it
// (or in its OSv build), QEMU, gcc, e2fsprogs, and sqlite3 / redis-server for their tests;
// each one missing skips with the reason printed.

import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { findTool } from '../../src/image/tools.js';
import { extKernelReason, kernelReason, osvKernel, osvKernelFiles } from '../helpers/ext-kernel.js';
import { hasGcc, hasTool } from '../helpers/tools.js';
import { freePort } from '../helpers/net.js';
import { OSV, runOsv, type OsvResult } from '../helpers/osv.js';

const ROOT = join(import.meta.dirname, '..', '..');
const kernel = osvKernel;
const files = osvKernelFiles;
const reason =
  kernelReason ?? (!hasTool('qemu-system-x86_64') ? 'qemu-system-x86_64 is not installed' : !hasGcc ? 'gcc is not installed' : !findTool('mke2fs') || !findTool('debugfs') ? 'e2fsprogs is not installed' : undefined);
const extReason = reason ?? extKernelReason;
if (extReason) console.warn(`skipped: named-volume boot tests: ${extReason}`);
const sqliteReason = extReason ?? (hasTool('sqlite3') ? undefined : 'sqlite3 is not installed');
if (sqliteReason && !extReason) console.warn(`skipped: sqlite volume boot test: ${sqliteReason}`);
const redis = findTool('redis-server');
const redisReason = extReason ?? (redis ? undefined : 'redis-server is not installed (apt-get install redis-server)');
if (redisReason && !extReason) console.warn(`skipped: redis volume boot test: ${redisReason}`);

// Only when the tests run: a skipped file leaves nothing in the temporary directory.
const work = reason ? '' : mkdtempSync(join(tmpdir(), 'osv-volume-boot-'));
const env: NodeJS.ProcessEnv = { ...process.env, OSV_KERNEL: kernel, XDG_DATA_HOME: join(work, 'data'), XDG_CACHE_HOME: join(work, 'cache') };
delete env['CI'];
afterAll(() => void (work && rmSync(work, { recursive: true, force: true })));

const osv = (cwd: string, args: string[], extraEnv: NodeJS.ProcessEnv = {}): OsvResult => runOsv(args, { cwd, env: { ...env, ...extraEnv }, timeout: 150_000, input: '' });

const sha256 = (p: string): string => createHash('sha256').update(readFileSync(p)).digest('hex');

/** `osv build`, then the image's sha256. */
function built(dir: string): string {
  const b = osv(dir, ['build', '-q']);
  expect(b.code, b.stderr).toBe(0);
  return sha256(join(dir, '.osv', 'app.img'));
}

describe.runIf(!sqliteReason)('a sqlite counter on a named volume', () => {
  it('counts 1, 2, 3 over three runs and a rebuild; no run changes the image', { timeout: 400_000 }, () => {
    const dir = join(work, 'sqlite');
    mkdirSync(dir);
    const yaml = ['name: app', 'cmd: [/usr/bin/sqlite3, /db/count.db, "create table if not exists t(x); insert into t values(1); select count(*) from t;"]', 'run:', '  network: none', '  volumes: [{name: db, dest: /db, size: 64M}]', ''].join('\n');
    writeFileSync(join(dir, 'osv.yaml'), yaml);
    const counts: string[] = [];
    const count = (args: string[]): void => {
      const r = osv(dir, args);
      expect(r.code, r.stderr).toBe(0);
      counts.push(r.stdout.trim().split('\n').pop()!);
    };
    let image = built(dir);
    count(['up', '-q']);
    expect(sha256(join(dir, '.osv', 'app.img'))).toBe(image);
    // A change to osv.yaml that rebuilds the image: the volume is not part of it.
    writeFileSync(join(dir, 'osv.yaml'), `${yaml}files: [{dest: /etc/motd, content: "rebuilt"}]\n`);
    const before = image;
    image = built(dir);
    expect(image).not.toBe(before);
    count(['up', '-q']);
    expect(sha256(join(dir, '.osv', 'app.img'))).toBe(image);
    count(['run']);
    expect(sha256(join(dir, '.osv', 'app.img'))).toBe(image);
    expect(counts).toEqual(['1', '2', '3']);
    // The runs did not touch the image: its record still holds, nothing is rebuilt.
    expect(osv(dir, ['up', '-n']).stderr).toContain('image up to date');
    const ls = osv(dir, ['volume', 'ls']);
    expect(ls.stdout).toMatch(/^ {2}db +64 MiB .* osv\.yaml \(default\)$/m);
  });
});

const RW = `#include <errno.h>
#include <stdio.h>
#include <string.h>
int main(int argc, char **argv) {
  char p[256], line[64] = "";
  snprintf(p, sizeof p, "%s/hello.txt", argv[1]);
  FILE *f = fopen(p, "r");
  if (f && fgets(line, sizeof line, f)) printf("read: %s", line); else printf("read failed: %s\\n", strerror(errno));
  if (f) fclose(f);
  snprintf(p, sizeof p, "%s/written.txt", argv[1]);
  f = fopen(p, "w");
  if (!f) { printf("write failed: %s\\n", strerror(errno)); return 1; }
  fputs("written by the guest\\n", f);
  if (fclose(f) != 0) { printf("write failed: %s\\n", strerror(errno)); return 1; }
  printf("write ok\\n");
  return 0;
}
`;

/** A project directory with ./rw (RW, compiled) and ./seed/hello.txt. */
function rwProject(name: string): string {
  const dir = join(work, name);
  mkdirSync(join(dir, 'seed'), { recursive: true });
  writeFileSync(join(dir, 'seed', 'hello.txt'), 'from the seed\n');
  writeFileSync(join(dir, 'rw.c'), RW);
  const cc = spawnSync('gcc', ['-o', join(dir, 'rw'), join(dir, 'rw.c')], { encoding: 'utf8' });
  if (cc.status !== 0) throw new Error(cc.stderr);
  return dir;
}

describe.runIf(!extReason)('seeded and read-only volumes', () => {
  it('a seeded volume shows its seed; a read-only one refuses writes in the guest and never changes; both beside a writable one', { timeout: 300_000 }, () => {
    const dir = rwProject('seeded');
    writeFileSync(
      join(dir, 'osv.yaml'),
      [
        'name: app',
        'cmd: [./rw, /conf]',
        'run:',
        '  network: none',
        '  volumes:',
        '    - {name: conf, dest: /conf, from: ./seed, readonly: true, size: 32M}',
        '    - {name: data, dest: /data, from: ./seed, size: 32M}',
        'runs:',
        '  data: {cmd: [./rw, /data]}',
        '',
      ].join('\n'),
    );
    const image = built(dir);
    const ro = osv(dir, ['up', '-q']);
    expect(ro.stdout).toContain('read: from the seed\n');
    expect(ro.stdout).toMatch(/^write failed: (Permission denied|Read-only file system)$/m);
    expect(ro.code).toBe(1);
    const rw = osv(dir, ['up', '-q', '--run', 'data']);
    expect([rw.code, rw.stdout], rw.stderr).toEqual([0, expect.stringContaining('read: from the seed\nwrite ok\n')]);
    expect(sha256(join(dir, '.osv', 'app.img'))).toBe(image);
    // What the guest wrote is in the writable volume; the read-only one is as it was made.
    const out = join(dir, 'out');
    expect(osv(dir, ['volume', 'export', 'data', join(out, 'data')]).code).toBe(0);
    expect(readFileSync(join(out, 'data', 'written.txt'), 'utf8')).toBe('written by the guest\n');
    expect(osv(dir, ['volume', 'export', 'conf', join(out, 'conf')]).code).toBe(0);
    expect(spawnSync('ls', ['-A', join(out, 'conf')], { encoding: 'utf8' }).stdout).toBe('hello.txt\n');
  });
});

const extKernel = process.env['OSV_KERNEL_EXT'];
const extRootReason = reason ?? (extKernel ? undefined : 'OSV_KERNEL_EXT is not set (the directory of an fs=ext OSv build: an ext root needs its kernel)');
if (extRootReason && !reason) console.warn(`skipped: read-only volume over an ext root: ${extRootReason}`);

describe.runIf(!extRootReason)('a read-only volume over an ext root', () => {
  it('is mounted (as ROFS, beside the root\'s ext) and refuses writes', { timeout: 120_000 }, () => {
    const dir = rwProject('ext-root');
    writeFileSync(join(dir, 'osv.yaml'), 'name: app\nfilesystem: ext\ncmd: [./rw, /conf]\nrun:\n  network: none\n  volumes: [{name: conf, dest: /conf, from: ./seed, readonly: true, size: 32M}]\n');
    const r = osv(dir, ['up', '-q'], { OSV_KERNEL: extKernel });
    expect(r.stdout, r.stderr).toContain('read: from the seed\n');
    expect(r.stdout).toMatch(/^write failed: (Permission denied|Read-only file system)$/m);
    expect(r.code).toBe(1);
  });
});

describe.runIf(!reason)('a kernel bundle without the ext module', () => {
  it('a kernel without the ext module: the build says which files are missing and where an OSv build keeps them', { timeout: 60_000 }, () => {
    const dir = join(work, 'noext');
    const k = join(work, 'kernel-alone');
    mkdirSync(dir);
    mkdirSync(k);
    symlinkSync(files?.ok ? files.value.elf! : '', join(k, 'loader-stripped.elf'));
    writeFileSync(join(dir, 'osv.yaml'), 'name: app\ncmd: [/bin/true]\nrun:\n  volumes: [{name: db, dest: /db}]\n');
    const r = osv(dir, ['build'], { OSV_KERNEL: k });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`error: the named volume "db" needs OSv's ext module (libext.so and liblwext4.so), and the kernel at ${join(k, 'loader-stripped.elf')} comes without it`);
    expect(r.stderr).toContain('build/<mode>/modules/libext/libext.so and modules/lwext4/upstream/lwext4/build_lib_only/src/liblwext4.so');
  });
});

/** One redis command in RESP, its reply as text (no redis-cli needed). */
function resp(port: number, ...args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = createConnection({ host: '127.0.0.1', port });
    let reply = '';
    sock.setTimeout(2000, () => sock.destroy(new Error('timeout')));
    sock.on('connect', () => sock.write(`*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`));
    sock.on('data', (d: Buffer) => {
      reply += d.toString();
      if (/\r\n$/.test(reply) && (!reply.startsWith('$') || reply.split('\r\n').length > 2 || reply.startsWith('$-1'))) sock.end();
    });
    sock.on('end', () => resolve(reply));
    sock.on('close', () => resolve(reply));
    sock.on('error', reject);
  });
}

/** `osv up` in the background until redis answers PING; then `use`, then Ctrl-C. */
async function withRedis(dir: string, port: number, use: () => Promise<void>): Promise<{ code: number | null; out: string }> {
  const child = spawn(process.execPath, [OSV, 'up'], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
  try {
    const end = Date.now() + 120_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`osv up ended early:\n${out}`);
      if (Date.now() > end) throw new Error(`redis never answered:\n${out}`);
      if ((await resp(port, 'PING').catch(() => '')) === '+PONG\r\n') break;
      await new Promise((r) => setTimeout(r, 500));
    }
    await use();
  } finally {
    child.kill('SIGINT');
  }
  return { code: await exited, out };
}

describe.runIf(!redisReason)('redis on a named volume (examples/redis-state)', () => {
  it('SET through a forward, Ctrl-C, a rebuild, osv up again: GET returns the value', { timeout: 400_000 }, async () => {
    const dir = join(work, 'redis');
    cpSync(join(ROOT, 'examples', 'redis-state'), dir, { recursive: true });
    const port = await freePort();
    const yaml = readFileSync(join(dir, 'osv.yaml'), 'utf8').replace('"6379:6379"', `"${port}:6379"`).replace('name: redis-state', 'name: app');
    writeFileSync(join(dir, 'osv.yaml'), yaml);
    const image = built(dir);
    const first = await withRedis(dir, port, async () => {
      expect(await resp(port, 'SET', 'greeting', 'hello from the volume')).toBe('+OK\r\n');
      // appendfsync everysec: give redis its second to put the write on the disk.
      await new Promise((r) => setTimeout(r, 2500));
    });
    expect(first.code, first.out).toBe(130);
    expect(sha256(join(dir, '.osv', 'app.img'))).toBe(image);
    writeFileSync(join(dir, 'osv.yaml'), `${yaml}files: [{dest: /etc/motd, content: "rebuilt"}]\n`);
    expect(built(dir)).not.toBe(image);
    let value = '';
    const second = await withRedis(dir, port, async () => {
      value = await resp(port, 'GET', 'greeting');
    });
    expect(value, second.out).toBe('$21\r\nhello from the volume\r\n');
    expect(second.out).toContain('DB loaded from append only file');
  });
});
