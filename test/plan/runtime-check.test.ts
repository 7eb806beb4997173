// A known runtime planned without its template's essentials is warned about before it boots,
// with the one-line fix: in `osv plan`, and on stderr of `osv build` / `osv up`. Real programs
// of this machine (Debian's python3, node, java).

import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { plan } from '../../src/plan/index.js';
import { debianPython, hasGcc } from '../helpers/tools.js';
import { runOsv } from '../helpers/osv.js';

const env = { PATH: '/usr/bin:/bin' };
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

async function warningsOf(yaml: string): Promise<string[]> {
  const dir = fs.mkdtempSync(join(tmpdir(), 'osv-rt-'));
  dirs.push(dir);
  fs.writeFileSync(join(dir, 'osv.yaml'), yaml);
  const c = await loadConfig({ cwd: dir, env });
  if (!c.ok) throw c.error;
  const p = plan(c.value, { env });
  if (!p.ok) throw p.error;
  return p.value.warnings;
}

const py = debianPython();
const node = fs.existsSync('/usr/bin/node');
const java = fs.existsSync('/usr/bin/java') ? fs.realpathSync('/usr/bin/java') : undefined;
if (!py) console.warn('skipped: runtime warnings for python3: no Debian python3 with its standard library');
if (!node) console.warn('skipped: runtime warnings for node: /usr/bin/node is not installed');
if (!java) console.warn('skipped: runtime warnings for java: /usr/bin/java is not installed');

describe('runtime essentials', () => {
  it.runIf(py)('python without its encodings package; none with template:python, and the fix names the version when it is wrong', async () => {
    const bare = await warningsOf("cmd: [/usr/bin/python3, -c, 'print(1)']\n");
    expect(bare.find((w) => w.includes('encodings'))).toBe(
      `/usr/bin/python3 is Python ${py!.version}, and the image has no /usr/lib/python${py!.version}/encodings (its standard library): it stops at start with "No module named 'encodings'". Fix: extends: [template:python], with vars: {pythonVersion: "${py!.version}", pythonPrefix: /usr} (or \`osv init -- ${py!.bin} ...\`)`,
    );
    expect((await warningsOf(`extends: [template:python]\nvars: {pythonVersion: "${py!.version}"}\ncmd: [/usr/bin/python3, -c, 'print(1)']\n`)).filter((w) => w.includes('encodings'))).toEqual([]);
    // The template, told another interpreter than the one it ships (PYTHONHOME points elsewhere).
    const wrong = await warningsOf(`extends: [template:python]\nvars: {pythonVersion: "${py!.version}", pythonPrefix: /usr}\nenv: {PYTHONHOME: /opt/py}\ncmd: [/usr/bin/python3, -c, 'print(1)']\n`);
    expect(wrong.find((w) => w.includes('encodings'))).toContain(`/opt/py/lib/python${py!.version}/encodings`);
    expect(wrong.find((w) => w.includes('encodings'))).toContain(`Fix: set the template's variables to this interpreter: vars: {pythonVersion: "${py!.version}", pythonPrefix: /usr}`);
  });

  it.runIf(node)('node with /proc mounted; none with template:node', async () => {
    expect(await warningsOf("cmd: [/usr/bin/node, -e, '1']\n")).toContain(
      '/usr/bin/node is Node.js, and the image mounts /proc: V8 reads /proc/self/maps at start and OSv asserts in procfs_maps (docs/templates.md). Fix: extends: [template:node] (or image: {mounts: {/proc: false}})',
    );
    expect((await warningsOf("extends: [template:node]\ncmd: [/usr/bin/node, -e, '1']\n")).filter((w) => w.includes('procfs'))).toEqual([]);
  });

  it.runIf(java)('java without lib/modules; none with template:java', async () => {
    expect((await warningsOf('cmd: [/usr/bin/java, -version]\n')).find((w) => w.includes('Java'))).toBe(
      '/usr/bin/java is a Java launcher, and the image has no class library beside it (/usr/lib/modules): the JVM cannot start. Fix: extends: [template:java], with cmd left to it (or vars: {jar: ...})',
    );
    expect((await warningsOf('extends: [template:java]\n')).filter((w) => w.includes('Java'))).toEqual([]);
  });

  it.runIf(node && hasGcc)('osv build says it on stderr before anything boots', () => {
    const dir = fs.mkdtempSync(join(tmpdir(), 'osv-rt-cli-'));
    dirs.push(dir);
    // Any x86_64 ELF passes for a kernel here: nothing boots.
    execFileSync('gcc', ['-no-pie', '-o', join(dir, 'kernel.elf'), '-x', 'c', '-'], { input: 'int main(void) { return 0; }\n' });
    fs.writeFileSync(join(dir, 'osv.yaml'), `kernel: {path: ${join(dir, 'kernel.elf')}}\ncmd: [/usr/bin/node, -e, '1']\n`);
    const r = runOsv(['build', '--no-check'], { cwd: dir, env: { ...process.env, OSV_KERNEL: '', NO_COLOR: '1' } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('warning: /usr/bin/node is Node.js, and the image mounts /proc');
  });
});
