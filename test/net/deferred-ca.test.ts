// The `osv` command (bin/osv) starts Node without NODE_EXTRA_CA_CERTS, which Node parses at
// every start, and osv reads the bundle at its first HTTPS connection (src/net/trust.ts). Here a
// test CA signs the certificate of HTTPS servers on 127.0.0.1 (a registry's token service and
// blob CDN, a kernel release server); osv must trust them through NODE_EXTRA_CA_CERTS exactly as
// Node would, and must not trust them without it.

import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addProgram, compile, debianSkeleton, GREET_PATH, GREET_SOURCE } from '../helpers/image-rootfs.js';
import { OSV, OSV_COMMAND, runOsvAsync, type OsvResult } from '../helpers/osv.js';
import { hasRegistryTools, push, registryToolsReason, startRegistry, umociImage, type Registry } from '../helpers/registry.js';
import { lacks } from '../helpers/skip.js';
import { startTokenProxy, type TokenProxy } from '../helpers/token-proxy.js';
import { hasGcc, onPath } from '../helpers/tools.js';
import { fakeBuildDir } from '../kernel/helpers.js';
import { sandboxes, serveFakeKernel, type Fake } from '../kernel/fake-release.js';

/** `node` of this process first on PATH: bin/osv starts the `node` it finds there. */
const PATH = `${dirname(process.execPath)}${delimiter}${process.env['PATH'] ?? ''}`;
/** A TLS verification failure as Node names it (the chain ends in a CA nobody gave it). */
const UNTRUSTED = /UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_GET_ISSUER_CERT_LOCALLY/;

