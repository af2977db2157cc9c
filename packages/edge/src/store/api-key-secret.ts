/**
 * The API key secret format, `bk_<prefix>_<secret>`: `bk_` marks it as a Burrow key (so
 * secret scanners can match it), the 8-character prefix is public and finds the row, and
 * the rest is the secret. Only the sha256 of the whole string is stored.
 */
import { randomBase62 } from './random-base62.js';
import type { RandomBytes } from './store.js';

export const API_KEY_PREFIX_LENGTH = 8;
/** 43 base62 characters carry 256 bits (43 * log2(62) ≈ 256.0). */
export const API_KEY_SECRET_LENGTH = 43;

// Secrets from 32 to 128 characters parse, so a future change of the generated length does
// not invalidate keys already handed out; the upper bound keeps hostile input cheap.
const API_KEY_PATTERN = /^bk_([0-9A-Za-z]{8})_[0-9A-Za-z]{32,128}$/;

export interface GeneratedApiKey {
  prefix: string;
  /** The full string handed to the user once. */
  secret: string;
}

export function generateApiKeySecret(random: RandomBytes): GeneratedApiKey {
  const prefix = randomBase62(random, API_KEY_PREFIX_LENGTH);
  const body = randomBase62(random, API_KEY_SECRET_LENGTH);
  return { prefix, secret: `bk_${prefix}_${body}` };
}

/** The prefix of a well-formed secret, or null for anything else (including non-strings). */
export function parseApiKeyPrefix(secret: unknown): string | null {
  if (typeof secret !== 'string') return null;
  const match = API_KEY_PATTERN.exec(secret);
  return match?.[1] ?? null;
}
