import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeHostFs } from '../../src/hostfs.js';
import { readManifest, type ManifestEntry } from '../../src/manifest/read.js';
import { tempDir, writeFiles } from '../plan/helpers.js';

/** [guest, kind, host or target] */
const brief = (es: ManifestEntry[]): string[][] => es.map((e) => [e.guest, e.kind, e.kind === 'symlink' ? `->${e.target}` : e.host]);

let t: ReturnType<typeof tempDir>;
let d: string;
beforeAll(() => {
  t = tempDir('osv-manifest-');
  d = t.path;
  writeFiles(d, { 'files/a.txt': 'a', 'files/sub/b.txt': 'b', 'static/etc/hosts': 'h', 'root/usr/lib/y.so': 'y', 'mod/lib.so': 'm', 'x-stripped.so': '' });
  symlinkSync('a.txt', join(d, 'files', 'link-to-a'));
  symlinkSync('nowhere', join(d, 'files', 'dangling'));
  symlinkSync('sub', join(d, 'files', 'dirlink'));
  mkdirSync(join(d, 'root', 'lib'));
  symlinkSync('/usr/lib/y.so', join(d, 'root', 'lib', 'x.so')); // absolute target: found by OSv's ancestor search
  symlinkSync('loop2', join(d, 'loop1'));
  symlinkSync('loop1', join(d, 'loop2'));
});
afterAll(() => t.cleanup());

const read = (text: string, extra: Partial<Parameters<typeof readManifest>[1]> = {}) => readManifest(text, { fs: nodeHostFs, file: 'm.manifest', baseDir: d, ...extra });
const ok = (text: string, extra: Partial<Parameters<typeof readManifest>[1]> = {}) => {
  const r = read(text, extra);
  if (!r.ok) throw r.error;
  return r.value;
};
const failures = (text: string, extra: Partial<Parameters<typeof readManifest>[1]> = {}) => {
  const r = read(text, extra);
  if (r.ok) throw new Error('expected errors');
  return r.error.errors.map((e) => e.message);
};

