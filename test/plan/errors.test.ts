// Every planner error, each with its message: bad input must read as a clear sentence.
import { execFileSync } from 'node:child_process';
import { chmodSync, lstatSync, mkdirSync, readdirSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderError } from '../../src/cli/render.js';
import { defaultMounts } from '../../src/config/types.js';
import type { OsvError } from '../../src/diagnostics/error.js';
import { nodeHostFs, type HostFs } from '../../src/hostfs.js';
import { plan } from '../../src/plan/index.js';
import type { Plan } from '../../src/plan/types.js';
import { buildProject, type Project } from './fixture.js';
import { copy, dir, exe, gcc, hasGcc, lib, link, makeConfig, tempDir, writeFiles } from './helpers.js';
import type { ConfigOver } from './helpers.js';
import { lacks } from '../helpers/skip.js';
import { gccStatic } from '../helpers/tools.js';

const env = { PATH: '/usr/bin:/bin' };

function errorsOf(over: ConfigOver, options: Parameters<typeof plan>[1] = {}): OsvError[] {
  const r = plan(makeConfig(over), { env, ...options });
  if (r.ok) throw new Error(`expected the plan to fail, got ${r.value.entries.length} entries`);
  return r.error.errors;
}

function planOk(over: ConfigOver, options: Parameters<typeof plan>[1] = {}): Plan {
  const r = plan(makeConfig(over), { env, ...options });
  if (!r.ok) throw r.error;
  return r.value;
}

let t: ReturnType<typeof tempDir>;
let d: string;
beforeAll(() => {
  t = tempDir();
  d = t.path;
  writeFiles(d, { 'a.txt': 'a', 'b.txt': 'b', 'script.sh': '#!/bin/sh\necho hi\n' });
  chmodSync(join(d, 'script.sh'), 0o755);
});
afterAll(() => t.cleanup());

