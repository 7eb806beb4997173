// `osv trace --write` on a real Python program: the files it imported from a package are written
// as one tree entry for the package (not one entry per file), in block style even when the list
// was a flow list, with a one-line summary; the application's own script, already copied to
// /app, is not added again; a node module is one tree too.

import * as fs from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { nodeHostFs } from '../../src/hostfs.js';
import { treeDirOf } from '../../src/trace/group.js';
import { tempTrees } from '../plan/helpers.js';
import { debianPython } from '../helpers/tools.js';
import { hasStrace } from './fixture.js';
import { runOsv } from '../helpers/osv.js';

const py = debianPython();
const node = fs.existsSync('/usr/bin/node');
if (!hasStrace) console.warn('skipped: trace --write grouping: strace is not installed (apt-get install strace)');
if (!py) console.warn('skipped: trace --write grouping of Python packages: no Debian python3 with its standard library');
if (!node) console.warn('skipped: trace --write grouping of node modules: /usr/bin/node is not installed');

const temp = tempTrees('osv-trace-group-');
afterAll(temp.cleanup);
const tree = temp.make;

const osv = (args: string[], cwd: string, env: NodeJS.ProcessEnv = {}) => runOsv(args, { cwd, timeout: 120_000, env: { ...process.env, NO_COLOR: '1', OSV_KERNEL: '', ...env } });

describe('the directory a used file belongs to', () => {
  it('a Python package (outermost __init__.py), its metadata, a node module, a locale directory; else none', () => {
    const d = tree({ 'site/pkg/__init__.py': '', 'site/pkg/sub/__init__.py': '', 'site/pkg/sub/m.py': '', 'site/loose.py': '' });
    expect(treeDirOf(nodeHostFs, join(d, 'site/pkg/sub/m.py'))).toEqual({ dir: join(d, 'site/pkg'), kind: 'python package' });
    expect(treeDirOf(nodeHostFs, join(d, 'site/pkg/sub'), true)).toEqual({ dir: join(d, 'site/pkg'), kind: 'python package' });
    expect(treeDirOf(nodeHostFs, join(d, 'site/loose.py'))).toBeUndefined();
    expect(treeDirOf(nodeHostFs, '/x/site-packages/Flask-2.2.2.dist-info/METADATA')).toEqual({ dir: '/x/site-packages/Flask-2.2.2.dist-info', kind: 'python package metadata' });
    expect(treeDirOf(nodeHostFs, '/srv/app/node_modules/@scope/name/lib/a.js')).toEqual({ dir: '/srv/app/node_modules/@scope/name', kind: 'node module' });
    expect(treeDirOf(nodeHostFs, '/usr/lib/locale/C.utf8/LC_CTYPE')).toEqual({ dir: '/usr/lib/locale/C.utf8', kind: 'locale directory' });
    expect(treeDirOf(nodeHostFs, '/usr/lib/locale/locale-archive')).toBeUndefined();
  });
});

describe.runIf(hasStrace && py)('osv trace --write on a Python program', () => {
  it('writes one tree per package, in block style, with a summary; not the script it already copies', () => {
    const d = tree({
      'site/greet/__init__.py': 'from .words import HELLO\n',
      'site/greet/words.py': 'HELLO = "hello"\n',
      'site/greet/extra/__init__.py': 'X = 1\n',
      'site/shout.py': 'def shout(s):\n    return s.upper()\n',
      'app/app.py': 'import greet, greet.extra, shout\nprint(shout.shout(greet.HELLO))\n',
      'app/osv.yaml': `extends: [template:python]\nvars: {pythonVersion: "${py!.version}"}\n# the script\nfiles: [{src: ./app.py, dest: /app/app.py}]\ncmd: [/usr/bin/python3, /app/app.py]\n`,
    });
    const app = join(d, 'app');
    const site = join(d, 'site');
    const r = osv(['trace', '--write', '--', '/usr/bin/python3', 'app.py'], app, { PYTHONPATH: site });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('HELLO');
    const text = fs.readFileSync(join(app, 'osv.yaml'), 'utf8');
    const files = (parseDocument(text).toJS() as { files: Array<{ src: string; dest: string }> }).files;
    expect(files).toContainEqual({ src: join(site, 'greet'), dest: join(site, 'greet') });
    expect(files).toContainEqual({ src: join(site, 'shout.py'), dest: join(site, 'shout.py') });
    // Nothing inside the package one by one, and not the script (copied to /app already).
    expect(files.filter((f) => f.src.startsWith(join(site, 'greet') + '/'))).toEqual([]);
    expect(files.filter((f) => f.src.endsWith('/app/app.py'))).toEqual([]);
    expect(text).not.toMatch(/^files: \[/m);
    expect(text).toContain('# the script\nfiles:\n');
    expect(text).toContain(`  # osv trace: Python packages it used, one tree each\n  - src: ${join(site, 'greet')}\n    dest: ${join(site, 'greet')}\n`);
    // What else this machine's python reads (.pth files, locale data) varies: the summary names the packages.
    expect(r.stdout).toMatch(/Added \d+ entries to \S*osv\.yaml \(comments and formatting kept\): \d+ Python packages? \(greet[,)]/);
    expect(r.stdout).toMatch(/, \d+ files?\.\n/);
  });
});

describe.runIf(hasStrace && node)('osv trace --write on a node program', () => {
  it('writes a node module it required as one tree', () => {
    const d = tree({
      'node_modules/left/package.json': '{"name":"left","main":"lib/index.js"}\n',
      'node_modules/left/lib/index.js': "module.exports = require('./pad');\n",
      'node_modules/left/lib/pad.js': "module.exports = (s) => ' ' + s;\n",
      'app/main.js': "console.log(require('left')('x'));\n",
      'app/osv.yaml': 'extends: [template:node]\nfiles:\n  - src: ./main.js\n    dest: /app/main.js\ncmd: [/usr/bin/node, /app/main.js]\n',
    });
    const r = osv(['trace', '--write', '--', '/usr/bin/node', 'main.js'], join(d, 'app'), { NODE_PATH: join(d, 'node_modules') });
    expect(r.code, r.stderr).toBe(0);
    const files = (parseDocument(fs.readFileSync(join(d, 'app', 'osv.yaml'), 'utf8')).toJS() as { files: Array<{ src: string }> }).files;
    expect(files.filter((f) => f.src.includes('node_modules'))).toEqual([{ src: join(d, 'node_modules', 'left'), dest: join(d, 'node_modules', 'left') }]);
    expect(r.stdout).toContain('1 node module (left)');
  });
});
