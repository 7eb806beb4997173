import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { classifyFile, classifyLibrary } from '../../src/trace/classify.js';
import { analyze, EMPTY_PLAN } from '../../src/trace/report.js';
import type { OpenedFile } from '../../src/trace/strace.js';

describe('classify', () => {
  it('names why run-time files matter', () => {
    expect(classifyLibrary('/lib/x86_64-linux-gnu/libnss_dns.so.2', 'dlopen')).toBe('nss-module');
    expect(classifyLibrary('/usr/lib/x86_64-linux-gnu/gconv/UTF-16.so', 'dlopen')).toBe('gconv-module');
    expect(classifyLibrary('/usr/lib/python3.11/lib-dynload/_ssl.cpython-311-x86_64-linux-gnu.so', 'dlopen')).toBe('python-extension');
    expect(classifyLibrary('/usr/lib/jvm/java-17-openjdk-amd64/lib/server/libjvm.so', 'dlopen')).toBe('jvm');
    expect(classifyLibrary('/opt/app/plugin.so', 'dlopen')).toBe('dlopen');
    expect(classifyLibrary('/lib/x86_64-linux-gnu/libz.so.1', 'needed')).toBe('needed');
    expect(classifyFile('/etc/localtime', false)).toBe('timezone');
    expect(classifyFile('/usr/share/zoneinfo/Europe/Paris', false)).toBe('timezone');
    expect(classifyFile('/usr/lib/locale/C.utf8/LC_CTYPE', false)).toBe('locale');
    expect(classifyFile('/etc/ssl/certs/ca-certificates.crt', false)).toBe('ca-certificates');
    expect(classifyFile('/etc/resolv.conf', false)).toBe('nss-config');
    expect(classifyFile('/usr/lib/x86_64-linux-gnu/gconv/gconv-modules.cache', false)).toBe('gconv-config');
    expect(classifyFile('/usr/lib/python3.11/json/__init__.py', false)).toBe('python');
    expect(classifyFile('/usr/share/icu/72.1/icudt72l.dat', false)).toBe('icu');
    expect(classifyFile('/etc/app/app.ini', false)).toBe('config');
    expect(classifyFile('/srv/data.bin', false)).toBe('data');
    expect(classifyFile('/srv/plugins', true)).toBe('directory');
  });
});

describe('analyze', () => {
  let dir: string;
  const open = (path: string, extra: Partial<OpenedFile> = {}): OpenedFile => ({ pid: 1, path, directory: false, writes: false, reads: true, ...extra });
  beforeAll(() => {
    dir = fs.mkdtempSync(join(tmpdir(), 'osv-trace-an-'));
    fs.mkdirSync(join(dir, 'pkg', '__pycache__'), { recursive: true });
    fs.mkdirSync(join(dir, 'empty'));
    fs.mkdirSync(join(dir, 'listed'));
    for (const f of ['pkg/mod.py', 'pkg/__pycache__/mod.cpython-311.pyc', 'planned.txt', 'listed/inside.txt', 'prog']) fs.writeFileSync(join(dir, f), 'x');
    fs.symlinkSync(join(dir, 'planned.txt'), join(dir, 'alias.txt'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('subtracts the plan, the program, pseudo-files and kernel libraries, and maps .pyc to its source', () => {
    const result = analyze({
      program: join(dir, 'prog'),
      loader: {
        libraries: [
          { request: 'libc.so.6', path: '/lib/x86_64-linux-gnu/libc.so.6', how: 'needed', by: join(dir, 'prog'), pid: 1 },
          { request: 'libz.so.1', path: '/lib/x86_64-linux-gnu/libz.so.1', how: 'dlopen', by: join(dir, 'prog'), pid: 1 },
        ],
        programs: [],
      },
      syscalls: {
        opened: [
          open(join(dir, 'prog')),
          open('/proc/self/maps'),
          open('/etc/ld.so.cache'),
          open('/lib/x86_64-linux-gnu/libz.so.1'),
          open(join(dir, 'pkg/__pycache__/mod.cpython-311.pyc')),
          open(join(dir, 'planned.txt')),
          open(join(dir, 'alias.txt')),
          open(join(dir, 'empty'), { directory: true }),
          open(join(dir, 'listed'), { directory: true }),
          open(join(dir, 'listed/inside.txt')),
          open(join(dir, 'gone.tmp')),
          open(join(dir, 'out.log'), { writes: true, reads: false }),
        ],
        executed: [{ pid: 1, path: join(dir, 'prog') }, { pid: 2, path: '/bin/sh' }],
      },
      plan: { guests: new Set([join(dir, 'planned.txt'), '/usr/lib/libz.so.1']), hosts: new Set() },
      kernelSonames: new Set(['libc.so.6']),
      workDir: join(dir, 'work'),
    });
    expect(result.findings.map((f) => [f.kind, f.path])).toEqual([
      ['file', join(dir, 'alias.txt')],
      ['directory', join(dir, 'empty')],
      ['file', join(dir, 'listed/inside.txt')],
      ['file', join(dir, 'pkg/mod.py')],
    ]);
    expect(result.findings.find((f) => f.kind === 'directory')?.add).toEqual({ key: 'files', value: { dest: join(dir, 'empty'), dir: true } });
    const why = Object.fromEntries(result.ignored.map((i) => [i.path, i.why]));
    expect(why['/lib/x86_64-linux-gnu/libc.so.6']).toBe('provided by the OSv kernel');
    expect(why['/lib/x86_64-linux-gnu/libz.so.1']).toBe('already in the plan');
    expect(why[join(dir, 'planned.txt')]).toBe('already in the plan');
    expect(why[join(dir, 'prog')]).toBe('the program itself');
    expect(why['/proc/self/maps']).toMatch(/pseudo-file/);
    expect(why[join(dir, 'gone.tmp')]).toMatch(/temporary/);
    expect(why[join(dir, 'listed')]).toBe('implied by files inside it');
    expect(result.programs).toEqual(['/bin/sh']);
    expect(result.written).toEqual([join(dir, 'out.log')]);
  });

  it('reports everything against an empty plan', () => {
    const r = analyze({
      program: '/bin/true',
      loader: { libraries: [{ request: 'libz.so.1', path: '/lib/x86_64-linux-gnu/libz.so.1', how: 'dlopen', by: '/bin/true', pid: 1 }], programs: [] },
      plan: EMPTY_PLAN,
      kernelSonames: new Set(),
      workDir: '/nonexistent',
    });
    expect(r.findings).toHaveLength(1);
    expect(r.findings[0]).toMatchObject({ category: 'dlopen', add: { key: 'libraries', value: 'libz.so.1' } });
  });
});