describe('planner errors', () => {
  it('the same guest path from two different sources names both declarations', () => {
    const [e] = errorsOf({ cmd: ['/usr/bin/ls'], files: [copy(join(d, 'a.txt'), '/x'), { ...copy(join(d, 'b.txt'), '/x'), source: { file: '/project/osv.yaml', line: 20, column: 5 } }] });
    expect(e?.code).toBe('plan.conflict');
    expect(e?.message).toBe('/x is declared twice with different contents');
    expect(e?.details).toEqual([`${d}/a.txt: files[0] (/project/osv.yaml:9:3)`, `${d}/b.txt: files[1] (/project/osv.yaml:20:5)`]);
    expect(e?.source).toEqual({ file: '/project/osv.yaml', line: 20, column: 5 });
  });

  it('a /proc or /sys source names the entry; a tree that reaches /proc through a link skips it with a warning (issue #14)', () => {
    for (const src of ['/proc/cpuinfo', '/proc/self/root', '/sys/kernel']) {
      const [e] = errorsOf({ cmd: ['/usr/bin/ls'], files: [copy(src, '/x')] });
      expect(e?.code, src).toBe('plan.pseudo-file');
      expect(e?.message).toMatch(new RegExp(`^files\\[0\\]: ${src.replace(/\//g, '\\/')} is in \\/(proc|sys), a pseudo file system`));
      expect(e?.source).toBeDefined();
    }
    const tree = join(t.path + '-with-proc');
    mkdirSync(tree, { recursive: true });
    symlinkSync('/proc', join(tree, 'proc'));
    const p = planOk({ cmd: ['/usr/bin/ls'], files: [copy(tree, '/t')] });
    expect(p.entries.some((e) => e.guest.startsWith('/t/proc'))).toBe(false);
    expect(p.warnings).toContain(`skipped /proc in tree ${tree}: /proc is a pseudo file system, made up by the kernel as it is read`);
    rmSync(tree, { recursive: true });
  });

  it('the same file declared twice is merged silently, keeping both reasons', () => {
    const p = planOk({ cmd: ['/usr/bin/ls'], files: [copy(join(d, 'a.txt'), '/x'), copy(join(d, 'a.txt'), '/x')] });
    expect(p.entries.find((e) => e.guest === '/x')?.why.map((w) => (w.kind === 'config' ? w.key : w.kind))).toEqual(['files[0]', 'files[1]']);
    const p2 = planOk({ cmd: ['/usr/bin/ls'], files: [copy(join(d, 'a.txt'), '/x'), copy(d, '/tree')], executables: [exe('/usr/bin/ls', '/bin/ls')] });
    expect(p2.entries.find((e) => e.guest === '/x')?.kind).toBe('file');
    expect(p2.warnings).toEqual([]);
  });

  it('the same file with two different modes conflicts, naming the modes', () => {
    const [e] = errorsOf({ cmd: ['/usr/bin/ls'], files: [copy(join(d, 'a.txt'), '/x', { mode: 0o600 }), copy(join(d, 'a.txt'), '/x', { mode: 0o644 })] });
    expect(e?.message).toBe('/x is declared twice with different modes');
    expect(e?.details).toEqual([`${d}/a.txt (mode 600): files[0] (/project/osv.yaml:9:3)`, `${d}/a.txt (mode 644): files[1] (/project/osv.yaml:9:3)`]);
  });

  it('a file and a directory at one path conflict', () => {
    const [e] = errorsOf({ cmd: ['/usr/bin/ls'], files: [copy(join(d, 'a.txt'), '/x'), dir('/x')] });
    expect(e?.message).toBe('/x is declared twice with different contents');
    expect(e?.details[1]).toBe('a directory: files[1] (/project/osv.yaml:12:3)');
  });

  it('an entry below a file or symlink is an error naming both', () => {
    const [e] = errorsOf({ cmd: ['/usr/bin/ls'], files: [link('/opt', '/usr'), copy(join(d, 'a.txt'), '/opt/a.txt')] });
    expect(e?.code).toBe('plan.not-a-directory');
    expect(e?.message).toBe('/opt/a.txt cannot be placed in the image: /opt is a symlink to /usr, not a directory');
  });

  it('files under /tmp of a rofs image are a warning: a ramfs hides them at boot', () => {
    const p = planOk({ cmd: ['/usr/bin/ls'], files: [copy(join(d, 'a.txt'), '/tmp/a.txt')] });
    expect(p.warnings).toContain('/tmp/a.txt: OSv mounts an empty ramfs on /tmp at boot, so the program will not see it; put it elsewhere, or set image.mounts./tmp: false');
  });

  it('files under /dev, /proc or /sys are a warning while the fstab mounts over them, and not once image.mounts turns that off', () => {
    const files = [copy(join(d, 'a.txt'), '/dev/a.txt'), copy(join(d, 'b.txt'), '/dev/sub/b.txt'), copy(join(d, 'a.txt'), '/proc/x'), dir('/sys/empty')];
    const p = planOk({ cmd: ['/usr/bin/ls'], files });
    expect(p.warnings).toContain('2 entries under /dev (/dev/a.txt, ...): OSv mounts devfs on /dev at boot, so the program will not see them; put them elsewhere, or set image.mounts./dev: false');
    expect(p.warnings).toContain('/proc/x: OSv mounts procfs on /proc at boot, so the program will not see it; put it elsewhere, or set image.mounts./proc: false');
    // An empty directory hides nothing.
    expect(p.warnings.some((w) => w.includes('/sys'))).toBe(false);
    const off = planOk({ cmd: ['/usr/bin/ls'], files, image: { output: 'disk', format: 'raw', mounts: { '/dev': false, '/proc': false, '/sys': true, '/tmp': true } } });
    expect(off.warnings.some((w) => w.includes('OSv mounts'))).toBe(false);
    // On ext, /tmp is no mount point unless asked for.
    const ext = planOk({ filesystem: 'ext', cmd: ['/usr/bin/ls'], files: [copy(join(d, 'a.txt'), '/tmp/a.txt')] });
    expect(ext.warnings.some((w) => w.includes('OSv mounts'))).toBe(false);
  });

  it("an /etc/fstab of the user's is a warning: it replaces the generated one, root line and image.mounts included", () => {
    const p = planOk({ cmd: ['/usr/bin/ls'], files: [copy(join(d, 'a.txt'), '/etc/fstab')] });
    expect(p.entries.find((e) => e.guest === '/etc/fstab')).toMatchObject({ host: join(d, 'a.txt') });
    expect(p.warnings).toContain(
      '/etc/fstab (files[0] (/project/osv.yaml:9:3)) replaces the one osv-up writes: image.mounts is not applied, and the image boots only if this file mounts the root (/dev/vblk0.1 on / as rofs)',
    );
    expect(planOk({ cmd: ['/usr/bin/ls'] }).warnings.some((w) => w.includes('fstab'))).toBe(false);
  });

  it('a program that is a symlink must lead to a file of the image: a loop, a dangling link or a directory is an error at cmd', () => {
    const cases: Array<[ConfigOver['files'], string]> = [
      [[link('/x', '/x')], 'cmd[0]: /x is a symlink to /x that never reaches a file (a loop of links)'],
      [[link('/x', '/y'), link('/y', 'x')], 'cmd[0]: /x is a symlink to /y that never reaches a file (a loop of links)'],
      [[link('/x', '/nowhere/ls')], 'cmd[0]: /x is a symlink to /nowhere/ls, and the image has no /nowhere'],
      [[link('/x', '/etc')], 'cmd[0]: /x is a symlink to /etc, which leads to /etc, a directory in the image, not a program'],
    ];
    for (const [files, message] of cases) {
      const [e] = errorsOf({ cmd: ['/x'], files });
      expect(e?.code).toBe('plan.cmd');
      expect(e?.message).toBe(message);
      expect(e?.hint).toBe('point cmd, or the link, at the program file');
    }
    // A link to the program, relative or through a linked directory, is fine.
    const ok = planOk({ cmd: ['/x'], executables: [exe('/usr/bin/ls', '/usr/bin/ls')], files: [link('/bin', 'usr/bin'), link('/x', 'bin/../bin/ls')] });
    expect(ok.run.cmdline).toContain(' /x');
    // A link to a program that `files` copied: its libraries come along, as without the link.
    const libs = (p: ReturnType<typeof planOk>): string[] => p.entries.filter((e) => e.why.some((w) => w.kind === 'needed')).map((e) => e.guest);
    const direct = planOk({ cmd: ['/opt/ls'], files: [copy('/usr/bin/ls', '/opt/ls')] });
    const linked = planOk({ cmd: ['/x'], files: [copy('/usr/bin/ls', '/opt/ls'), link('/x', '/opt/ls')] });
    expect(libs(direct).length).toBeGreaterThan(0);
    expect(libs(linked)).toEqual(libs(direct));
  });

  it('a program inside a directory the image links elsewhere is where the link leads: in the image, or else from the host', () => {
    // In the image: the executable at /usr/bin/ls, reached through /app -> /usr.
    const inImage = planOk({ cmd: ['/app/bin/ls'], executables: [exe('/usr/bin/ls', '/usr/bin/ls')], files: [link('/app', '/usr')] });
    expect(inImage.run.cmdline).toContain(' /app/bin/ls');
    expect(inImage.entries.find((e) => e.guest === '/usr/bin/ls')?.why.map((w) => (w.kind === 'config' ? w.key : w.kind))).toEqual(['executables[0]', 'cmd[0]']);
    expect(inImage.entries.some((e) => e.guest.startsWith('/app/'))).toBe(false);
    // From the host: /usr/bin/ls placed at the path the link leads to, its libraries resolved; relative links too.
    for (const target of ['/usr', 'usr', './opt/../usr/']) {
      const fromHost = planOk({ cmd: ['/app/bin/ls'], files: [link('/app', target)] });
      expect(fromHost.entries.find((e) => e.guest === '/usr/bin/ls')).toMatchObject({ kind: 'file', host: '/usr/bin/ls' });
      expect(fromHost.run.cmdline).toContain(' /app/bin/ls');
    }
    // Links in a row, and a link at the end.
    const chain = planOk({ cmd: ['/a/ls'], files: [link('/a', '/b'), link('/b', '/usr/bin'), link('/usr/bin/ls', 'true')] });
    expect(chain.entries.find((e) => e.guest === '/usr/bin/true')).toMatchObject({ kind: 'file', host: '/usr/bin/true' });
    const cases: Array<[ConfigOver['files'], string, string]> = [
      [[link('/app', '/app/sub')], 'plan.cmd', 'cmd[0]: /app/bin/ls never reaches a file (a loop of links)'],
      [[link('/app', '/usr'), copy(d, '/usr/bin/ls')], 'plan.cmd', "cmd[0]: /app/bin/ls leads to /usr/bin/ls through the image's links, a directory, not a program"],
      [[link('/app', '/nowhere')], 'plan.not-found', "cmd[0] (/app/bin/ls leads to /nowhere/bin/ls through the image's links): /nowhere/bin/ls does not exist"],
      // `..` after a link goes up from where the link leads (/deep), as the kernel resolves it, not from /sub.
      [[link('/sub', '/deep/a'), link('/app', 'sub/../usr')], 'plan.not-found', "cmd[0] (/app/bin/ls leads to /deep/usr/bin/ls through the image's links): /deep/usr/bin/ls does not exist"],
    ];
    for (const [files, code, message] of cases) {
      const [e] = errorsOf({ cmd: ['/app/bin/ls'], files });
      expect(e?.code, message).toBe(code);
      expect(e?.message).toBe(message);
    }
  });

  it('the root can be neither a file nor a symlink: an error at the entry (it planned, and failed when the image was written)', () => {
    const cases: Array<[ConfigOver, string]> = [
      [{ files: [copy(join(d, 'a.txt'), '/')] }, `files[0]: / is the image's root directory; it cannot be a file (${join(d, 'a.txt')})`],
      [{ files: [link('/', '/x')] }, "files[0]: / is the image's root directory; it cannot be a symlink (to /x)"],
      [{ executables: [exe('/usr/bin/ls', '/')] }, "executables[0]: / is the image's root directory; it cannot be a file (/usr/bin/ls)"],
    ];
    for (const [over, message] of cases) {
      const errors = errorsOf({ cmd: ['/usr/bin/ls'], ...over });
      const e = errors.find((x) => x.code === 'plan.root');
      expect(e?.message, message).toBe(message);
      expect(e?.hint).toBe('give a path below the root, such as /NAME');
      expect(e?.source).toBeDefined();
    }
  });

  it('image.size on a rofs image is a warning (it sizes only a writable ext root)', () => {
    const image = { output: 'disk' as const, format: 'raw' as const, size: 64 * 2 ** 20 };
    const rofs = planOk({ cmd: ['/usr/bin/ls'], image: { ...image, mounts: defaultMounts('rofs') } });
    expect(rofs.warnings).toContain('image.size is ignored: it adds free space to a writable ext root, and a rofs image is always the size of its contents');
    const ext = planOk({ filesystem: 'ext', cmd: ['/usr/bin/ls'], image: { ...image, mounts: defaultMounts('ext') } });
    expect(ext.warnings.some((w) => w.includes('image.size'))).toBe(false);
  });

  it('a program outside the sysroot is an error that says where to put it', () => {
    const sysroot = join(d, 'rootfs');
    mkdirSync(sysroot, { recursive: true });
    const [e] = errorsOf({ sysroot, cmd: ['/usr/bin/ls'], executables: [exe('/usr/bin/ls', '/ls')] });
    expect(e?.code).toBe('plan.outside-sysroot');
    expect(e?.message).toBe(`executables[0]: /usr/bin/ls is outside the sysroot ${sysroot} (the sysroot has no ${sysroot}/usr/bin/ls)`);
    expect(e?.hint).toBe(`with a sysroot, programs and libraries are read from inside it: put the file under ${sysroot} and name it by its path there`);
  });

  it('a sysroot that is a file, a FIFO, a symlink loop or nothing is one error at its key (not ENOTDIR or ELOOP)', () => {
    const t2 = tempDir();
    try {
      writeFiles(t2.path, { file: 'x' });
      execFileSync('mkfifo', [join(t2.path, 'fifo')]);
      symlinkSync('loop', join(t2.path, 'loop'));
      const source = { file: '/project/osv.yaml', line: 3, column: 10 };
      for (const [name, what] of [['file', 'is a regular file'], ['fifo', 'is a FIFO (named pipe)'], ['loop', 'is a symbolic link to nothing (dangling, or a loop of links)'], ['absent', 'does not exist'], ['file/below', 'does not exist']] as const) {
        const sysroot = join(t2.path, name);
        const errors = errorsOf({ sysroot, sources: new Map([['sysroot', source]]), cmd: ['/bin/ls'], files: [copy('/bin/ls', '/x')] });
        expect(errors, name).toHaveLength(1);
        expect(errors[0]).toMatchObject({ code: 'plan.bad-sysroot', message: `sysroot: ${sysroot} ${what}; the sysroot must be a directory`, source });
        expect(errors[0]?.hint).toContain('point sysroot at the root directory of a file tree');
      }
    } finally {
      t2.cleanup();
    }
  });

  it('a missing library names who asked for it and every path tried', () => {
    const [e] = errorsOf({ cmd: ['/usr/bin/ls'], libraries: [lib('libdoesnotexist.so.9')] });
    expect(e?.code).toBe('plan.library-not-found');
    expect(e?.message).toBe('library libdoesnotexist.so.9 not found (libraries[0] (/project/osv.yaml:7:3))');
    expect(e?.details[0]).toBe('tried:');
    expect(e?.details.some((l) => l.includes('/usr/lib/libdoesnotexist.so.9') || l.includes('/lib/libdoesnotexist.so.9'))).toBe(true);
    expect(renderError(e!)).toContain('hint: install it in the sysroot (/)');
  });

  it('an optional library that is missing is a warning', () => {
    const p = planOk({ cmd: ['/usr/bin/ls'], libraries: [lib('libdoesnotexist.so.9', { optional: true }), lib('/nope/libx.so', { optional: true })] });
    expect(p.warnings).toEqual(['libdoesnotexist.so.9 not found (optional, not shipped)', 'libraries[1]: /nope/libx.so matches nothing (optional, skipped)']);
  });

  it('a library path or glob that matches nothing', () => {
    const errs = errorsOf({ cmd: ['/usr/bin/ls'], libraries: [lib('/nope/libx.so'), lib('/nope/lib*.so')] });
    expect(errs.map((e) => e.message)).toEqual(['libraries[0]: /nope/libx.so does not exist', 'libraries[1]: /nope/lib*.so matches no file']);
  });

  it('a kernel-provided library asked for by name is not shipped, with a warning', () => {
    const p = planOk({ cmd: ['/usr/bin/ls'], libraries: [lib('libm.so.6')] });
    expect(p.entries.some((e) => e.guest === '/usr/lib/libm.so.6')).toBe(false);
    expect(p.warnings).toEqual(['libm.so.6 (libraries[0] (/project/osv.yaml:7:3)) is provided by the OSv kernel: not shipped']);
  });

  it('a program not on PATH lists the directories tried', () => {
    const [e] = errorsOf({ cmd: ['no-such-program-xyz'] });
    expect(e?.code).toBe('plan.not-on-path');
    expect(e?.message).toBe('cmd[0]: "no-such-program-xyz" is not on PATH');
    expect(e?.details).toEqual(['tried:', '  /usr/bin/no-such-program-xyz', '  /bin/no-such-program-xyz']);
  });

  it('an absolute cmd[0] that nothing provides', () => {
    const [e] = errorsOf({ cmd: ['/nonexistent/prog'] });
    expect(e?.message).toBe('cmd[0]: /nonexistent/prog does not exist');
    expect(e?.hint).toBe('fix the path, or build the program first');
  });

  it('cmd[0] that is a directory of the image', () => {
    const [e] = errorsOf({ cmd: ['/srv'], files: [dir('/srv')] });
    expect(e?.message).toBe('cmd[0]: /srv is a directory in the image, not a program');
  });

  it('a script as the program says OSv runs ELF programs only', () => {
    const [e] = errorsOf({ cmd: [join(d, 'script.sh')] });
    expect(e?.code).toBe('plan.script');
    expect(e?.message).toBe(`${d}/script.sh is a script (#!), not an ELF program; OSv cannot run scripts (cmd[0] (/project/osv.yaml:2:1))`);
  });

  it('a missing files source, unless optional', () => {
    const [e] = errorsOf({ cmd: ['/usr/bin/ls'], files: [copy('/nope/file', '/f')] });
    expect(e?.message).toBe('files[0]: /nope/file does not exist');
    expect(planOk({ cmd: ['/usr/bin/ls'], files: [copy('/nope/file', '/f', { optional: true })] }).entries.some((x) => x.guest === '/f')).toBe(false);
    const [g] = errorsOf({ cmd: ['/usr/bin/ls'], files: [copy('/nope/*.txt', '/f')] });
    expect(g?.message).toBe('files[0]: /nope/*.txt matches no file');
  });

  it.each([
    ['relative', 'files[0].dest: guest path "relative" is not absolute'],
    ['/a/../b', 'files[0].dest: guest path "/a/../b" contains "..", which could escape the image root'],
    ['/a: b', 'files[0].dest: guest path "/a: b" contains ": ", which OSv\'s manifest syntax uses as its separator'],
    [`/${'n'.repeat(256)}`, `files[0].dest: guest path "/${'n'.repeat(256)}" has a name of 256 bytes ("${'n'.repeat(24)}..."); file systems allow at most 255`],
    ['/a\0b', 'files[0].dest: guest path "/a\0b" contains a NUL byte'],
    ['/a\nb', 'files[0].dest: guest path "/a\nb" contains a line break'],
    ['/trailing ', 'files[0].dest: guest path "/trailing " has a name ending in whitespace, which OSv\'s manifest reader strips'],
  ])('guest path %j is refused', (dest, message) => {
    const [e] = errorsOf({ cmd: ['/usr/bin/ls'], files: [copy(join(d, 'a.txt'), dest)] });
    expect(e?.code).toBe('plan.bad-guest-path');
    expect(e?.message).toBe(message);
  });

  it('a guest path is normalized', () => {
    const p = planOk({ cmd: ['/usr/bin/ls'], files: [copy(join(d, 'a.txt'), '//srv/./x/')] });
    expect(p.entries.some((e) => e.guest === '/srv/x')).toBe(true);
  });

  it('a tree file whose name the manifest syntax cannot hold', () => {
    const t2 = tempDir();
    writeFiles(t2.path, { 'bad: name': 'x' });
    try {
      const [e] = errorsOf({ cmd: ['/usr/bin/ls'], files: [copy(t2.path, '/t')] });
      expect(e?.message).toBe(`files[0]: cannot copy ${t2.path}/bad: name: its name contains ": ", which OSv's manifest syntax uses as its separator`);
    } finally {
      t2.cleanup();
    }
  });

  it('a symlink loop that a ** glob reaches several ways (the directory, and the link itself) is one error', () => {
    const t2 = tempDir();
    try {
      mkdirSync(join(t2.path, 'tree', 'sub'), { recursive: true });
      symlinkSync('loop', join(t2.path, 'tree', 'sub', 'loop'));
      const errors = errorsOf({ cmd: ['/usr/bin/ls'], files: [copy(`${t2.path}/tree/**`, '/t')] });
      expect(errors.map((e) => e.message)).toEqual([`files[0]: symlink loop: ${t2.path}/tree/sub/loop -> loop never reaches a file`]);
    } finally {
      t2.cleanup();
    }
  });

  it('symlink loops in a copied tree', () => {
    const t2 = tempDir();
    try {
      mkdirSync(join(t2.path, 'tree'));
      symlinkSync('b', join(t2.path, 'tree', 'a'));
      symlinkSync('a', join(t2.path, 'tree', 'b'));
      const [e] = errorsOf({ cmd: ['/usr/bin/ls'], files: [copy(join(t2.path, 'tree'), '/t')] });
      expect(e?.code).toBe('plan.symlink-loop');
      expect(e?.message).toBe(`files[0]: symlink loop: ${t2.path}/tree/a -> b never reaches a file`);
      expect(e?.source).toEqual(copy('x', '/x').source); // at the entry that copies the tree
      unlinkSync(join(t2.path, 'tree', 'a'));
      unlinkSync(join(t2.path, 'tree', 'b'));
      // A link out of the tree to a directory that links to itself.
      mkdirSync(join(t2.path, 'other'));
      symlinkSync('../other', join(t2.path, 'other', 'self'));
      symlinkSync('../other', join(t2.path, 'tree', 'out'));
      const [f] = errorsOf({ cmd: ['/usr/bin/ls'], files: [copy(join(t2.path, 'tree'), '/t')] });
      expect(f?.message).toBe(`files[0]: symlink loop while copying ${t2.path}/tree: /t/out/self leads back to ${t2.path}/other, a directory already being copied`);
    } finally {
      t2.cleanup();
    }
  });

  it('a file in a tree whose name is not valid UTF-8 is an error naming its directory (it was left out without a word)', () => {
    const t2 = tempDir();
    try {
      mkdirSync(join(t2.path, 'tree'));
      writeFileSync(Buffer.concat([Buffer.from(join(t2.path, 'tree') + '/'), Buffer.from([0x6c, 0xe9, 0x2e, 0x74, 0x78, 0x74])]), 'latin-1 name');
      writeFileSync(join(t2.path, 'tree', 'ok.txt'), 'ok');
      const [e, ...rest] = errorsOf({ cmd: ['/usr/bin/ls'], files: [copy(join(t2.path, 'tree'), '/t')] });
      expect(rest).toEqual([]);
      expect(e?.code).toBe('plan.bad-host-name');
      expect(e?.message).toBe(`files[0]: cannot copy a file of ${t2.path}/tree: its name is not valid UTF-8 (it reads as "l\uFFFD.txt"), and an image names files in UTF-8`);
      // Matched by a glob, the same.
      const [g] = errorsOf({ cmd: ['/usr/bin/ls'], files: [copy(`${t2.path}/tree/*`, '/t')] });
      expect(g?.code).toBe('plan.bad-host-name');
      expect(g?.message).toBe(`files[0]: cannot copy a file of ${t2.path}/tree: its name is not valid UTF-8 (it reads as "l\uFFFD.txt"), and an image names files in UTF-8`);
    } finally {
      t2.cleanup();
    }
  });

  it('a dangling symlink in a tree is kept, with a warning', () => {
    const t2 = tempDir();
    try {
      symlinkSync('nowhere', join(t2.path, 'dangling'));
      const p = planOk({ cmd: ['/usr/bin/ls'], files: [copy(t2.path, '/t')] });
      expect(p.entries.find((e) => e.guest === '/t/dangling')).toMatchObject({ kind: 'symlink', target: 'nowhere' });
      expect(p.warnings).toEqual([`${t2.path}/dangling -> nowhere points to nothing (${t2.path}/nowhere is missing); kept as a dangling symlink at /t/dangling`]);
    } finally {
      t2.cleanup();
    }
  });

  it('a FIFO as a files source is an error; inside a tree it is skipped with a warning', () => {
    const t2 = tempDir();
    try {
      execFileSync('mkfifo', [join(t2.path, 'pipe')]);
      writeFiles(t2.path, { 'ok.txt': 'ok' });
      const [e] = errorsOf({ cmd: ['/usr/bin/ls'], files: [copy(join(t2.path, 'pipe'), '/pipe')] });
      expect(e?.code).toBe('plan.not-a-file');
      expect(e?.message).toBe(`files[0]: ${t2.path}/pipe is a FIFO (named pipe), neither a regular file nor a directory`);
      const p = planOk({ cmd: ['/usr/bin/ls'], files: [copy(t2.path, '/t')] });
      expect(p.entries.filter((x) => x.guest.startsWith('/t/')).map((x) => x.guest)).toEqual(['/t/ok.txt']);
      expect(p.warnings).toEqual([`skipped ${t2.path}/pipe: a socket, device or FIFO cannot be stored in an image`]);
    } finally {
      t2.cleanup();
    }
  });

  it('a library path that names a directory or a device is an error saying which (it was left out without a word)', () => {
    const t2 = tempDir();
    try {
      mkdirSync(join(t2.path, 'libs'));
      const [d] = errorsOf({ cmd: ['/usr/bin/ls'], libraries: [lib(join(t2.path, 'libs'))] });
      expect(d).toMatchObject({ code: 'plan.not-a-file', message: `libraries[0]: ${t2.path}/libs is a directory, not a library`, hint: `name the library file in it, or a pattern such as ${t2.path}/libs/*.so*` });
      const [n] = errorsOf({ cmd: ['/usr/bin/ls'], libraries: [lib('/dev/null', { optional: true })] });
      expect(n).toMatchObject({ code: 'plan.not-a-file', message: 'libraries[0]: /dev/null is a character device, not a library', hint: 'name a shared library file' });
      // A pattern still passes over the directories it matches.
      writeFiles(t2.path, { 'libs/readme.txt': 'x' });
      expect(planOk({ cmd: ['/usr/bin/ls'], libraries: [lib(`${t2.path}/li*`)] }).entries.some((e) => 'host' in e && e.host?.startsWith(t2.path) === true)).toBe(false);
      const [c] = errorsOf({ cmd: ['/dev/null'] });
      expect(c?.message).toBe('cmd[0]: /dev/null is a character device, not a program');
    } finally {
      t2.cleanup();
    }
  });

  it('a directory that cannot be read', () => {
    const t2 = tempDir();
    try {
      writeFiles(t2.path, { 'locked/x': 'x' });
      // As root nothing is unreadable: a HostFs that refuses one directory stands in for chmod 000.
      const fs: HostFs = { ...nodeHostFs, readdir: (path) => { if (path.endsWith('/locked')) throw new Error('EACCES: permission denied'); return nodeHostFs.readdir(path); } };
      const [e] = errorsOf({ cmd: ['/usr/bin/ls'], files: [copy(t2.path, '/t')] }, { fs });
      expect(e?.code).toBe('plan.unreadable');
      expect(e?.message).toBe(`files[0]: cannot read directory ${t2.path}/locked: EACCES: permission denied`);
    } finally {
      t2.cleanup();
    }
  });

  it('a ** glob (files or libraries) that crosses a directory it cannot read is an error at the entry naming it, not an internal EACCES', () => {
    const t2 = tempDir();
    try {
      writeFiles(t2.path, { 'a/locked/x': 'x', 'b/x': 'x', 'c/noexec/x': 'x' });
      // As root nothing is unreadable: a HostFs that refuses to list one directory (chmod 000) and
      // to look into another (no x bit) stands in.
      const denied = (what: string, path: string): Error => new Error(`EACCES: permission denied, ${what} '${path}'`);
      const fs: HostFs = {
        ...nodeHostFs,
        readdir: (path) => {
          if (path.endsWith('/locked')) throw denied('scandir', path);
          return nodeHostFs.readdir(path);
        },
        lstat: (path) => {
          if (path.includes('/noexec/')) throw denied('lstat', path);
          return nodeHostFs.lstat(path);
        },
      };
      const source = { file: '/project/osv.yaml', line: 9, column: 3 };
      const files = errorsOf({ cmd: ['/usr/bin/ls'], files: [copy(`${t2.path}/**/x`, '/d', { optional: true })] }, { fs });
      expect(files.map((e) => [e.code, e.message, e.source])).toEqual([
        ['plan.unreadable', `files[0]: cannot read directory ${t2.path}/a/locked while matching ${t2.path}/**/x: EACCES: permission denied, scandir '${t2.path}/a/locked'`, source],
        ['plan.unreadable', `files[0]: cannot read directory ${t2.path}/c/noexec while matching ${t2.path}/**/x: EACCES: permission denied, lstat '${t2.path}/c/noexec/x'`, source],
      ]);
      expect(files[0]?.hint).toBe('check its permissions, or narrow the pattern so that it does not cross that directory');
      const libs = errorsOf({ cmd: ['/usr/bin/ls'], libraries: [lib(`${t2.path}/**/*.so`, { optional: true })] }, { fs });
      expect(libs.map((e) => e.message)).toEqual([
        `libraries[0]: cannot read directory ${t2.path}/a/locked while matching ${t2.path}/**/*.so: EACCES: permission denied, scandir '${t2.path}/a/locked'`,
        `libraries[0]: cannot read directory ${t2.path}/c/noexec while matching ${t2.path}/**/*.so: EACCES: permission denied, lstat '${t2.path}/c/noexec/x'`,
      ]);
      // A pattern that does not cross them still works.
      expect(planOk({ cmd: ['/usr/bin/ls'], files: [copy(`${t2.path}/b/*`, '/d')] }, { fs }).entries.some((e) => e.guest === '/d/x')).toBe(true);
    } finally {
      t2.cleanup();
    }
  });

  it('a glob that reaches /proc or /sys skips them with a warning, as a tree copy does; one inside them is the pseudo file system error', () => {
    const p = planOk({ cmd: ['/usr/bin/ls'], files: [copy('/*/cpuinfo', '/d', { optional: true })] });
    expect(p.entries.some((e) => e.guest === '/d' || e.guest.startsWith('/d/'))).toBe(false);
    expect(p.warnings).toContain('files[0]: skipped /proc while matching /*/cpuinfo: /proc is a pseudo file system, made up by the kernel as it is read');
    expect(p.warnings).toContain('files[0]: skipped /sys while matching /*/cpuinfo: /sys is a pseudo file system, made up by the kernel as it is read');
    const [e] = errorsOf({ cmd: ['/usr/bin/ls'], files: [copy('/proc/**', '/d', { optional: true })] });
    expect(e?.code).toBe('plan.pseudo-file');
    expect(e?.message).toMatch(/^files\[0\]: \/proc\/\*\* is in \/proc, a pseudo file system/);
  });

  it('an empty or multi-line symlink target', () => {
    const [e] = errorsOf({ cmd: ['/usr/bin/ls'], files: [link('/l', '')] });
    expect(e?.message).toBe('files[0]: symlink target "" is empty or contains a NUL or line break');
  });

  it('an unknown run name lists the runs', () => {
    const [e] = errorsOf({ cmd: ['/usr/bin/ls'] }, { run: 'nope' });
    expect(e?.code).toBe('plan.unknown-run');
    expect(e?.message).toBe('there is no run named "nope"');
    expect(e?.hint).toBe('the runs are: default');
  });

  it('no cmd at all', () => {
    const [e] = errorsOf({});
    expect(e?.message).toBe('there is no cmd: nothing to run');
  });

  it('a boot command line over OSv\'s limit', () => {
    const [e] = errorsOf({ cmd: ['/usr/bin/ls', 'x'.repeat(1100)] });
    expect(e?.code).toBe('plan.cmdline-too-long');
    expect(e?.message).toBe('the boot command line is 1138 bytes; OSv accepts at most 1023');
  });

  it('a kernel bundle whose libenviron.so vanished', () => {
    const [e] = errorsOf({ cmd: ['/usr/bin/ls'] }, { kernel: { libenviron: '/nope/libenviron.so', sha256: 'x', origin: 'path', hiddenSymbols: false } });
    expect(e?.message).toBe("the kernel bundle's libenviron.so (/nope/libenviron.so) is missing");
  });

  it('several errors are reported together', () => {
    const errs = errorsOf({ cmd: ['/nonexistent/prog'], files: [copy('/nope/file', '/f'), copy(join(d, 'a.txt'), 'rel')] });
    expect(errs.map((e) => e.code)).toEqual(['plan.not-found', 'plan.bad-guest-path', 'plan.not-found']);
  });
});