/** A CA, and a server certificate for IP 127.0.0.1 that it signed. */
function testCa(dir: string): { ca: string; key: Buffer; cert: Buffer } {
  mkdirSync(dir, { recursive: true });
  const at = (f: string): string => join(dir, f);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  const openssl = (args: string[]): void => void execFileSync('openssl', args, { stdio: 'ignore' });
  openssl(['req', '-x509', ...ec, '-keyout', at('ca.key'), '-out', at('ca.pem'), '-days', '2', '-subj', '/CN=osv-up test CA', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign']);
  openssl(['req', ...ec, '-keyout', at('server.key'), '-out', at('server.csr'), '-subj', '/CN=127.0.0.1']);
  writeFileSync(at('ext.cnf'), 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n');
  openssl(['x509', '-req', '-in', at('server.csr'), '-CA', at('ca.pem'), '-CAkey', at('ca.key'), '-CAcreateserial', '-out', at('server.pem'), '-days', '2', '-extfile', at('ext.cnf')]);
  return { ca: at('ca.pem'), key: readFileSync(at('server.key')), cert: readFileSync(at('server.pem')) };
}

describe('bin/osv hands NODE_EXTRA_CA_CERTS to osv instead of to Node\'s start', () => {
  let work: string;
  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'osv-deferred-ca-'));
    // A `node` that shows how it was started.
    mkdirSync(join(work, 'fake-node'));
    writeFileSync(join(work, 'fake-node', 'node'), '#!/bin/sh\nprintf "arg %s\\n" "$@"\nenv | grep -E "^(NODE_EXTRA_CA_CERTS|OSV_DEFERRED_CA_CERTS)=" | sort\n');
    chmodSync(join(work, 'fake-node', 'node'), 0o755);
    // Installed as npm installs it: a symlink elsewhere.
    mkdirSync(join(work, '.bin'));
    symlinkSync(OSV_COMMAND, join(work, '.bin', 'osv'));
    // Relative links in a row, and a readlink without -f (BSD's, older macOS).
    writeFileSync(join(work, 'fake-node', 'readlink'), '#!/bin/sh\nfor a; do [ "$a" = -f ] && exit 1; done\nexec /bin/readlink "$@"\n');
    chmodSync(join(work, 'fake-node', 'readlink'), 0o755);
    mkdirSync(join(work, 'deep', 'lib'), { recursive: true });
    symlinkSync(relative(join(work, 'deep', 'lib'), OSV_COMMAND), join(work, 'deep', 'lib', 'osv'));
    symlinkSync('lib/osv', join(work, 'deep', 'osv'));
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  const started = (env: NodeJS.ProcessEnv, command = join(work, '.bin', 'osv')): string[] =>
    execFileSync(command, ['push', 'x y'], { env: { PATH: `${join(work, 'fake-node')}${delimiter}${PATH}`, ...env }, encoding: 'utf8' }).trim().split('\n');

  it('moves it to OSV_DEFERRED_CA_CERTS and starts node on bin/osv.js beside the real file, with the arguments as given', () => {
    expect(started({ NODE_EXTRA_CA_CERTS: '/some/ca bundle.pem' })).toEqual([`arg ${realpathSync(OSV)}`, 'arg push', 'arg x y', 'OSV_DEFERRED_CA_CERTS=/some/ca bundle.pem']);
  });

  it('finds bin/osv.js through relative links in a row, with a readlink that has no -f', () => {
    const [script, ...rest] = started({}, join(work, 'deep', 'osv'));
    expect(realpathSync(script!.slice('arg '.length))).toBe(realpathSync(OSV));
    expect(rest).toEqual(['arg push', 'arg x y']);
  });

  it('sets nothing when NODE_EXTRA_CA_CERTS is unset or empty', () => {
    expect(started({})).toEqual([`arg ${realpathSync(OSV)}`, 'arg push', 'arg x y']);
    expect(started({ NODE_EXTRA_CA_CERTS: '' })).toEqual([`arg ${realpathSync(OSV)}`, 'arg push', 'arg x y', 'NODE_EXTRA_CA_CERTS=']);
  });
});

const reason = lacks('HTTPS with a deferred CA bundle', [onPath('openssl'), 'openssl is not installed (it makes the test CA)'], [hasGcc, 'gcc is not installed (it compiles the stand-in kernel and the image\'s program)']);

describe.skipIf(reason)('what osv trusts over HTTPS: NODE_EXTRA_CA_CERTS, read when it connects', () => {
  let work: string;
  let tls: ReturnType<typeof testCa>;
  /** Another CA, which signed nothing the servers show. */
  let other: string;
  /** The test CA after a PEM block that is no certificate. */
  let damaged: string;
  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'osv-deferred-ca-'));
    tls = testCa(join(work, 'ca'));
    other = testCa(join(work, 'other')).ca;
    damaged = join(work, 'damaged.pem');
    writeFileSync(damaged, `-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n${readFileSync(tls.ca, 'latin1')}`);
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  /** The ways to run osv, and the CA bundle each is given. */
  const cases = (): Array<{ name: string; installed: boolean; ca?: string; env?: NodeJS.ProcessEnv; trusts: boolean }> => [
    { name: 'bin/osv with the CA in NODE_EXTRA_CA_CERTS', installed: true, ca: tls.ca, trusts: true },
    { name: 'node bin/osv.js with the CA in NODE_EXTRA_CA_CERTS (Node reads it at start)', installed: false, ca: tls.ca, trusts: true },
    { name: 'bin/osv without NODE_EXTRA_CA_CERTS', installed: true, trusts: false },
    { name: 'bin/osv with a NODE_EXTRA_CA_CERTS that does not exist', installed: true, ca: join(work, 'missing.pem'), trusts: false },
    { name: 'bin/osv with the CA after a damaged block (the rest is still trusted)', installed: true, ca: damaged, trusts: true },
    // The bundle adds to Node's store and does not replace it: here the system's (OpenSSL's), which holds the CA.
    { name: 'bin/osv with the CA in the OpenSSL store (--use-openssl-ca) and another in NODE_EXTRA_CA_CERTS', installed: true, ca: other, env: { NODE_OPTIONS: '--use-openssl-ca', SSL_CERT_FILE: tls.ca }, trusts: true },
  ];

  /** What a failed case must say: an untrusted certificate, and for a missing bundle a warning. */
  function expectOutcome(r: OsvResult, c: ReturnType<typeof cases>[number]): void {
    if (c.trusts) {
      expect(r.code, r.out).toBe(0);
      return;
    }
    expect(r.code, r.out).not.toBe(0);
    expect(r.stderr).toMatch(UNTRUSTED);
    expect(r.stderr).toContain("hint: no CA this process trusts signed the server's certificate: if a CA of your own signed it");
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    if (c.ca?.endsWith('missing.pem')) expect(r.stderr).toContain(`warning: NODE_EXTRA_CA_CERTS=${c.ca} does not exist: none of it is trusted`);
  }

  describe.skipIf(registryToolsReason)('a registry whose token service and blob CDN are HTTPS', () => {
    let reg: Registry;
    let proxy: TokenProxy;
    let kernel: string;
    beforeAll(async () => {
      if (!hasRegistryTools) return;
      kernel = fakeBuildDir(work, 'kernel');
      reg = await startRegistry();
      proxy = await startTokenProxy(reg, 'carol', 'ca-pass-3', { tls: { key: tls.key, cert: tls.cert } });
      const greet = compile(work, 'greet', GREET_SOURCE);
      const img = umociImage(work, 'greet', [(root) => (debianSkeleton(root), addProgram(root, greet, GREET_PATH))], { entrypoint: [GREET_PATH] });
      push(img.ref, reg, 'private/greet:1');
      mkdirSync(join(work, 'docker'));
      writeFileSync(join(work, 'docker', 'config.json'), JSON.stringify({ auths: { [proxy.host]: { auth: Buffer.from('carol:ca-pass-3').toString('base64') } } }));
    }, 120_000);
    afterAll(async () => {
      await proxy?.stop();
      await reg?.stop();
    });

    it('from: pulls with a token from https://127.0.0.1 and blobs redirected there, only when the CA is given', async () => {
      for (const [n, c] of cases().entries()) {
        const dir = join(work, `from-${n}`);
        mkdirSync(dir);
        writeFileSync(join(dir, 'osv.yaml'), `name: greet\nfrom: "${proxy.host}/private/greet:1"\n`);
        proxy.requests.length = 0;
        const env = { PATH, HOME: work, XDG_CACHE_HOME: join(dir, 'cache'), DOCKER_CONFIG: join(work, 'docker'), OSV_KERNEL: kernel, CI: '1', ...(c.ca ? { NODE_EXTRA_CA_CERTS: c.ca } : {}), ...c.env };
        const r = await runOsvAsync(['build', '--no-check'], { cwd: dir, env, installed: c.installed });
        expectOutcome(r, c);
        // The token was asked of the HTTPS service; blobs came from the HTTPS CDN when trusted.
        expect(proxy.requests.some((q) => q.startsWith('CDN GET /token?')), c.name).toBe(c.trusts);
        expect(proxy.requests.some((q) => /^CDN GET \/v2\/private\/greet\/blobs\/sha256:/.test(q)), c.name).toBe(c.trusts);
      }
    }, 120_000);
  });

  describe('a kernel release served over HTTPS', () => {
    let fake: Fake;
    beforeAll(async () => {
      fake = (await serveFakeKernel(work, { tls: { key: tls.key, cert: tls.cert } })).fake;
    }, 60_000);
    afterAll(async () => fake?.close());

    it('osv build downloads the default kernel only when the CA is given', async () => {
      const sandbox = sandboxes(join(work, 'kernel-sandboxes'));
      for (const c of cases()) {
        const { env, project } = sandbox(fake.base);
        writeFileSync(join(project, 'osv.yaml'), 'cmd: [/bin/true]\n');
        fake.requests.length = 0;
        const r = await runOsvAsync(['build', '--no-check'], { cwd: project, env: { PATH, ...env, OSV_KERNEL: '', NO_COLOR: '1', CI: '1', ...(c.ca ? { NODE_EXTRA_CA_CERTS: c.ca } : {}), ...c.env }, installed: c.installed });
        expectOutcome(r, c);
        expect(fake.requests.some((q) => q.startsWith('/download/')), c.name).toBe(c.trusts);
      }
    }, 120_000);
  });
});
