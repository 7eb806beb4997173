// The certificates HTTPS connections trust when the `osv` command (bin/osv) started Node without
// NODE_EXTRA_CA_CERTS and handed its value over in OSV_DEFERRED_CA_CERTS: what Node trusts by
// default plus that file, as Node would with NODE_EXTRA_CA_CERTS set. Read at the first HTTPS
// connection, not at every start. Requests that must trust it go over node:https with the agent
// made here (fetch in Node 20 takes no CA list), see src/oci/registry.ts and src/kernel/releases.ts.

import { closeSync, readFileSync } from 'node:fs';
import type { Agent } from 'node:https';
import type { SecureContext } from 'node:tls';
import { fileProblem, openRegularFile } from '../hostfs.js';

const DEFERRED_CA = 'OSV_DEFERRED_CA_CERTS';

/** The bundle bin/osv deferred, if it did. */
export function deferredCaFile(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return env[DEFERRED_CA] || undefined;
}

/** One agent per bundle: a context is made once, not per connection. */
const agents = new Map<string, Promise<Agent>>();

/**
 * The agent for HTTPS requests: one trusting what Node trusts by default plus the deferred
 * bundle, or undefined (Node's global agent) when nothing was deferred. A bundle that cannot be
 * read is ignored with a warning, as Node ignores such a NODE_EXTRA_CA_CERTS.
 */
export function httpsAgent(env: NodeJS.ProcessEnv = process.env): Promise<Agent> | undefined {
  const file = deferredCaFile(env);
  if (file === undefined) return undefined;
  let agent = agents.get(file);
  if (!agent) agents.set(file, (agent = agentTrusting(file)));
  return agent;
}

async function agentTrusting(file: string): Promise<Agent> {
  const [https, tls] = await Promise.all([import('node:https'), import('node:tls')]);
  const warn = (why: string): void => void process.stderr.write(`warning: NODE_EXTRA_CA_CERTS=${file} ${why}\n`);
  let extra: string[] = [];
  try {
    // Not a FIFO's reader forever: a regular file or nothing (src/hostfs.ts).
    const fd = openRegularFile(file);
    try {
      extra = readFileSync(fd, 'latin1').match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g) ?? [];
    } finally {
      closeSync(fd);
    }
    if (extra.length === 0) warn('holds no PEM certificate: none of it is trusted');
  } catch (e) {
    warn(`${fileProblem(e)}: none of it is trusted`);
  }
  // Node's default store (its own roots, or the system's under --use-openssl-ca), with the
  // bundle's certificates added to it, as Node adds NODE_EXTRA_CA_CERTS; a `ca` list would
  // replace that store instead (the way left for a Node without addCACert).
  const secureContext = tls.createSecureContext();
  const store = (secureContext as SecureContext & { context?: { addCACert?: (pem: string) => void } }).context;
  if (typeof store?.addCACert !== 'function') return new https.Agent({ keepAlive: true, secureContext: tls.createSecureContext({ ca: [...tls.rootCertificates, ...extra] }) });
  for (const pem of extra) {
    try {
      store.addCACert(pem);
    } catch {
      // A block it cannot read is skipped, as Node skips it (it mostly does so silently).
    }
  }
  return new https.Agent({ keepAlive: true, secureContext });
}

/** Node's codes for a server certificate signed by no CA this process trusts. */
const UNTRUSTED = new Set(['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'SELF_SIGNED_CERT_IN_CHAIN', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'CERT_UNTRUSTED']);
/** ... for a certificate outside its dates. */
const OUT_OF_DATE = new Set(['CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID']);

/** What to do about a request that failed with `reason` (networkReason), when a certificate is the cause. */
export function certificateHint(reason: string): string | undefined {
  if (UNTRUSTED.has(reason)) return "no CA this process trusts signed the server's certificate: if a CA of your own signed it (a company proxy, a private registry), give that CA's PEM file in NODE_EXTRA_CA_CERTS";
  if (OUT_OF_DATE.has(reason)) return "the server's certificate is expired or not yet valid: check this machine's clock, or have the certificate renewed";
  if (reason === 'ERR_TLS_CERT_ALTNAME_INVALID') return "the server's certificate is for another name: use the name it was issued for";
  return undefined;
}
