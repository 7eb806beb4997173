// The certificates HTTPS connections trust when the `osv` command (bin/osv) started Node without
// NODE_EXTRA_CA_CERTS and handed its value over in OSV_DEFERRED_CA_CERTS: Node's own roots plus
// that file, what Node would have trusted with NODE_EXTRA_CA_CERTS set. Read at the first HTTPS
// connection, not at every start. Requests that must trust it go over node:https with the agent
// made here (fetch in Node 20 takes no CA list), see src/oci/registry.ts and src/kernel/releases.ts.

import { closeSync, readFileSync } from 'node:fs';
import type { Agent } from 'node:https';
import type { SecureContext } from 'node:tls';
import { fileProblem, openRegularFile } from '../hostfs.js';

export const DEFERRED_CA = 'OSV_DEFERRED_CA_CERTS';

/** The bundle bin/osv deferred, if it did. */
export function deferredCaFile(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return env[DEFERRED_CA] || undefined;
}

let agent: Promise<Agent> | undefined;

/**
 * The agent for HTTPS requests: one trusting Node's roots and the deferred bundle, or undefined
 * (Node's global agent) when nothing was deferred. A bundle that cannot be read or holds no
 * certificate is ignored with a warning, as Node ignores such a NODE_EXTRA_CA_CERTS.
 */
export function httpsAgent(env: NodeJS.ProcessEnv = process.env): Promise<Agent> | undefined {
  const file = deferredCaFile(env);
  if (file === undefined) return undefined;
  return (agent ??= (async () => {
    const [https, tls] = await Promise.all([import('node:https'), import('node:tls')]);
    const warn = (why: string): void => void process.stderr.write(`warning: NODE_EXTRA_CA_CERTS=${file} ${why}: no certificate of it is trusted\n`);
    let extra: string[] = [];
    try {
      // Not a FIFO's reader forever: a regular file or nothing (src/hostfs.ts).
      const fd = openRegularFile(file);
      try {
        extra = readFileSync(fd, 'latin1').match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g) ?? [];
      } finally {
        closeSync(fd);
      }
      if (extra.length === 0) warn('holds no PEM certificate');
    } catch (e) {
      warn(fileProblem(e));
    }
    // One context for every connection: a CA list given per request is parsed per connection.
    let secureContext: SecureContext | undefined;
    try {
      secureContext = tls.createSecureContext({ ca: [...tls.rootCertificates, ...extra] });
    } catch (e) {
      warn(`holds a certificate that cannot be used (${(e as Error).message})`);
    }
    return new https.Agent({ keepAlive: true, ...(secureContext ? { secureContext } : {}) });
  })());
}

/** Node's codes for a server certificate that did not verify. */
const UNVERIFIED = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_UNTRUSTED',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

export const isUnverifiedCertificate = (code: string | undefined): boolean => code !== undefined && UNVERIFIED.has(code);

export const CERTIFICATE_HINT =
  "the server's certificate did not verify: if a CA of your own signed it (a company proxy, a private registry), give that CA's PEM file in NODE_EXTRA_CA_CERTS; check the machine's clock too";