describe.skipIf(lacks('planner errors from compiled fixtures', [hasGcc, 'gcc is not installed (it compiles the fixtures)']))('planner errors from compiled fixtures', () => {
  let t2: ReturnType<typeof tempDir>;
  let p: Project;
  beforeAll(() => {
    t2 = tempDir();
    p = buildProject(t2.path);
  });
  afterAll(() => t2.cleanup());

  it('a library missing deep in the chain prints the chain', () => {
    unlinkSync(p.libbar);
    try {
      const [e] = errorsOf({ dir: p.dir, cmd: [p.app] });
      expect(e?.message).toBe('library libbar.so.1 not found, needed by app -> libfoo.so.1 (cmd[0] (/project/osv.yaml:2:1))');
      expect(e?.details).toContain(`  ${p.dir}/lib/libbar.so.1`);
    } finally {
      gcc(p.libbar, 'int bar(void) { return 2; }\n', ['-shared', '-fPIC', '-Wl,-soname,libbar.so.1']);
    }
  });

  it.skipIf(lacks('a static executable', [gccStatic(), 'gcc -static cannot link here (no libc.a; Debian: libc6-dev)']))('a static executable cannot run on OSv', () => {
    const stat = gcc(join(p.dir, 'static'), 'int main(void) { return 0; }\n', ['-static']);
    const [e] = errorsOf({ dir: p.dir, cmd: [stat] });
    expect(e?.code).toBe('resolve.static-executable');
    expect(e?.message).toContain('is a statically linked executable');
  });

  it('two different files for one library path', () => {
    const [e] = errorsOf({ dir: p.dir, cmd: [p.app], files: [copy(join(p.dir, 'outside.txt'), '/usr/lib/libfoo.so.1')] });
    expect(e?.message).toBe('/usr/lib/libfoo.so.1 is declared twice with different contents');
    expect(e?.details[1]).toBe(`${p.libfoo}: needed by app (found by runpath) [cmd[0] (/project/osv.yaml:2:1)]`);
  });

  it('writes nothing: a plan leaves the project directory as it was', () => {
    const snapshot = (): string[] =>
      readdirSync(p.dir, { recursive: true, encoding: 'utf8' })
        .sort()
        .map((f) => `${f}:${lstatSync(join(p.dir, f)).mtimeMs}`);
    const before = snapshot();
    const r = plan(makeConfig({ dir: p.dir, cmd: [p.app], files: [copy(p.data, '/srv')] }), { env });
    expect(r.ok).toBe(true);
    expect(snapshot()).toEqual(before);
  });
});
