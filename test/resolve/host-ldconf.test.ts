// /etc/ld.so.conf of a sysroot without ld.so.cache: the directories searched in the cache's
// place, in ldconfig's syntax (comments, separators, "dir=type", hwcap lines, include globs
// relative to the including file), and what a damaged or looping configuration gives.

import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeHostFs, type HostFs } from '../../src/hostfs.js';
import { resolveClosure } from '../../src/resolve/index.js';
import { ldSoConfDirs } from '../../src/resolve/ldconf.js';
import { Sysroot } from '../../src/resolve/sysroot.js';
import { craftElf } from '../elf/craft.js';
import { lacks } from '../helpers/skip.js';
import { onPath } from '../helpers/tools.js';

const hasMkfifo = onPath('mkfifo');

function denied(p: string): never {
  throw Object.assign(new Error(`EACCES: permission denied, scandir '${p}'`), { code: 'EACCES' });
}

let tmp = '';
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'osv-host-ldconf-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function put(root: string, path: string, text: string | Buffer): void {
  mkdirSync(dirname(join(root, path)), { recursive: true });
  writeFileSync(join(root, path), text);
}

describe('the directories ld.so.conf names', () => {
  it('reads every form ldconfig accepts, in file order, includes in place', () => {
    const root = join(tmp, 'forms');
    put(
      root,
      'etc/ld.so.conf',
      [
        '# a comment line /opt/commented',
        '/opt/a # a comment after a directory',
        '/opt/b#',
        '/opt/c#/opt/hidden',
        '/opt/hwcap /opt/d',
        'hwcap 0 nosegneg',
        'lib relative words',
        '/opt/e=libc6',
        '/opt/f//',
        '/opt/g/',
        '/',
        '//',
        '\t/opt/tab,/opt/comma:/opt/colon  ',
        'include conf.d/*.conf',
        'include  /etc/other/x?.conf   /etc/plain.conf',
        'include /etc/ld.so.conf',
        'include /etc/absent.conf /etc/absent.d/*.conf /etc/plain.conf/*.conf',
        '/opt/noinclude /opt/h',
        '/opt/a',
      ].join('\n'),
    );
    put(root, 'etc/conf.d/a.conf', '/opt/ca\n');
    put(root, 'etc/conf.d/b.conf', '/opt/cb\n');
    put(root, 'etc/conf.d/README', '/opt/readme\n');
    put(root, 'etc/conf.d/oldconf', '/opt/oldconf\n');
    put(root, 'etc/conf.d/b.conf.dpkg-old', '/opt/dpkg-old\n');
    mkdirSync(join(root, 'etc/conf.d/dir.conf'));
    put(root, 'etc/other/x1.conf', '/opt/x1\n');
    put(root, 'etc/other/x12.conf', '/opt/x12\n');
    put(root, 'etc/other/bx2.conf', '/opt/bx2\n');
    put(root, 'etc/other/x.conf', '/opt/x\n');
    put(root, 'etc/plain.conf', '/opt/plain\n');
    expect(ldSoConfDirs(new Sysroot(nodeHostFs, root))).toEqual([
      '/opt/a',
      '/opt/b',
      '/opt/c',
      '/opt/hwcap',
      '/opt/d',
      '/opt/e',
      '/opt/f',
      '/opt/g',
      '/',
      '/opt/tab',
      '/opt/comma',
      '/opt/colon',
      '/opt/ca',
      '/opt/cb',
      '/opt/x1',
      '/opt/plain',
      '/opt/noinclude',
      '/opt/h',
    ]);
  });

  it('escapes the other characters of a glob, and follows a symlinked include directory', () => {
    const root = join(tmp, 'glob');
    put(root, 'etc/ld.so.conf', 'include /etc/g.d/lib+(1).*\ninclude /etc/linked/*.conf\n');
    put(root, 'etc/g.d/lib+(1).conf', '/opt/one\n');
    put(root, 'etc/g.d/lib1.conf', '/opt/not\n');
    put(root, 'real/conf.d/z.conf', '/opt/linked\n');
    mkdirSync(join(root, 'etc'), { recursive: true });
    // An absolute link: inside the sysroot, not on the host.
    symlinkSync('/real/conf.d', join(root, 'etc/linked'));
    expect(ldSoConfDirs(new Sysroot(nodeHostFs, root))).toEqual(['/opt/one', '/opt/linked']);
  });

  it('follows includes 16 deep and no deeper', () => {
    const root = join(tmp, 'deep');
    for (let i = 0; i < 20; i++) put(root, `etc/chain/c${i}.conf`, `/opt/depth${i}\ninclude c${i + 1}.conf\n`);
    const dirs = ldSoConfDirs(new Sysroot(nodeHostFs, root), '/etc/chain/c0.conf');
    expect(dirs).toEqual(Array.from({ length: 17 }, (_, i) => `/opt/depth${i}`));
  });

  it('passes over a file it cannot read and keeps the others', () => {
    const root = join(tmp, 'unreadable');
    put(root, 'etc/ld.so.conf', '/opt/first\ninclude /etc/ld.so.conf.d/*.conf\n/opt/last\n');
    put(root, 'etc/ld.so.conf.d/a.conf', '/opt/a\n');
    put(root, 'etc/ld.so.conf.d/b.conf', '/opt/b\n');
    const broken = join(root, 'etc/ld.so.conf.d/a.conf');
    const fs: HostFs = {
      ...nodeHostFs,
      readFile: (p: string) => {
        if (p === broken) throw Object.assign(new Error(`EIO: i/o error, read '${p}'`), { code: 'EIO' });
        return nodeHostFs.readFile(p);
      },
    };
    expect(ldSoConfDirs(new Sysroot(fs, root))).toEqual(['/opt/first', '/opt/b', '/opt/last']);
  });

  it('reads an include without wildcards even from a directory it cannot list', () => {
    const root = join(tmp, 'unlisted');
    put(root, 'etc/ld.so.conf', 'include /etc/private/plain.conf\ninclude /etc/private/*.conf\n');
    put(root, 'etc/private/plain.conf', '/opt/plain\n');
    put(root, 'etc/private/other.conf', '/opt/other\n');
    // A directory of mode 0711, as a user other than its owner sees it.
    const fs: HostFs = { ...nodeHostFs, readdir: (p: string) => (p === join(root, 'etc/private') ? denied(p) : nodeHostFs.readdir(p)) };
    expect(ldSoConfDirs(new Sysroot(fs, root))).toEqual(['/opt/plain']);
  });

  it.skipIf(lacks('a FIFO among the included files', [hasMkfifo, 'mkfifo is not installed (Debian: coreutils)']))('does not open a FIFO an include matches (it would wait for a writer)', async () => {
    const root = join(tmp, 'fifo');
    put(root, 'etc/ld.so.conf', 'include /etc/ld.so.conf.d/*.conf\n');
    put(root, 'etc/ld.so.conf.d/a.conf', '/opt/a\n');
    const fifo = join(root, 'etc/ld.so.conf.d/b.conf');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    // A writer, so that opening it would not hang the test: what it writes must not be read.
    const writer = spawn('sh', ['-c', `exec printf '/opt/fifo\\n' > '${fifo}'`], { stdio: 'ignore' });
    try {
      expect(ldSoConfDirs(new Sysroot(nodeHostFs, root))).toEqual(['/opt/a']);
    } finally {
      writer.kill();
    }
  });

  it('is searched in the cache’s place, in its order, by the resolver', () => {
    const root = join(tmp, 'resolve');
    put(root, 'etc/ld.so.conf', '/opt/second # searched second\ninclude conf.d/*.conf\n');
    put(root, 'etc/conf.d/x.conf', '/opt/third=libc6\n');
    put(root, 'app/prog', craftElf({ cls: 64, le: true, interp: '/lib64/ld-linux-x86-64.so.2', needed: ['libthird.so.1'] }));
    put(root, 'opt/third/libthird.so.1', craftElf({ cls: 64, le: true, soname: 'libthird.so.1' }));
    const r = resolveClosure([{ path: '/app/prog' }], { arch: 'x86_64', sysroot: root, libraryPath: [], hiddenSymbols: false }, nodeHostFs);
    expect(r.ok && r.value.objects.find((o) => o.soname === 'libthird.so.1')).toMatchObject({ rule: 'ld.so.cache', path: '/opt/third/libthird.so.1', tried: ['/opt/second/libthird.so.1'] });
  });
});
