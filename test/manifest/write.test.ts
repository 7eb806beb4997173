import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeHostFs } from '../../src/hostfs.js';
import { readManifest } from '../../src/manifest/read.js';
import { writeManifest } from '../../src/manifest/write.js';
import { plan } from '../../src/plan/index.js';
import type { Plan, PlanEntry } from '../../src/plan/types.js';
import { buildProject, type Project } from '../plan/fixture.js';
import { copy, dir, hasGcc, lib, link, makeConfig, tempDir } from '../plan/helpers.js';
import { lacks } from '../helpers/skip.js';
import { debianPython } from '../helpers/tools.js';

const why: PlanEntry['why'] = [{ kind: 'config', key: 'files[0]' }];
const file = (guest: string, host: string): PlanEntry => ({ guest, kind: 'file', host, size: 1, mtimeMs: 0, ino: 1, why });

describe('writing a plan as an OSv manifest', () => {
  const entries: PlanEntry[] = [
    { guest: '/empty', kind: 'dir', why },
    { guest: '/etc', kind: 'dir', why },
    { guest: '/etc/fstab', kind: 'file', content: Buffer.from('a b\nc d\n'), size: 8, why },
    { guest: '/etc/mnttab', kind: 'symlink', target: '/proc/mounts', why },
    { guest: '/pct', kind: 'file', host: '/host/100%/x', size: 1, mtimeMs: 0, ino: 1, why },
    { guest: '/plink', kind: 'symlink', target: '50%', why },
  ];

  it('writes files, links and empty directories; parents are implied; % is doubled', () => {
    const r = writeManifest({ name: 'demo', entries });
    if (!r.ok) throw r.error;
    expect(r.value.text).toBe(
      [
        '# OSv manifest of "demo", written by osv-up from its plan (6 entries).',
        '# Directories map to a host directory: OSv creates them empty. Parent directories are implied.',
        '[manifest]',
        '/empty: /',
        '/etc/mnttab: ->/proc/mounts',
        '/pct: /host/100%%/x',
        '/plink: ->50%%',
        '# /etc/fstab (generated, 8 bytes; write the manifest with -o FILE to get it as a file):',
        '#   a b',
        '#   c d',
        '',
      ].join('\n'),
    );
    expect(r.value.inline).toEqual([]);
  });

  it('with inlineDir, generated files are referenced there for the caller to write', () => {
    const r = writeManifest({ name: 'demo', entries }, { inlineDir: '/out/demo.files/' });
    if (!r.ok) throw r.error;
    expect(r.value.text).toContain('/etc/fstab: /out/demo.files/etc/fstab\n');
    expect(r.value.inline).toEqual([{ guest: '/etc/fstab', host: '/out/demo.files/etc/fstab', content: Buffer.from('a b\nc d\n') }]);
  });

  it.each([
    [file('/a', '/host/a: b'), '/a: its host path /host/a: b contains ": ", where OSv would cut it'],
    [file('/a', '/host/a\nb'), '/a: its host path /host/a\nb contains a line break'],
    [file('/a', '/host/a '), '/a: its host path /host/a  starts or ends with whitespace, which OSv strips'],
    [file('/x/&/y', '/host/&'), '/x/&/y: its host path /host/& ends in "/&", which OSv would expand with the guest path'],
    [file('/x/**', '/host/**'), '/x/**: its host path /host/** ends in "/**", which OSv would expand as a tree'],
    [{ guest: '/l', kind: 'symlink', target: 'x ', why } as PlanEntry, '/l: its link target "x " starts or ends with whitespace, which OSv strips'],
  ])('refuses what OSv would read differently (%#)', (entry, message) => {
    const r = writeManifest({ name: 'x', entries: [entry] });
    if (r.ok) throw new Error('expected an error');
    expect(r.error.errors.map((e) => e.message)).toEqual([message]);
  });

  it('warns about *-stripped.so host files, which OSv skips', () => {
    const r = writeManifest({ name: 'x', entries: [file('/usr/lib/a.so', '/h/a-stripped.so')] });
    if (!r.ok) throw r.error;
    expect(r.value.warnings).toEqual(["/usr/lib/a.so: OSv's image scripts skip host files named *-stripped.so (/h/a-stripped.so); copy it under another name"]);
  });
});

/** What a plan and a manifest read back must agree on: every path with its kind and content. */
function view(entries: Array<{ guest: string; kind: string; host?: string; target?: string }>): string[] {
  const out = new Set<string>();
  for (const e of entries) {
    for (let i = e.guest.indexOf('/', 1); i > 0; i = e.guest.indexOf('/', i + 1)) out.add(`${e.guest.slice(0, i)} dir`);
    out.add(`${e.guest} ${e.kind}${e.kind === 'file' ? ` ${e.host}` : e.kind === 'symlink' ? ` -> ${e.target}` : ''}`);
  }
  return [...out].sort();
}

function roundTrip(p: Plan, out: string): void {
  const inlineDir = join(out, 'inline');
  const w = writeManifest(p, { inlineDir });
  if (!w.ok) throw w.error;
  for (const f of w.value.inline) {
    mkdirSync(dirname(f.host), { recursive: true });
    writeFileSync(f.host, f.content as Uint8Array);
  }
  const r = readManifest(w.value.text, { fs: nodeHostFs, file: 'usr.manifest', baseDir: out });
  if (!r.ok) throw r.error;
  // Generated files come back as files at inlineDir + guest path with the same bytes.
  const planned = p.entries.map((e) => (e.kind === 'file' && e.content !== undefined ? { ...e, host: inlineDir + e.guest } : e));
  expect(view(r.value.entries)).toEqual(view(planned));
  expect(r.value.warnings).toEqual([]);
}

describe.skipIf(lacks('round trip through the manifest', [hasGcc, 'gcc is not installed (it compiles the fixtures)']))('round trip: plan -> manifest -> reader -> the same entries', () => {
  let t: ReturnType<typeof tempDir>;
  let p: Project;
  beforeAll(() => {
    t = tempDir('osv-roundtrip-');
    p = buildProject(join(t.path, 'project'));
    writeFileSync(join(p.data, '50% off.txt'), 'percent in a name');
  });
  afterAll(() => t.cleanup());

  it('a compiled project with a tree, symlinks, empty dirs and skeleton files', () => {
    const r = plan(
      makeConfig({ dir: p.dir, cmd: [p.app], libraries: [lib(p.plugin)], files: [copy(p.data, '/srv'), link('/bin', 'usr/bin'), dir('/var/empty')] }),
      { env: { PATH: '/usr/bin:/bin' } },
    );
    if (!r.ok) throw r.error;
    roundTrip(r.value, t.path);
  });

  const py = debianPython();
  it.skipIf(lacks('the python3 round trip', [py, 'no Debian python3 with its standard library (/usr/bin/python3 -> python3.X, /usr/lib/python3.X/os.py)']))('python3 with its standard library', () => {
    const r = plan(makeConfig({ cmd: ['/usr/bin/python3'], files: [copy(py!.lib, py!.lib)] }), { env: { PATH: '/usr/bin:/bin' } });
    if (!r.ok) throw r.error;
    roundTrip(r.value, t.path);
  });
});
