/**
 * How the policy holds and compares credentials: only keyed digests (HMAC-SHA256) are
 * kept, never the password or token, and every comparison is `timingSafeEqual` over
 * equal-length digests, so neither a memory dump nor response timing reveals a secret.
 * The key also makes the `burrow_token` cookie value, which is useless without it.
 */

import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** Generated once per process; a cluster passes one shared key so cookies work on every edge. */
const PROCESS_KEY = randomBytes(32);

/** What a digest is for: the same secret under two purposes yields unrelated digests. */
export type DigestPurpose = 'basic' | 'token' | 'cookie';

export class SecretDigester {
  readonly #key: Uint8Array;

  constructor(key: Uint8Array = PROCESS_KEY) {
    if (key.length < 16) throw new RangeError('the policy secret must be at least 16 bytes');
    this.#key = key;
  }

  /** HMAC-SHA256 of `value` under this key and `purpose`; 32 bytes. */
  digest(purpose: DigestPurpose, value: string): Buffer {
    return createHmac('sha256', this.#key).update(purpose).update('\0').update(value, 'utf8').digest();
  }

  /** The `burrow_token` cookie value for `token`: opaque, URL- and cookie-safe, 43 characters. */
  cookieValue(token: string): string {
    return this.digest('cookie', token).toString('base64url');
  }
}

/**
 * True if `candidate` equals any of `stored`. Compares against every entry without
 * stopping early, so the time taken does not depend on which entry matched.
 */
export function matchesAnyDigest(stored: readonly Buffer[], candidate: Buffer): boolean {
  let found = false;
  for (const digest of stored) {
    // Digests all have the same length; the check keeps timingSafeEqual from throwing.
    if (digest.length === candidate.length && timingSafeEqual(digest, candidate)) found = true;
  }
  return found;
}
