/**
 * Random strings over [0-9A-Za-z] for key ids, secrets and domain tokens. Base62 rather than
 * base64url because `-` and `_` would make `bk_<prefix>_<secret>` ambiguous to split and
 * awkward to double-click-select.
 */
import { randomText, type RandomBytes } from '../random-text.js';

export const BASE62_ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** `length` characters from BASE62_ALPHABET, each uniformly distributed. */
export function randomBase62(random: RandomBytes, length: number): string {
  return randomText(random, BASE62_ALPHABET, length);
}
