// An image config as osv-up reads it: Entrypoint, Cmd and Env must be lists of strings when
// present. A string there (a hand-written or broken config) was dropped without a word, and a
// build then said the image had no Entrypoint or Cmd.

import { describe, expect, it } from 'vitest';
import { parseImageConfig } from '../../src/oci/manifest.js';

const DIFF = `sha256:${'a'.repeat(64)}`;
const config = (cfg: Record<string, unknown>): Uint8Array => Buffer.from(JSON.stringify({ os: 'linux', architecture: 'amd64', config: cfg, rootfs: { type: 'layers', diff_ids: [DIFF] } }));

describe('image config', () => {
  it('reads Entrypoint, Cmd and Env; absent or null is none', () => {
    const r = parseImageConfig(config({ Entrypoint: ['/app'], Cmd: ['--port', '80'], Env: ['A=1'] }), 'img');
    expect(r.ok && r.value).toMatchObject({ entrypoint: ['/app'], cmd: ['--port', '80'], env: ['A=1'] });
    const none = parseImageConfig(config({ Entrypoint: null, Cmd: null }), 'img');
    expect(none.ok && none.value).toMatchObject({ env: [] });
    expect(none.ok && 'cmd' in none.value).toBe(false);
  });

  it('a string, a number or a mixed list where a list of strings belongs is an error naming the key', () => {
    for (const [cfg, what] of [
      [{ Cmd: '/bin/server --port 80' }, 'config.Cmd is the string "/bin/server --port 80", not a list of strings'],
      [{ Entrypoint: ['/app', 1] }, 'config.Entrypoint is a list that holds more than strings, not a list of strings'],
      [{ Env: { A: '1' } }, 'config.Env is an object, not a list of strings'],
    ] as const) {
      const r = parseImageConfig(config(cfg), 'registry.example/app:1 (config)');
      expect(r.ok).toBe(false);
      if (r.ok) continue;
      expect(r.error.code).toBe('oci.bad-manifest');
      expect(r.error.message).toBe(`registry.example/app:1 (config): ${what}`);
    }
  });
});
