// The lines docs/templates.md tells users to write are valid configurations.
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';

const doc = fs.readFileSync(join(import.meta.dirname, '..', '..', 'docs', 'templates.md'), 'utf8');
const examples = [...doc.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]!).filter((y) => y.includes('extends: [template:') && /^(cmd|vars):/m.test(y)); // whole examples, not one-line snippets

describe('docs/templates.md examples', () => {
  it('has an example for every template', () => {
    for (const t of ['native', 'python', 'node', 'java']) expect(examples.some((e) => e.includes(`template:${t}]`)), t).toBe(true);
  });

  it.each(examples.map((e) => [e.split('\n').find((l) => l.startsWith('extends'))! + ' ' + (e.match(/cmd|jar|mainClass/)?.[0] ?? ''), e]))('%s loads', async (_name, text) => {
    const dir = fs.mkdtempSync(join(tmpdir(), 'osv-tpl-doc-'));
    try {
      fs.writeFileSync(join(dir, 'osv.yaml'), text);
      const c = await loadConfig({ cwd: dir, env: { ...process.env, JAVA_HOME: '/opt/jre' } });
      expect(c.ok, c.ok ? '' : c.error.errors.map((e) => e.message).join('\n')).toBe(true);
      if (c.ok) expect(c.value.defaultRun.cmd?.length).toBeGreaterThan(0);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