describe('reading OSv manifests', () => {
  it('understands every form OSv scripts do', () => {
    const text = [
      '# a comment',
      '[manifest]',
      '   ',
      '\t# indented comment',
      '/a.txt: files/a.txt',
      '/tree/**: files/**',
      '/&/etc/hosts: static/&',
      '/link: ->/target%%x',
      '/keep: !files/link-to-a',
      '/deref: files/link-to-a',
      '/empty:  files/sub  ',
      '/v: %(base)s/a.txt',
      '/m: ${MODULE_DIR}/lib.so',
      '/abs: root/lib/x.so',
      '/dup: files/a.txt',
      '/third: files/a.txt: ignored by OSv',
      '/dup: files/sub/b.txt',
      '/x.so: x-stripped.so',
    ].join('\n');
    const r = ok(text, { vars: { base: `${d}/files` }, dollarVars: { MODULE_DIR: `${d}/mod`, OSV_BASE: undefined } });
    expect(brief(r.entries)).toEqual([
      ['/a.txt', 'file', `${d}/files/a.txt`],
      ['/tree/a.txt', 'file', `${d}/files/a.txt`],
      ['/tree/dangling', 'symlink', '->nowhere'],
      ['/tree/link-to-a', 'file', `${d}/files/a.txt`],
      ['/tree/sub/b.txt', 'file', `${d}/files/sub/b.txt`],
      ['/etc/hosts', 'file', `${d}/static/etc/hosts`],
      ['/link', 'symlink', '->/target%x'],
      ['/keep', 'symlink', '->a.txt'],
      ['/deref', 'file', `${d}/files/a.txt`],
      ['/empty', 'dir', `${d}/files/sub`],
      ['/v', 'file', `${d}/files/a.txt`],
      ['/m', 'file', `${d}/mod/lib.so`],
      ['/abs', 'file', `${d}/root/usr/lib/y.so`],
      ['/dup', 'file', `${d}/files/sub/b.txt`], // the later line wins, in the first line's place
      ['/third', 'file', `${d}/files/a.txt`],
    ]);
    expect(r.entries.find((e) => e.guest === '/dup')?.line).toBe(17);
    expect(r.warnings).toEqual([
      `m.manifest:6: ${d}/files/dirlink is a symlink to a directory; a "/**" copy drops it, as OSv's scripts do`,
      `m.manifest:18: skipped ${d}/x-stripped.so: OSv's scripts skip host files named *-stripped.so`,
    ]);
  });

  it('leaves ${...} literal outside module manifests, as OSv\'s image scripts do', () => {
    expect(failures('/m: ${MODULE_DIR}/lib.so')).toEqual([`m.manifest:1: host path ${d}/\${MODULE_DIR}/lib.so does not exist`]);
  });

  it('a later file replaces a directory and its subtree', () => {
    expect(brief(ok('/t/**: files/**\n/t: files/a.txt').entries)).toEqual([['/t', 'file', `${d}/files/a.txt`]]);
  });

  it('a FIFO cannot go into an image', () => {
    execFileSync('mkfifo', [join(d, 'pipe')]);
    expect(failures('/p: pipe')).toEqual([`m.manifest:1: host path ${d}/pipe is not a regular file or directory`]);
  });

  it('a symlink loop never "exists" for OSv: it is kept as a link', () => {
    expect(brief(ok('/l: loop1').entries)).toEqual([['/l', 'symlink', '->loop2']]);
  });

  it('an empty manifest has no entries', () => {
    expect(ok('').entries).toEqual([]);
    expect(ok('[manifest]\n# nothing\n').entries).toEqual([]);
  });

  it.each([
    ['/a:/b', 'm.manifest:1: expected "GUEST: HOST" (a colon followed by a space), got "/a:/b"'],
    ['[manifest] x', 'm.manifest:1: expected "GUEST: HOST" (a colon followed by a space), got "[manifest] x"'],
    ['/a: %(nope)s/x', 'm.manifest:1: undefined variable %(nope)s (known: none)'],
    ['/a: 100%/x', 'm.manifest:1: "%/" is not %(name)s; write %% for a literal %'],
    ['/a: files/missing', 'm.manifest:1: host path $D/files/missing does not exist'],
    ['a: files/a.txt', 'm.manifest:1: guest path "a" is not absolute'],
    ['/a/../b: files/a.txt', 'm.manifest:1: guest path "/a/../b" contains "..", which could escape the image root'],
    ['/t/**: files/a.txt/**', 'm.manifest:1: $D/files/a.txt is not a directory'],
  ])('%j is an error', (text, message) => {
    expect(failures(text)).toEqual([message.replace('$D', d)]);
  });

  it('undefined module variables name the variable and how to set OSV_BASE', () => {
    const r = read('/a: ${OSV_BASE}/x\n/b: ${NOPE}/y', { dollarVars: { MODULE_DIR: d, OSV_BASE: undefined } });
    if (r.ok) throw new Error('expected errors');
    expect(r.error.errors.map((e) => [e.message, e.hint, e.source?.line])).toEqual([
      ['undefined variable ${OSV_BASE} in m.manifest:1', 'set vars.OSV_BASE (or the OSV_BASE environment variable) to an OSv source tree', 1],
      ['undefined variable ${NOPE} in m.manifest:2', 'known variables: MODULE_DIR', 2],
    ]);
  });

  it('reports every bad line at once', () => {
    expect(failures('/a:/b\n/ok: files/a.txt\n/c: files/missing')).toHaveLength(2);
  });
});

const fixture = '/work/shared/fixtures/rofs';
describe.runIf(existsSync(join(fixture, 'small.manifest')))('the shared ROFS fixture manifest', () => {
  it('reads small.manifest relative to its folder', () => {
    const r = readManifest(readFileSync(join(fixture, 'small.manifest'), 'utf8'), { fs: nodeHostFs, file: 'small.manifest', baseDir: fixture });
    if (!r.ok) throw r.error;
    expect(brief(r.value.entries)).toEqual([
      ['/etc/hosts', 'file', `${fixture}/tree/etc/hosts`],
      ['/etc/empty', 'file', `${fixture}/tree/etc/empty`],
      ['/etc/mnttab', 'symlink', '->/proc/mounts'],
      ['/usr/lib/exact512.bin', 'file', `${fixture}/tree/usr/lib/exact512.bin`],
      ['/usr/lib/one-over.bin', 'file', `${fixture}/tree/usr/lib/one-over.bin`],
      ['/usr/lib/big.bin', 'file', `${fixture}/tree/usr/lib/big.bin`],
      ['/usr/lib/libfoo.so', 'symlink', '->big.bin'],
      ['/srv/www/index.html', 'file', `${fixture}/tree/srv/www/index.html`],
      ['/srv/www/empty-dir', 'dir', `${fixture}/tree/etc`],
      ['/tmp', 'dir', `${fixture}/tree/etc`],
    ]);
  });
});
if (!existsSync(join(fixture, 'small.manifest'))) console.warn(`skipped: ${fixture}/small.manifest is absent`);
