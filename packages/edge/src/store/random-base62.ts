/**
 * Uniform random strings over [0-9A-Za-z] from an injected byte source. Base62 rather than
 * base64url because `-` and `_` would make `bk_<prefix>_<secret>` ambiguous to split and
 * awkward to double-click-select.
 */
import { TunnelError } from '@burrow/protocol';
import type { RandomBytes } from './store.js';

export const BASE62_ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

// 248 = 4 * 62: bytes at or above it are dropped, so every character is equally likely
// (plain `byte % 62` would favour the first 8 characters).
const ACCEPT_BELOW = 248;

// A healthy source drops ~3% of bytes; this many empty-handed rounds means it is broken
// (for example a test stub returning 0xff forever), and looping on would hang.
const MAX_ROUNDS = 64;

/** `length` characters from BASE62_ALPHABET, each uniformly distributed. */
export function randomBase62(random: RandomBytes, length: number): string {
  let out = '';
  for (let round = 0; out.length < length; round++) {
    if (round >= MAX_ROUNDS) {
      throw new TunnelError('TUN_ERR_INTERNAL', 'the randomness source returned no usable bytes');
    }
    // Ask for a little more than needed so one round nearly always suffices.
    const bytes = random(length - out.length + 8);
    for (const byte of bytes) {
      if (byte >= ACCEPT_BELOW) continue;
      out += BASE62_ALPHABET.charAt(byte % 62);
      if (out.length === length) break;
    }
  }
  return out;
}
