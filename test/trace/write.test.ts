import { describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { OsvError } from '../../src/diagnostics/error.js';
import { addToConfig, type WriteGroup } from '../../src/trace/write.js';

const groups: WriteGroup[] = [
  { key: 'libraries', comment: "osv trace: dlopen'd at run time", values: ['libplug.so', { name: '/opt/p/x.so', dest: '/opt/p/x.so' }] },
  { key: 'files', comment: 'osv trace: timezone data', values: [{ src: '/etc/localtime', dest: '/etc/localtime' }, { dest: '/var/spool', dir: true }] },
];

describe('addToConfig', () => {
  it('splices items into block lists, keeping every original byte, comment and odd spacing', () => {
    const text = [
      '# my service',
      'name: demo   # the name',
      'cmd: [/srv/app, --port, "8080"]',
      '',
      'libraries:',
      '    # plugins we know about',
      '    - libz.so.1   # compression',
      '',
      '# data next',
      'files:',
      "    - { src: './static', dest: /static }",
      'env: {A: "1"}',
      '',
    ].join('\n');
    const r = addToConfig(text, groups, 'osv.yaml');
    expect(r.mode).toBe('splice');
    expect(r.added).toHaveLength(4);
    // Every original line is still there, in order.
    const lines = r.text.split('\n');
    let at = 0;
    for (const l of text.split('\n')) {
      at = lines.indexOf(l, at);
      expect(at, `line kept: ${l}`).toBeGreaterThanOrEqual(0);
    }
    expect(r.text).toContain("    # osv trace: dlopen'd at run time\n    - libplug.so\n");
    expect(r.text).toContain('    - name: /opt/p/x.so\n      dest: /opt/p/x.so\n');
    const js = parseDocument(r.text).toJS();
    expect(js.libraries).toEqual(['libz.so.1', 'libplug.so', { name: '/opt/p/x.so', dest: '/opt/p/x.so' }]);
    expect(js.files).toEqual([
      { src: './static', dest: '/static' },
      { src: '/etc/localtime', dest: '/etc/localtime' },
      { dest: '/var/spool', dir: true },
    ]);
    expect(js.env).toEqual({ A: '1' });
  });

  it('creates absent lists at the end, in the file\'s own list indentation', () => {
    const r = addToConfig('name: demo\nexecutables:\n- busybox\n', groups, 'osv.yaml');
    expect(r.mode).toBe('splice');
    expect(r.text.startsWith('name: demo\nexecutables:\n- busybox\nlibraries:\n# osv trace')).toBe(true);
    expect(parseDocument(r.text).toJS().files).toHaveLength(2);
  });

  it('turns a flow list it adds to into block style, one entry a line, comments kept (issue #14); adds to a key with no value', () => {
    const r = addToConfig('# top\nlibraries: [libz.so.1]   # zlib\nfiles:\n', groups, 'osv.yaml');
    expect(r.mode).toBe('render');
    expect(r.text.split('\n').slice(0, 8)).toEqual([
      '# top',
      'libraries:',
      '  - libz.so.1',
      "  # osv trace: dlopen'd at run time",
      '  - libplug.so',
      '  - name: /opt/p/x.so',
      '    dest: /opt/p/x.so',
      '  # zlib',
    ]);
    expect(parseDocument(r.text).toJS().files).toEqual([
      { src: '/etc/localtime', dest: '/etc/localtime' },
      { dest: '/var/spool', dir: true },
    ]);
  });

  it('skips entries already there and leaves the text untouched when nothing is new', () => {
    const text = 'libraries:\n  - {name: libplug.so}\n  - name: /opt/p/x.so\nfiles:\n  - {src: /usr/share/zoneinfo/UTC, dest: /etc/localtime}\n  - {dest: /var/spool, dir: true}\n';
    const r = addToConfig(text, groups, 'osv.yaml');
    expect(r).toEqual({ text, added: [], mode: 'unchanged' });
  });

  it('writes a fresh file from nothing', () => {
    const r = addToConfig('', groups, 'osv.yaml');
    expect(parseDocument(r.text).toJS()).toEqual({
      libraries: ['libplug.so', { name: '/opt/p/x.so', dest: '/opt/p/x.so' }],
      files: [
        { src: '/etc/localtime', dest: '/etc/localtime' },
        { dest: '/var/spool', dir: true },
      ],
    });
  });

  it('reports broken YAML and non-list keys as errors naming the file and line', () => {
    const bad = (() => {
      try {
        addToConfig('name: demo\nfiles: [unclosed\n', groups, '/p/osv.yaml');
      } catch (e) {
        return e;
      }
    })();
    expect(bad).toBeInstanceOf(OsvError);
    expect((bad as OsvError).code).toBe('trace.write.yaml');
    expect((bad as OsvError).source?.file).toBe('/p/osv.yaml');

    const notList = (() => {
      try {
        addToConfig('name: demo\nlibraries:\n  ssl: yes\n', groups, '/p/osv.yaml');
      } catch (e) {
        return e;
      }
    })();
    expect((notList as OsvError).code).toBe('trace.write.shape');
    expect((notList as OsvError).message).toContain('`libraries` is not a list');
    expect((notList as OsvError).source?.line).toBe(3);
  });
});
