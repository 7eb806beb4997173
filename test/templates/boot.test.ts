// Each template boots: `osv up --ci` on a project that extends it, under QEMU, with the kernel
// named by OSV_KERNEL. Opt-in (OSV_KERNEL unset: skipped), because each boot takes seconds to
// minutes under emulation.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { lacks } from '../helpers/skip.js';
import { runOsv, type OsvResult } from '../helpers/osv.js';

const ROOT = join(import.meta.dirname, '..', '..');
const kernel = process.env['OSV_KERNEL'];
const hasUp = fs.existsSync(join(ROOT, 'src', 'cli', 'commands', 'up.ts'));
const reason = !kernel ? 'OSV_KERNEL is not set (point it at an OSv kernel to boot the templates)' : !hasUp ? 'the `osv up` command is not there yet' : undefined;
if (reason) console.warn(`skipped: template boot tests: ${reason}`);

const which = (cmd: string): string | undefined => {
  try {
    return fs.realpathSync(execFileSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).trim());
  } catch {
    return undefined;
  }
};

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

function up(files: Record<string, string>, timeoutMs: number, prepare?: (dir: string) => void, env: NodeJS.ProcessEnv = process.env): OsvResult {
  const dir = fs.mkdtempSync(join(tmpdir(), 'osv-tpl-boot-'));
  dirs.push(dir);
  for (const [p, text] of Object.entries(files)) fs.writeFileSync(join(dir, p), text);
  prepare?.(dir);
  return runOsv(['up', '--ci'], { cwd: dir, timeout: timeoutMs, env });
}

describe.skipIf(reason !== undefined)('templates boot with osv up --ci', () => {
  const python = fs.existsSync('/usr/bin/python3') ? /python(\d+\.\d+)$/.exec(fs.realpathSync('/usr/bin/python3'))?.[1] : undefined;
  it.skipIf(lacks('python template boot', [python, '/usr/bin/python3 is not a python3.X binary']))('python', { timeout: 300_000 }, () => {
    const r = up(
      {
        'osv.yaml': [
          'extends: [template:python]',
          `vars: { pythonVersion: "${python}" }`,
          'cmd: [/usr/bin/python3, -c, "import json, ssl, ctypes; print(\'python ok\', json.dumps([6 * 7]))"]',
          'run: { expect: "python ok \\\\[42\\\\]", timeout: 240 }',
          '',
        ].join('\n'),
      },
      290_000,
    );
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain('python ok [42]');
  });

  const node = which('node');
  it.skipIf(lacks('node template boot', [node, 'node is not on PATH']))('node: prints, formats a date, and powers off when the event loop is empty', { timeout: 300_000 }, () => {
    // toString() formats in the local zone (ICU looks it up: TZ); toISOString() would not.
    const program = "setTimeout(() => console.log('node ok', 6 * 7, v8.getHeapStatistics().heap_size_limit > 300e6, new Date(0).toString()), 10)";
    const r = up(
      {
        'osv.yaml': ['extends: [template:node]', `vars: { node: ${node} }`, `cmd: [/usr/bin/node, -e, "${program}"]`, 'run: { expect: "node ok 42 true Thu Jan 01 1970 00:00:00 GMT\\\\+0000 \\\\(Coordinated Universal Time\\\\)", timeout: 240 }', ''].join('\n'),
      },
      290_000,
    );
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain('osv: passed: the program exited with status 0');
  });

  const javac = which('javac');
  const jar = which('jar');
  it.skipIf(lacks('java template boot', [javac, 'javac is not installed (it compiles the test program)'], [jar, 'jar is not installed (it packs the test program)']))(
    'java: a jar whose main returns powers off by itself, with JAVA_HOME unset',
    { timeout: 600_000 },
    () => {
    const dir = fs.mkdtempSync(join(tmpdir(), 'osv-tpl-java-'));
    dirs.push(dir);
    // main returns (no System.exit); a thread it started still runs when it does, as a server's would.
    fs.writeFileSync(
      join(dir, 'Hello.java'),
      'public class Hello { public static void main(String[] a) throws Exception { Thread t = new Thread(() -> System.out.println("java worker done")); t.start(); t.join(); System.out.println("java ok " + (6 * 7)); } }\n',
    );
    execFileSync(javac!, ['-d', join(dir, 'classes'), join(dir, 'Hello.java')]);
    fs.writeFileSync(join(dir, 'manifest.txt'), 'Main-Class: Hello\n');
    execFileSync(jar!, ['cfm', join(dir, 'app.jar'), join(dir, 'manifest.txt'), '-C', join(dir, 'classes'), '.']);
    const env = { ...process.env };
    delete env['JAVA_HOME'];
    const r = up(
      {
        'osv.yaml': ['extends: [template:java]', 'files:', `  - { src: ${join(dir, 'app.jar')}, dest: /app/app.jar }`, 'run: { expect: "java ok 42", timeout: 240 }', ''].join('\n'),
      },
      290_000,
      undefined,
      env,
    );
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain('osv: passed: the program exited with status 0; /java ok 42/ matched');
    },
  );

  it('native', { timeout: 120_000 }, () => {
    // The program lives in the project (guest /hello): a guest path under /tmp would be hidden
    // by the ramfs OSv mounts there.
    const r = up(
      {
        'hello.c': '#include <stdio.h>\nint main(void) { puts("native ok"); return 0; }\n',
        'osv.yaml': ['extends: [template:native]', 'cmd: [./hello]', 'run: { expect: "native ok", timeout: 100 }', ''].join('\n'),
      },
      115_000,
      (dir) => execFileSync('gcc', ['-o', join(dir, 'hello'), join(dir, 'hello.c')]),
    );
    expect(r.code, r.out).toBe(0);
  });
});
