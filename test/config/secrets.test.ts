// Values from ${env:NAME} are secrets (issue #20): the guest gets them on its command line, the
// records that boot it keep them (0600), and nothing osv-up prints shows them.

import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { maskDeep, maskText } from '../../src/secrets.js';
import { hasGcc, hasTool } from '../helpers/tools.js';
import { fakeBuildDir } from '../kernel/helpers.js';
import { runOsv } from '../helpers/osv.js';

const SECRET = "s3cr3t va'lue\\x";

describe('maskText and maskDeep', () => {
  it('mask every spelling of a secret: as is, option-escaped, quoted, shell-quoted', () => {
    const s = ['a b\\c"d\'e'];
    expect(maskText('--env=T=a\\ b\\\\c"d\'e', s)).toBe('--env=T=***');
    expect(maskText('/app "a b\\\\c\\"d\'e"', s)).toBe('/app "***"');
    expect(maskText("-append 'x a b\\c\"d'\\''e y'", s)).toBe("-append 'x *** y'");
    expect(maskText('nothing here', s)).toBe('nothing here');
    expect(maskText('x', [''])).toBe('x');
    expect(maskDeep({ a: ['--env=T=a b\\c"d\'e'], n: 1 }, s)).toEqual({ a: ['--env=T=***'], n: 1 });
  });
});

if (!hasGcc) console.warn('skipped: the secrets CLI test needs gcc (a program and a stand-in kernel)');

// `--dry-run` only prints the QEMU command line: without QEMU installed, a stand-in file on PATH
// (never run) lets it do so.
const hasQemu = hasTool('qemu-system-x86_64');
if (hasGcc && !hasQemu) console.warn('note: the secrets CLI test: qemu-system-x86_64 is not installed; --dry-run finds a stand-in file instead (it never runs it)');

describe.runIf(hasGcc)('secrets through the CLI', () => {
  let dir: string;
  const path = (): string => (hasQemu ? process.env['PATH']! : `${join(dir, 'stand-in')}:${process.env['PATH']}`);
  const env = (): NodeJS.ProcessEnv => ({ ...process.env, PATH: path(), MY_TOKEN: SECRET, NO_COLOR: '1', OSV_KERNEL: '', XDG_CACHE_HOME: join(dir, 'cache') });
  const osv = (...args: string[]) => runOsv(args, { cwd: dir, env: env(), timeout: 60_000 });
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'osv-secrets-'));
    writeFileSync(join(dir, 'app.c'), 'int main(void) { return 0; }\n');
    execFileSync('gcc', ['-fPIE', '-pie', '-o', 'app', 'app.c'], { cwd: dir });
    const kernel = fakeBuildDir(dir, 'kernel', { env: false });
    mkdirSync(join(dir, 'cache'));
    mkdirSync(join(dir, 'stand-in'));
    writeFileSync(join(dir, 'stand-in', 'qemu-system-x86_64'), '#!/bin/sh\nexit 1\n', { mode: 0o755 });
    writeFileSync(
      join(dir, 'osv.yaml'),
      [`kernel: {path: ${kernel}}`, 'cmd: [./app, "--token=${env:MY_TOKEN}"]', 'env:', '  TOKEN: ${env:MY_TOKEN}', '  PLAIN: visible', 'run: {accel: tcg}', ''].join('\n'),
    );
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('no command prints the value; the records keep it, readable by the owner only', () => {
    const printed: Array<[string, { code: number | null; out: string }]> = [
      ['plan', osv('plan')],
      ['plan --json', osv('plan', '--json')],
      ['manifest', osv('manifest')],
      ['manifest --json', osv('manifest', '--json')],
      ['config', osv('config')],
      ['config --json', osv('config', '--json')],
      ['validate --print --json', osv('validate', '--print', '--json')],
      ['build', osv('build', '--no-check')],
      ['build again (no-op records)', osv('build', '--no-check')],
      ['build --json', osv('build', '--no-check', '--json')],
      ['up --dry-run', osv('up', '--no-check', '--dry-run')],
      ['up --dry-run --json', osv('up', '--no-check', '--dry-run', '--json')],
      ['run --dry-run', osv('run', '--dry-run')],
      ['run --dry-run --json', osv('run', '--dry-run', '--json')],
      ['build a bootable image', osv('build', '--no-check', '--output', 'bootable', '-o', 'boot.img')],
      ['inspect it', osv('inspect', 'boot.img')],
      ['inspect --json', osv('inspect', 'boot.img', '--json')],
    ];
    for (const [what, r] of printed) {
      expect(r.code, `${what}: ${r.out}`).toBe(0);
      for (const spelling of [SECRET, 's3cr3t']) expect(r.out, what).not.toContain(spelling);
    }
    expect(printed[0]![1].out).toContain('--env=TOKEN=*** --env=PLAIN=visible /app "--token=***"');
    expect(printed[7]![1].out).toContain('command line: --rootfs=rofs --verbose --env=TOKEN=*** --env=PLAIN=visible /app "--token=***" !');
    expect(printed[10]![1].out).toContain('--env=TOKEN=***');
    expect(printed[15]![1].out).toContain('cmdline:    --rootfs=rofs --verbose --env=TOKEN=***');
    // The bootable image itself carries the value: the guest needs it (docs/security.md).
    expect(readFileSync(join(dir, 'boot.img')).includes('s3cr3t')).toBe(true);
    const osvDir = join(dir, '.osv');
    const records = [...readdirSync(osvDir).filter((n) => n.endsWith('.json')).map((n) => join(osvDir, n)), join(dir, 'boot.img.build.json')];
    expect(records.filter((n) => n.endsWith('.build.json'))).toHaveLength(2);
    expect(records.some((n) => n.includes('/noop-'))).toBe(true);
    for (const n of records) expect(statSync(n).mode & 0o777, n).toBe(0o600);
    // The guest still gets the value: the record that boots it holds the real command line.
    const record = readFileSync(records.find((n) => n.endsWith('.build.json'))!, 'utf8');
    expect(record).toContain('s3cr3t');
  });
});
