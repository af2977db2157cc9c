/**
 * Hashing and constant-time comparison for stored secrets (API keys here, tunnel resume
 * tokens in the gateway), so both sides agree on one format: lowercase sha256 hex.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

/** sha256 of the UTF-8 bytes of `secret`, as 64 lowercase hex characters. */
export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/**
 * True when the two strings are identical, in time that depends only on their lengths.
 * Meant for equal-length hashes: a length mismatch returns false at once, which only
 * reveals the length, and all hashes from `hashSecret` have the same one.
 */
export function hashesEqual(a: string, b: string): boolean {
  const left = Buffer.from(a, 'utf8');
  const right = Buffer.from(b, 'utf8');
  if (left.length !== right.length) return false;
  return timingSafeEqual(left, right);
}
