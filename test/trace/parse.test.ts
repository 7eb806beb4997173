import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseLoaderTrace } from '../../src/trace/ld-debug.js';
import { parseSyscallTrace, unescapeC } from '../../src/trace/strace.js';
import { buildFixture, hasGcc, hasStrace, type TraceFixture } from './fixture.js';

if (!hasGcc) console.warn('skipped: gcc is not installed, the loader-trace fixtures cannot be compiled');
if (!hasStrace) console.warn('skipped: strace is not installed, the real strace log test cannot run');

describe.runIf(hasGcc)('parseLoaderTrace on a real LD_DEBUG log', () => {
  let fx: TraceFixture;
  beforeAll(() => {
    fx = buildFixture();
  });
  afterAll(() => fs.rmSync(fx.dir, { recursive: true, force: true }));

  it('records DT_NEEDED and dlopen loads with who asked', () => {
    execFileSync(fx.prog, [fx.plugin, fx.data], {
      env: { ...process.env, LD_DEBUG: 'libs,files', LD_DEBUG_OUTPUT: join(fx.dir, 'ld') },
    });
    const logs = fs.readdirSync(fx.dir).filter((n) => n.startsWith('ld.'));
    expect(logs).toHaveLength(1);
    const t = parseLoaderTrace(fs.readFileSync(join(fx.dir, logs[0]!), 'utf8'));
    const libc = t.libraries.find((l) => l.request === 'libc.so.6');
    expect(libc).toMatchObject({ how: 'needed' });
    expect(libc!.path).toMatch(/libc\.so\.6$/);
    const plug = t.libraries.find((l) => l.request === fx.plugin);
    expect(plug).toMatchObject({ how: 'dlopen', path: fx.plugin });
    expect(plug!.by).toMatch(/prog$/);
    // libdep.so is found through the plugin's RUNPATH and needed by the plugin.
    const dep = t.libraries.find((l) => l.request === 'libdep.so');
    expect(dep).toMatchObject({ how: 'needed', path: fx.dep, by: fx.plugin });
    expect(t.programs[0]?.program).toMatch(/prog$/);
  });
});

describe('parseSyscallTrace', () => {
  it('keeps successful opens, joins relative names to their directory, and tells reads from writes', () => {
    const log = [
      '100 execve("/srv/app", ["/srv/app"], 0x7ffd /* 3 vars */) = 0',
      '100 openat(AT_FDCWD</srv>, "/etc/ld.so.cache", O_RDONLY|O_CLOEXEC) = 3</etc/ld.so.cache>',
      '100 openat(AT_FDCWD</srv>, "conf/app.yaml", O_RDONLY) = 3</srv/conf/app.yaml>',
      '100 openat(AT_FDCWD</srv>, "/nope", O_RDONLY) = -1 ENOENT (No such file or directory)',
      '100 openat(4</usr/share/zoneinfo>, "UTC", O_RDONLY|O_CLOEXEC) = 5</usr/share/zoneinfo/UTC>',
      '100 openat(AT_FDCWD</srv>, "/var/log/app.log", O_WRONLY|O_CREAT|O_APPEND, 0644) = 6</var/log/app.log>',
      '100 open("/etc/app.db", O_RDWR) = 7</etc/app.db>',
      '100 openat(AT_FDCWD</srv>, "/usr/lib/plugins", O_RDONLY|O_NONBLOCK|O_CLOEXEC|O_DIRECTORY) = 8</usr/lib/plugins>',
      '101 execve("/bin/sh", ["sh", "-c", "true"], 0x1 /* 3 vars */) = 0',
      '102 execve("/usr/bin/missing", ["x"], 0x1 /* 3 vars */) = -1 ENOENT (No such file or directory)',
    ].join('\n');
    const t = parseSyscallTrace(log);
    expect(t.opened.map((o) => o.path)).toEqual([
      '/etc/ld.so.cache',
      '/srv/conf/app.yaml',
      '/usr/share/zoneinfo/UTC',
      '/var/log/app.log',
      '/etc/app.db',
      '/usr/lib/plugins',
    ]);
    expect(t.opened.find((o) => o.path === '/var/log/app.log')).toMatchObject({ writes: true, reads: false });
    expect(t.opened.find((o) => o.path === '/etc/app.db')).toMatchObject({ writes: true, reads: true });
    expect(t.opened.find((o) => o.path === '/usr/lib/plugins')).toMatchObject({ directory: true, reads: true });
    expect(t.executed.map((e) => e.path)).toEqual(['/srv/app', '/bin/sh']);
  });

  it('joins calls that strace split across threads (<unfinished ...> / resumed)', () => {
    const log = [
      '200 openat(AT_FDCWD</w>, "/etc/hosts", O_RDONLY|O_CLOEXEC <unfinished ...>',
      '201 openat(AT_FDCWD</w>, "/etc/resolv.conf", O_RDONLY|O_CLOEXEC) = 4</etc/resolv.conf>',
      '200 <... openat resumed>) = 3</etc/hosts>',
      '202 openat(AT_FDCWD</w>, "/etc/gai.conf", O_RDONLY <unfinished ...>',
      '202 <... openat resumed>) = -1 ENOENT (No such file or directory)',
    ].join('\n');
    expect(parseSyscallTrace(log).opened.map((o) => o.path)).toEqual(['/etc/resolv.conf', '/etc/hosts']);
  });

  it('decodes escaped bytes and directories whose names hold ", " or ">"', () => {
    expect(unescapeC(String.raw`caf\303\251 \"q\" \x41\\`)).toBe('café "q" A\\');
    const log = String.raw`300 openat(AT_FDCWD</a, b\x3ec>, "f\tx", O_RDONLY) = 3</a, b\x3ec/f\tx>`;
    expect(parseSyscallTrace(log).opened[0]?.path).toBe('/a, b>c/f\tx');
  });
});

describe.runIf(hasGcc && hasStrace)('parseSyscallTrace on a real strace log', () => {
  it('sees the data file the program read, by the name it used', () => {
    const fx = buildFixture();
    try {
      const log = join(fx.dir, 'strace.log');
      execFileSync('strace', ['-f', '-qq', '-y', '-e', 'trace=open,openat,execve', '-o', log, '--', fx.prog, fx.plugin, 'app.conf'], {
        cwd: fx.dir,
      });
      const t = parseSyscallTrace(fs.readFileSync(log, 'utf8'));
      expect(t.opened.map((o) => o.path)).toContain(fx.data);
      expect(t.opened.map((o) => o.path)).toContain(fx.plugin);
      expect(t.executed[0]?.path).toBe(fx.prog);
    } finally {
      fs.rmSync(fx.dir, { recursive: true, force: true });
    }
  });
});
