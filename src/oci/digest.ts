// Content digests (`sha256:<64 hex>`): the only algorithm images use in practice, and the
// only one accepted. A branded string type, so a tag or a path cannot be passed as one.

import { createHash, type Hash } from 'node:crypto';

export type Digest = string & { readonly __digest: unique symbol };

const DIGEST = /^sha256:[0-9a-f]{64}$/;

export const isDigest = (s: unknown): s is Digest => typeof s === 'string' && DIGEST.test(s);

/** The hex part, for file names. */
export const digestHex = (d: Digest): string => d.slice('sha256:'.length);

/** A digest shortened for people: `sha256:0123456789ab`. */
export const shortDigest = (d: string): string => d.slice(0, 'sha256:'.length + 12);

export function sha256Digest(data: Uint8Array | string): Digest {
  return `sha256:${createHash('sha256').update(data).digest('hex')}` as Digest;
}

/** Hashes and counts bytes as they pass. */
export class DigestCounter {
  private readonly hash: Hash = createHash('sha256');
  bytes = 0;
  update(chunk: Uint8Array): void {
    this.hash.update(chunk);
    this.bytes += chunk.byteLength;
  }
  digest(): Digest {
    return `sha256:${this.hash.digest('hex')}` as Digest;
  }
}
