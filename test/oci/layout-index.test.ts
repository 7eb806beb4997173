// Which image of an OCI layout a reference names, when index.json is not as skopeo or umoci
// write it: no entries at all, or two different images under one tag (the first was taken).

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LayoutSource } from '../../src/oci/layout.js';
import { osvFailure as failure } from '../helpers/failure.js';

const work = mkdtempSync(join(tmpdir(), 'osv-layout-index-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const entry = (hex: string, tag?: string): object => ({
  mediaType: 'application/vnd.oci.image.manifest.v1+json',
  digest: `sha256:${hex.repeat(64)}`,
  size: 100,
  ...(tag ? { annotations: { 'org.opencontainers.image.ref.name': tag } } : {}),
});

function layout(name: string, manifests: object[]): string {
  const dir = join(work, name);
  mkdirSync(join(dir, 'blobs', 'sha256'), { recursive: true });
  writeFileSync(join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  writeFileSync(join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests }));
  return dir;
}

const amd64 = { os: 'linux', architecture: 'amd64' };

describe('an OCI layout index', () => {
  it('with no image: says so, with or without a tag', async () => {
    const dir = layout('empty', []);
    for (const tag of [undefined, 'v1']) {
      const e = await failure(LayoutSource.directory(dir, `oci:${dir}`, tag).resolve(amd64));
      expect(e.message).toBe(`oci:${dir}: the layout holds no image (its index.json lists none)`);
    }
  });

  it('with two different images under one tag: refused, naming both digests', async () => {
    const dir = layout('twice', [entry('a', 'v1'), entry('b', 'v1'), entry('c', 'v2')]);
    const e = await failure(LayoutSource.directory(dir, `oci:${dir}:v1`, 'v1').resolve(amd64));
    expect(e.message).toBe(`oci:${dir}:v1: 2 different images are tagged "v1" (sha256:${'a'.repeat(64)}, sha256:${'b'.repeat(64)})`);
    expect(e.hint).toContain('ambiguous');
  });
});
