/**
 * The edge's one way to make random text: API key ids and secrets, domain verification
 * tokens, temporary tunnel names. The byte source is injected so tests can be reproducible.
 */

import { TunnelError } from '@burrow/protocol';

/**
 * Randomness source with the shape of `crypto.randomBytes` (the default everywhere):
 * returns `size` fresh random bytes.
 */
export type RandomBytes = (size: number) => Uint8Array;

// A healthy source drops at most half its bytes (~3% for the alphabets in use); this many
// empty-handed rounds means it is broken (a stub returning 0xff forever), and looping would hang.
const MAX_ROUNDS = 64;

/** `length` characters of `alphabet` (2 to 256 distinct characters), each uniformly distributed. */
export function randomText(random: RandomBytes, alphabet: string, length: number): string {
  if (alphabet.length < 2 || alphabet.length > 256)
    throw new RangeError('alphabet needs 2 to 256 characters');
  // Bytes at or above the largest multiple of the alphabet's size are dropped, so every
  // character is equally likely (plain `byte % size` would favour the first few).
  const acceptBelow = 256 - (256 % alphabet.length);
  let out = '';
  for (let round = 0; out.length < length; round++) {
    if (round >= MAX_ROUNDS) {
      throw new TunnelError('TUN_ERR_INTERNAL', 'the randomness source returned no usable bytes');
    }
    // Ask for a little more than needed so one round nearly always suffices.
    const bytes = random(length - out.length + 8);
    for (const byte of bytes) {
      if (byte >= acceptBelow) continue;
      out += alphabet.charAt(byte % alphabet.length);
      if (out.length === length) break;
    }
  }
  return out;
}
