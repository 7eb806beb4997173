// Every example in examples/ planned through the real configuration loader, in a temp copy
// (built with its Makefile where it has one), and compared to the plan we expect of it.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { plan } from '../../src/plan/index.js';
import { hasGcc, tempDir } from './helpers.js';

const examplesDir = join(import.meta.dirname, '..', '..', 'examples');
const examples = existsSync(examplesDir) ? readdirSync(examplesDir).filter((d) => existsSync(join(examplesDir, d, 'osv.yaml'))) : [];
const hasMake = spawnSync('make', ['--version'], { stdio: 'ignore' }).status === 0;
if (examples.length === 0) console.warn('skipped: no examples/*/osv.yaml yet');

/** What each known example must plan to: its guest paths (skeleton included, libgcc aside) and boot command. */
const expected: Record<string, { paths: string[]; cmdline: string }> = {
  'hello-c': {
    paths: ['/data', '/dev', '/etc', '/etc/fstab', '/etc/hosts', '/etc/mnttab', '/hello', '/proc', '/sys', '/tmp', '/usr', '/usr/lib'],
    cmdline: '--rootfs=rofs --verbose /hello world !',
  },
};

describe.runIf(examples.length > 0 && hasGcc && hasMake)('examples', () => {
  let t: ReturnType<typeof tempDir>;
  beforeAll(() => {
    t = tempDir('osv-examples-');
    for (const name of examples) {
      const dir = join(t.path, name);
      cpSync(join(examplesDir, name), dir, { recursive: true });
      if (existsSync(join(dir, 'Makefile'))) {
        const r = spawnSync('make', ['-s'], { cwd: dir, encoding: 'utf8' });
        if (r.status !== 0) throw new Error(`make in ${name} failed: ${r.stderr}`);
      }
    }
  });
  afterAll(() => t.cleanup());

  it.each(examples)('%s plans', async (name) => {
    const config = await loadConfig({ cwd: join(t.path, name), env: process.env });
    if (!config.ok) throw config.error;
    const r = plan(config.value, { env: process.env });
    if (!r.ok) throw r.error;
    expect(r.value.run.cmdline.startsWith(`--rootfs=${config.value.filesystem} `)).toBe(true);
    const want = expected[name];
    if (want) {
      // libgcc_s.so.1 is shipped when this machine has it (the skeleton's only host file).
      expect(r.value.entries.map((e) => e.guest).filter((g) => g !== '/usr/lib/libgcc_s.so.1')).toEqual(want.paths);
      expect(r.value.run.cmdline).toBe(want.cmdline);
    } else {
      console.warn(`${name}: no expected plan recorded in test/plan/examples.test.ts; checked that it plans only`);
    }
  });
});
