/**
 * Deterministic, incompressible payloads shared by the bench origin and the harness: a
 * 64 KiB block of xorshift bytes, repeated. Both sides can produce or check N bytes
 * without holding them whole.
 */

import { Buffer } from 'node:buffer';
import { createHash } from 'node:crypto';

export const BLOCK_SIZE = 64 * 1024;

/** The repeated block; never mutate it. */
export const BLOCK = (() => {
  const block = Buffer.alloc(BLOCK_SIZE);
  let x = 0x2545f491;
  for (let i = 0; i < block.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    block[i] = x & 0xff;
  }
  return block;
})();

/**
 * Yields the payload of `bytes` length in block-sized views (the last one shorter).
 * @param {number} bytes
 * @returns {Generator<Buffer>}
 */
export function* payloadChunks(bytes) {
  let left = bytes;
  while (left > 0) {
    const n = Math.min(left, BLOCK_SIZE);
    left -= n;
    yield n === BLOCK_SIZE ? BLOCK : BLOCK.subarray(0, n);
  }
}

/** @type {Map<number, string>} */
const shaCache = new Map();

/**
 * sha256 (hex) of the payload of `bytes` length; memoised, since 100 MiB takes a while.
 * @param {number} bytes
 */
export function payloadSha256(bytes) {
  let sha = shaCache.get(bytes);
  if (sha === undefined) {
    const hash = createHash('sha256');
    for (const chunk of payloadChunks(bytes)) hash.update(chunk);
    sha = hash.digest('hex');
    shaCache.set(bytes, sha);
  }
  return sha;
}
