// The ext writer grows a root its estimate made too small and tries again, but never past the
// largest partition an MBR can describe (ExtOptions.maxBytes): at that size it stops with the
// error that names the limit. An mke2fs that always answers "too small" (a stand-in first on
// PATH, recording the size it was asked for) plays the tree whose estimate is short.

import * as fs from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeExt } from '../../src/image/ext.js';
import type { ImageEntry } from '../../src/image/entries.js';
import { hostFile, tempDir } from './helpers.js';

describe('an ext root that keeps growing', () => {
  const work = tempDir('ext-grow');
  const log = join(work, 'sizes.log');
  const path = process.env['PATH'];
  beforeAll(() => {
    fs.mkdirSync(join(work, 'bin'));
    // The size is mke2fs's last argument (src/image/ext.ts mke2fsArgs), in KiB with a k suffix or in bytes.
    fs.writeFileSync(join(work, 'bin', 'mke2fs'), `#!/bin/sh\nfor a; do last=$a; done\necho "$last" >> '${log}'\necho 'mke2fs: Could not allocate block in ext2 filesystem while populating file system' >&2\nexit 1\n`, { mode: 0o755 });
    process.env['PATH'] = `${join(work, 'bin')}:${path}`;
  });
  afterAll(() => {
    process.env['PATH'] = path;
    fs.rmSync(work, { recursive: true, force: true });
  });

  it('stops at the limit with the error that names it, and never asks for more', async () => {
    const entries: ImageEntry[] = [hostFile(join(work, 'tree'), '/hello', 'hello\n')];
    const limit = 20 * 2 ** 20;
    const r = await writeExt(entries, join(work, 'root.ext'), { maxBytes: limit });
    expect(!r.ok && r.error.code).toBe('image.ext-too-large');
    expect(!r.ok && r.error.message).toMatch(/^the ext root would be more than 20(\.0)? MiB \(its files\), more than an MBR partition can hold \(20971520 bytes, just under 2 TiB\)$/);
    const asked = fs.readFileSync(log, 'utf8').trim().split('\n').map((x) => (x.endsWith('k') ? Number(x.slice(0, -1)) * 1024 : Number(x)));
    expect(asked.length).toBeGreaterThan(1);
    expect(Math.max(...asked)).toBe(limit);
    expect(fs.existsSync(join(work, 'root.ext'))).toBe(false);
  });
});
