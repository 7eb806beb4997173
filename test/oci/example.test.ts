// examples/python-from-image names docker.io/library/python:3.11-slim-bookworm, which cannot be
// pulled here (no public registry). It is planned, and booted with OSV_KERNEL, against a
// stand-in with the official image's layout (python in /usr/local: the interpreter at
// /usr/local/bin/python3.11 with a python3 link, the standard library in /usr/local/lib/python3.11,
// PATH=/usr/local/bin:... in its Env), made from this host's Debian 12 python3.11 and pushed to
// a registry the test starts, the example's `from:` pointed at it.

import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addProgram, debianSkeleton } from '../helpers/image-rootfs.js';
import { push, registryToolsReason, startRegistry, umociImage, type Registry } from '../helpers/registry.js';
import { hasTool } from '../helpers/tools.js';
import { runOsv } from '../helpers/osv.js';

const ROOT = join(import.meta.dirname, '..', '..');
const reason = registryToolsReason ?? (!existsSync('/usr/bin/python3.11') || !existsSync('/usr/lib/python3.11/os.py') ? "this host has no Debian python3.11 to make the stand-in image from" : undefined);
if (reason) console.warn(`skipped: examples/python-from-image: ${reason}`);
const kernel = process.env['OSV_KERNEL'];
const bootReason = !kernel ? 'OSV_KERNEL is not set' : !hasTool('qemu-system-x86_64') ? 'qemu-system-x86_64 is not installed' : undefined;
if (!reason && bootReason) console.warn(`skipped: booting examples/python-from-image: ${bootReason}`);

describe.skipIf(reason !== undefined)('examples/python-from-image against a stand-in for python:3.11-slim-bookworm', () => {
  let work: string;
  let reg: Registry;
  let dir: string;
  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'osv-example-from-'));
    reg = await startRegistry();
    const img = umociImage(
      work,
      'python',
      [
        (r) => debianSkeleton(r),
        (r) => {
          addProgram(r, '/usr/bin/python3.11', '/usr/local/bin/python3.11');
          symlinkSync('python3.11', join(r, 'usr/local/bin/python3'));
          cpSync('/usr/lib/python3.11', join(r, 'usr/local/lib/python3.11'), { recursive: true, verbatimSymlinks: true, filter: (src) => !src.includes('__pycache__') && !/\/python3\.11\/(test|idlelib|tkinter|lib2to3)\b/.test(src) });
        },
      ],
      { cmd: ['python3'], env: ['PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin', 'LANG=C.UTF-8', 'PYTHON_VERSION=3.11'] },
    );
    push(img.ref, reg, 'library/python:3.11-slim-bookworm');
    dir = join(work, 'example');
    cpSync(join(ROOT, 'examples', 'python-from-image'), dir, { recursive: true });
    const yaml = readFileSync(join(dir, 'osv.yaml'), 'utf8');
    expect(yaml).toMatch(/^from: docker\.io\/library\/python:3\.11-slim-bookworm$/m);
    writeFileSync(join(dir, 'osv.yaml'), yaml.replace(/^from: docker\.io\//m, `from: ${reg.host}/`));
    mkdirSync(join(work, 'cache'));
  }, 180_000);
  afterAll(async () => {
    await reg?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  const env = (): NodeJS.ProcessEnv => ({ ...process.env, XDG_CACHE_HOME: join(work, 'cache'), CI: '1' });

  it('plans: python3 found on the image\'s PATH keeps its path, its library and the standard library come from the image', () => {
    const r = runOsv(['plan', '--json'], { cwd: dir, env: env() });
    expect(r.code, r.stderr).toBe(0);
    const p = JSON.parse(r.stdout) as { run: { cmdline: string }; entries: Array<{ guest: string; origin?: { layer: number } }> };
    expect(p.run.cmdline).toMatch(/^--rootfs=rofs --verbose --env=PATH=\/usr\/local\/bin:\S+ --env=LANG=C\.UTF-8 --env=PYTHON_VERSION=3\.11 \/usr\/local\/bin\/python3 -c /);
    const guests = new Map(p.entries.map((e) => [e.guest, e]));
    expect(guests.get('/usr/local/bin/python3')?.origin?.layer).toBe(2);
    expect(guests.get('/usr/local/lib/python3.11/os.py')?.origin?.layer).toBe(2);
    expect([...guests.keys()].some((g) => g.includes('__pycache__'))).toBe(false);
  });

  it.skipIf(bootReason !== undefined)('boots and prints the answer', () => {
    const r = runOsv(['up'], { cwd: dir, env: env(), timeout: 150_000 });
    expect(r.out).toContain('"answer": 42');
    expect(r.out).toContain('"prefix": "/usr/local"');
    expect(r.code, r.out).toBe(0);
  }, 180_000);
});
