// `from:` against a registry with Basic auth (docker-registry with an htpasswd file, bcrypt
// entries): credentials from docker's config.json are sent, a missing or wrong password is a
// clear error that never shows the secret.

import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fakeBuildDir } from '../kernel/helpers.js';
import { addProgram, compile, debianSkeleton, GREET_PATH, GREET_SOURCE } from '../helpers/image-rootfs.js';
import { hasRegistryTools, push, registryToolsReason, startRegistry, umociImage, type Registry } from '../helpers/registry.js';
import { hasGcc, onPath } from '../helpers/tools.js';
import { runOsv } from '../helpers/osv.js';

const reason = registryToolsReason ?? (!onPath('htpasswd') ? 'htpasswd is not installed (apache2-utils)' : !hasGcc ? 'gcc is not installed' : undefined);
if (reason) console.warn(`skipped: from: with Basic auth: ${reason}`);

const PASSWORD = 'basic-secret-42';

describe.skipIf(reason !== undefined || !hasRegistryTools)('from: a registry with Basic auth', () => {
  let work: string;
  let reg: Registry;
  let dir: string;
  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'osv-basic-'));
    reg = await startRegistry({ user: 'alice', password: PASSWORD });
    const greet = compile(work, 'greet', GREET_SOURCE);
    push(umociImage(work, 'g', [(r) => (debianSkeleton(r), addProgram(r, greet, GREET_PATH))], { entrypoint: [GREET_PATH] }).ref, reg, 'team/greet:2');
    dir = join(work, 'p');
    mkdirSync(dir);
    writeFileSync(join(dir, 'osv.yaml'), `name: g\nfrom: ${reg.host}/team/greet:2\n`);
    mkdirSync(join(work, 'docker'));
  }, 120_000);
  afterAll(async () => {
    await reg?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  const build = (auth?: string) => {
    writeFileSync(join(work, 'docker', 'config.json'), JSON.stringify(auth ? { auths: { [reg.host]: { auth: Buffer.from(auth).toString('base64') } } } : {}));
    return runOsv(['build', '--no-check'], {
      cwd: dir,
      env: { PATH: process.env['PATH'], HOME: work, DOCKER_CONFIG: join(work, 'docker'), XDG_CACHE_HOME: join(work, 'cache'), OSV_KERNEL: fakeBuildDir(work, 'k'), CI: '1' },
    });
  };

  it('no credentials, then wrong ones: refused with a hint; the right ones: built', () => {
    const none = build();
    expect(none.code).toBe(1);
    expect(none.out).toContain(`${reg.host}/team/greet: access denied: it asks for a user name and password, and none is configured for it`);
    expect(none.out).toContain('docker login');
    const wrong = build('alice:not-it-99');
    expect(wrong.code).toBe(1);
    expect(wrong.out).toContain(`the credentials from ${join(work, 'docker', 'config.json')} were refused`);
    expect(wrong.out).not.toContain('not-it-99');
    const right = build(`alice:${PASSWORD}`);
    expect(right.code, right.out).toBe(0);
    expect(right.out).not.toContain(PASSWORD);
    expect(readFileSync(join(dir, 'osv.lock'), 'utf8')).not.toContain(PASSWORD);
  });
});
