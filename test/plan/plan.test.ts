import { chmodSync, copyFileSync, existsSync, lstatSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { plan } from '../../src/plan/index.js';
import { shortProvenance } from '../../src/plan/provenance.js';
import type { Plan, PlanEntry } from '../../src/plan/types.js';
import { buildProject, type Project } from './fixture.js';
import { copy, exe, gcc, hasGcc, lib, makeConfig, tempDir } from './helpers.js';
import { lacks } from '../helpers/skip.js';
import { debianPython } from '../helpers/tools.js';

const env = { PATH: '/usr/local/bin:/usr/bin:/bin' };

/** guest, kind, host file / link target / '' , reasons */
function rows(p: Plan): Array<[string, string, string, string[]]> {
  return p.entries.map((e: PlanEntry) => [
    e.guest,
    e.kind,
    e.kind === 'file' ? (e.content !== undefined ? 'inline' : e.host) : e.kind === 'symlink' ? `-> ${e.target}` : '',
    e.why.map(shortProvenance),
  ]);
}

const SKELETON_ROFS: Array<[string, string, string, string[]]> = [
  ['/data', 'dir', '', ['skeleton']],
  ['/dev', 'dir', '', ['skeleton']],
  ['/etc', 'dir', '', ['parent dir']],
  ['/etc/fstab', 'file', 'inline', ['skeleton']],
  ['/etc/hosts', 'file', 'inline', ['skeleton']],
  ['/etc/mnttab', 'symlink', '-> /proc/mounts', ['skeleton']],
  ['/proc', 'dir', '', ['skeleton']],
];

describe.skipIf(lacks('planning a gcc-compiled project', [hasGcc, 'gcc is not installed (it compiles the fixtures)']))('planning a gcc-compiled project', () => {
  let t: ReturnType<typeof tempDir>;
  let p: Project;
  beforeAll(() => {
    t = tempDir();
    p = buildProject(t.path);
  });
  afterAll(() => t.cleanup());

  it('plans program, closure, dlopen plugin, data tree and skeleton exactly', () => {
    const config = makeConfig({
      dir: p.dir,
      cmd: [p.app, 'x y'],
      libraries: [lib(p.plugin)],
      files: [copy(p.data, '/srv', { exclude: ['**/*.log'] })],
    });
    const r = plan(config, { env });
    if (!r.ok) throw r.error;
    // libgcc_s.so.1 comes from this machine's library directories (absent: a warning).
    const gccEntry = r.value.entries.find((e) => e.guest === '/usr/lib/libgcc_s.so.1');
    const libgccRows: Array<[string, string, string, string[]]> = gccEntry?.kind === 'file' && gccEntry.host ? [[gccEntry.guest, 'file', gccEntry.host, ['skeleton']]] : [];
    const expected: Array<[string, string, string, string[]]> = [
      ['/app', 'file', p.app, ['cmd[0]']],
      ...SKELETON_ROFS,
      ['/srv', 'dir', '', ['files[0]']],
      ['/srv/a.txt', 'file', `${p.data}/a.txt`, ['files[0]']],
      ['/srv/empty', 'dir', '', ['files[0]']],
      ['/srv/link-in', 'symlink', '-> a.txt', ['files[0]']],
      ['/srv/link-out', 'file', p.outside, ['files[0]']],
      ['/srv/sub', 'dir', '', ['files[0]']],
      ['/srv/sub/b.txt', 'file', `${p.data}/sub/b.txt`, ['files[0]']],
      ['/sys', 'dir', '', ['skeleton']],
      ['/tmp', 'dir', '', ['skeleton']],
      ['/usr', 'dir', '', ['parent dir']],
      ['/usr/lib', 'dir', '', ['parent dir']],
      ['/usr/lib/libbar.so.1', 'file', p.libbar, ['needed by plugin.so', 'needed by libfoo.so.1']],
      ['/usr/lib/libfoo.so.1', 'file', p.libfoo, ['needed by app']],
      ...libgccRows,
      ['/usr/lib/plugin.so', 'file', p.plugin, ['libraries[0]']],
    ];
    expect(rows(r.value)).toEqual(expected);
    expect(r.value.run.cmdline).toBe('--rootfs=rofs --verbose /app "x y" !');
    expect(r.value.kernelProvided.map((k) => k.soname)).toEqual(['ld-linux-x86-64.so.2', 'libc.so.6']);
    expect(r.value.totals).toMatchObject({ symlinks: 2, libraries: 3 + libgccRows.length });
    // The chain and the rule are recorded for `osv why`.
    const bar = r.value.entries.find((e) => e.guest === '/usr/lib/libbar.so.1')!;
    expect(bar.why[1]).toMatchObject({ kind: 'needed', chain: ['app', 'libfoo.so.1'], rule: 'runpath', declaredBy: { kind: 'config', key: 'cmd[0]' } });
  });

  it('is deterministic: the same config plans the same entries', () => {
    const config = () => makeConfig({ dir: p.dir, cmd: [p.app], files: [copy(p.data, '/srv')] });
    const a = plan(config(), { env });
    const b = plan(config(), { env });
    if (!a.ok || !b.ok) throw new Error('plan failed');
    expect(JSON.stringify(a.value)).toBe(JSON.stringify(b.value));
  });

  it('puts cmd[0] at the dest of an executables entry when it names that dest', () => {
    const r = plan(makeConfig({ dir: '/elsewhere', executables: [exe(p.app, '/opt/app/bin/app')], cmd: ['/opt/app/bin/app'] }), { env });
    if (!r.ok) throw r.error;
    expect(r.value.entries.filter((e) => e.kind === 'file' && e.host === p.app).map((e) => e.guest)).toEqual(['/opt/app/bin/app']);
    expect(r.value.entries.find((e) => e.guest === '/opt/app/bin/app')?.why.map(shortProvenance)).toEqual(['executables[0]', 'cmd[0]']);
    expect(r.value.run.cmdline).toBe('--rootfs=rofs --verbose /opt/app/bin/app !');
  });

  it('resolves the libraries of a cmd[0] that a files entry copied', () => {
    const r = plan(makeConfig({ dir: '/elsewhere', files: [copy(p.app, '/bin/app')], cmd: ['/bin/app'] }), { env });
    if (!r.ok) throw r.error;
    expect(r.value.entries.map((e) => e.guest)).toContain('/usr/lib/libfoo.so.1');
  });

  it('ships the libraries of ELF objects a files tree copies, with the file that needed them as provenance; resolve: false copies them bare', () => {
    // A tree as a runtime's library directory is: a plugin (needs libbar through its RUNPATH,
    // which is not in the tree), a program, a static program and a text file.
    const tree = join(p.dir, 'tree');
    mkdirSync(join(tree, 'bin'), { recursive: true });
    copyFileSync(p.plugin, join(tree, 'plugin.so'));
    gcc(join(tree, 'bin', 'tool'), 'int foo(void);\nint main(void) { return foo(); }\n', ['-fPIE', '-pie', `-L${join(p.dir, 'lib')}`, '-l:libfoo.so.1', `-Wl,-rpath,${join(p.dir, 'lib')}`]);
    chmodSync(join(tree, 'bin', 'tool'), 0o755);
    gcc(join(tree, 'bin', 'static'), 'int main(void) { return 0; }\n', ['-static']);
    writeFileSync(join(tree, 'notes.txt'), 'text\n');
    const ok = plan(makeConfig({ dir: p.dir, cmd: [p.app], files: [copy(tree, '/opt')] }), { env });
    if (!ok.ok) throw ok.error;
    const g = new Map(ok.value.entries.map((e) => [e.guest, e]));
    // A program in the tree gets its closure (found through its RUNPATH), named as what needed it.
    expect(g.get('/usr/lib/libfoo.so.1')?.why[0]).toMatchObject({ kind: 'needed', chain: ['tool'], rule: 'runpath', declaredBy: { kind: 'config', key: 'files[0]', detail: `in tree ${tree}` } });
    expect(g.get('/usr/lib/libbar.so.1')?.why[0]).toMatchObject({ kind: 'needed', chain: ['tool', 'libfoo.so.1'], declaredBy: { kind: 'config', key: 'files[0]' } });
    // The plugin's RUNPATH ($ORIGIN/lib) has no lib/ beside it in the tree: a warning, not an error.
    expect(ok.value.warnings).toContainEqual(expect.stringMatching(/^library libbar\.so\.1 not found, needed by plugin\.so \(files\[0\], in tree .*\): not shipped; the guest fails if it loads plugin\.so$/));
    // The static program and the text file are copied as they are, without complaint.
    expect(g.get('/opt/bin/static')?.kind).toBe('file');
    expect(ok.value.warnings.filter((w) => /static|notes/.test(w))).toEqual([]);
    const bare = plan(makeConfig({ dir: p.dir, cmd: [p.app], files: [copy(tree, '/opt', { resolve: false })] }), { env });
    if (!bare.ok) throw bare.error;
    const fromTree = (e: PlanEntry): boolean => e.why.some((w) => w.kind === 'needed' && w.declaredBy?.kind === 'config' && w.declaredBy.key === 'files[0]');
    expect(ok.value.entries.filter(fromTree).length).toBeGreaterThan(0);
    expect(bare.value.entries.filter(fromTree)).toEqual([]);
    expect(bare.value.warnings.filter((w) => w.includes('plugin.so'))).toEqual([]);
    expect(bare.value.entries.find((e) => e.guest === '/opt/plugin.so')?.kind).toBe('file');
  });

  it('a library that an object in a files tree needs and nobody has is a warning, not an error', () => {
    const tree = join(p.dir, 'tree-missing');
    mkdirSync(tree, { recursive: true });
    const gone = gcc(join(p.dir, 'libgone.so'), 'int gone(void) { return 1; }\n', ['-shared', '-fPIC', '-Wl,-soname,libgone.so']);
    gcc(join(tree, 'needs-gone.so'), 'int gone(void);\nint f(void) { return gone(); }\n', ['-shared', '-fPIC', gone]);
    const r = plan(makeConfig({ dir: p.dir, cmd: [p.app], files: [copy(tree, '/opt')] }), { env });
    if (!r.ok) throw r.error;
    expect(r.value.warnings.find((w) => w.startsWith('library libgone.so not found, needed by needs-gone.so'))).toMatch(/files\[0\].*not shipped; the guest fails if it loads needs-gone\.so$/);
  });

  it('places a relative cmd[0] against the project directory at /<name>', () => {
    const r = plan(makeConfig({ dir: p.dir, cmd: ['./app'] }), { env });
    if (!r.ok) throw r.error;
    expect(r.value.run.cmdline).toBe('--rootfs=rofs --verbose /app !');
  });

  it('uses a bare cmd[0] that an entry provides at /<name>, as OSv looks in / first', () => {
    const r = plan(makeConfig({ dir: '/elsewhere', executables: [exe(p.app)], cmd: ['app'] }), { env: { PATH: '/nonexistent' } });
    if (!r.ok) throw r.error;
    expect(r.value.run.cmdline).toBe('--rootfs=rofs --verbose /app !');
  });

  it('plans one image for every named run, each with its own command line', () => {
    const config = makeConfig({ dir: p.dir, cmd: [p.app], env: { MODE: 'prod' } });
    config.runs['test'] = { ...config.defaultRun, cmd: ['/usr/bin/ls', '-a', '/'], env: { MODE: 'test' } };
    const r = plan(config, { env, run: 'test' });
    if (!r.ok) throw r.error;
    expect(r.value.runs.map((x) => [x.name, x.cmdline])).toEqual([
      ['default', '--rootfs=rofs --verbose --env=MODE=prod /app !'],
      ['test', '--rootfs=rofs --verbose --env=MODE=test /usr/bin/ls -a / !'],
    ]);
    expect(r.value.run.name).toBe('test');
    expect(r.value.entries.map((e) => e.guest)).toEqual(expect.arrayContaining(['/app', '/usr/bin/ls']));
  });

  it('a library declared under libraries that the program needs too: osv why gives the key and the chain that needed it', () => {
    const r = plan(makeConfig({ dir: p.dir, cmd: [p.app], libraries: [lib(p.libfoo), lib(p.libbar)] }), { env });
    if (!r.ok) throw r.error;
    const why = (g: string): string[] => r.value.entries.find((e) => e.guest === g)!.why.map(shortProvenance);
    expect(why('/usr/lib/libfoo.so.1')).toEqual(['libraries[0]', 'needed by app']);
    // Needed by libfoo as a library of its own (libraries[0]), and as the program's.
    expect(why('/usr/lib/libbar.so.1')).toEqual(['needed by libfoo.so.1', 'libraries[1]', 'needed by libfoo.so.1']);
    const bar = r.value.entries.find((e) => e.guest === '/usr/lib/libbar.so.1')!;
    expect(bar.why.map((w) => (w.kind === 'needed' ? w.chain : w.kind))).toEqual([['libfoo.so.1'], 'config', ['app', 'libfoo.so.1']]);
  });

  it('places libraries: dest with a .so name is the path, otherwise the directory; globs go in dest', () => {
    const r = plan(
      makeConfig({
        dir: '/elsewhere',
        cmd: ['/usr/bin/ls'],
        libraries: [lib(p.plugin, { dest: '/opt/plugins' }), lib(p.libfoo, { dest: '/opt/libfoo-custom.so' }), lib(`${p.dir}/lib/lib*.so.1`, { dest: '/opt/all' })],
      }),
      { env },
    );
    if (!r.ok) throw r.error;
    const hostAt = (g: string) => r.value.entries.find((e) => e.guest === g && e.kind === 'file');
    expect(hostAt('/opt/plugins/plugin.so')).toMatchObject({ host: p.plugin });
    expect(hostAt('/opt/libfoo-custom.so')).toMatchObject({ host: p.libfoo });
    expect(hostAt('/opt/all/libfoo.so.1')).toMatchObject({ host: p.libfoo, why: [{ kind: 'config', key: 'libraries[2]', detail: `matched ${p.libfoo}` }] });
    expect(hostAt('/opt/all/libbar.so.1')).toMatchObject({ host: p.libbar });
    // What they need still goes where OSv's loader looks: /usr/lib/<soname>.
    expect(hostAt('/usr/lib/libbar.so.1')).toMatchObject({ host: p.libbar });
  });

  it('ships /libenviron.so from the kernel bundle and honours its hiddenSymbols', () => {
    const r = plan(makeConfig({ dir: p.dir, cmd: [p.app] }), { env, kernel: { libenviron: p.libbar, sha256: 'x', origin: 'path', hiddenSymbols: true } });
    if (!r.ok) throw r.error;
    const e = r.value.entries.find((x) => x.guest === '/libenviron.so');
    expect(e).toMatchObject({ kind: 'file', host: p.libbar, why: [{ kind: 'kernel' }] });
    expect(r.value.kernel.hiddenSymbols).toBe(true);
  });
});

describe.skipIf(lacks('a library needed under another name', [hasGcc, 'gcc is not installed (it compiles the fixtures)']))('a library needed under another name than its soname', () => {
  let t: ReturnType<typeof tempDir>;
  afterAll(() => t?.cleanup());

  it('is shipped under its soname, with a link for the name the program asks for', () => {
    t = tempDir();
    const d = t.path;
    // prog was linked against a libv.so without DT_SONAME, so it needs "libv.so"; the library
    // has been rebuilt since with the soname libv.so.1.
    gcc(join(d, 'libv.so'), 'int v(void) { return 1; }\n', ['-shared', '-fPIC']);
    gcc(join(d, 'prog'), 'int v(void);\nint main(void) { return v(); }\n', ['-fPIE', '-pie', `-L${d}`, '-lv', '-Wl,-rpath,$ORIGIN']);
    gcc(join(d, 'libv.so'), 'int v(void) { return 2; }\n', ['-shared', '-fPIC', '-Wl,-soname,libv.so.1']);
    const r = plan(makeConfig({ dir: d, cmd: [join(d, 'prog')] }), { env });
    if (!r.ok) throw r.error;
    const g = new Map(r.value.entries.map((e) => [e.guest, e]));
    expect(g.get('/usr/lib/libv.so.1')).toMatchObject({ kind: 'file', host: join(d, 'libv.so') });
    expect(g.get('/usr/lib/libv.so')).toMatchObject({ kind: 'symlink', target: 'libv.so.1', why: [{ kind: 'needed' }] });
    // A file declared at the link's path wins over the link, as over the skeleton.
    gcc(join(d, 'other.so'), 'int w(void) { return 3; }\n', ['-shared', '-fPIC']);
    const declared = plan(makeConfig({ dir: d, cmd: [join(d, 'prog')], files: [copy(join(d, 'other.so'), '/usr/lib/libv.so')] }), { env });
    if (!declared.ok) throw declared.error;
    expect(declared.value.entries.find((e) => e.guest === '/usr/lib/libv.so')).toMatchObject({ kind: 'file', host: join(d, 'other.so') });
  });

  it('a library declared by a name its file does not carry as soname (for dlopen) gets that name too', () => {
    const d = t.path;
    const r = plan(makeConfig({ dir: d, cmd: ['/usr/bin/true'], libraryPath: [d], libraries: [lib('libv.so')] }), { env });
    if (!r.ok) throw r.error;
    const g = new Map(r.value.entries.map((e) => [e.guest, e]));
    expect(g.get('/usr/lib/libv.so.1')).toMatchObject({ kind: 'file', host: join(d, 'libv.so') });
    expect(g.get('/usr/lib/libv.so')).toMatchObject({ kind: 'symlink', target: 'libv.so.1', why: [{ kind: 'config', key: 'libraries[0]' }] });
  });
});

describe.skipIf(lacks('planning binaries of this machine', [existsSync('/usr/bin/ls'), '/usr/bin/ls is not on this machine']))('planning binaries of this machine', () => {
  it('plans ls: the program at /ls, its libraries in /usr/lib, libc left to the kernel', () => {
    const r = plan(makeConfig({ cmd: ['ls', '-a', '/'] }), { env });
    if (!r.ok) throw r.error;
    const files = r.value.entries.filter((e) => e.kind === 'file');
    expect(files.find((e) => e.guest === '/ls')).toMatchObject({ host: '/usr/bin/ls' });
    const libs = files.filter((e) => e.why.some((w) => w.kind === 'needed')).map((e) => e.guest);
    expect(libs).toContain('/usr/lib/libselinux.so.1');
    expect(libs).not.toContain('/usr/lib/libc.so.6');
    expect(r.value.kernelProvided.map((k) => k.soname)).toContain('libc.so.6');
    expect(r.value.run.cmdline).toBe('--rootfs=rofs --verbose /ls -a / !');
  });

  const py = debianPython();
  it.skipIf(lacks('planning python3', [py, 'no Debian python3 with its standard library (/usr/bin/python3 -> python3.X, /usr/lib/python3.X/os.py)']))('plans python3 with its standard library tree', () => {
    const { bin, lib } = py!;
    const r = plan(makeConfig({ cmd: ['/usr/bin/python3', '-c', 'print(6*7)'], files: [copy(lib, lib)] }), { env });
    if (!r.ok) throw r.error;
    expect(r.value.entries.find((e) => e.guest === '/usr/bin/python3')).toMatchObject({ kind: 'file', host: bin });
    expect(r.value.entries.find((e) => e.guest === `${lib}/os.py`)?.kind).toBe('file');
    // A link to a file inside the tree stays a link; one to a file outside is copied.
    const sysconf = r.value.entries.find((e) => e.guest === `${lib}/_sysconfigdata__linux_x86_64-linux-gnu.py`);
    expect(sysconf).toMatchObject({ kind: 'symlink', target: '_sysconfigdata__x86_64-linux-gnu.py' });
    if (lstatSync(`${lib}/sitecustomize.py`, { throwIfNoEntry: false })?.isSymbolicLink()) {
      expect(r.value.entries.find((e) => e.guest === `${lib}/sitecustomize.py`)?.kind).toBe('file');
    }
    expect(r.value.totals.files).toBeGreaterThan(1000);
    expect(r.value.run.cmdline).toBe('--rootfs=rofs --verbose /usr/bin/python3 -c print(6*7) !');
  });
});
