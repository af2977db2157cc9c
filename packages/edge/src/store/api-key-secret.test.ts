import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import {
  API_KEY_PREFIX_LENGTH,
  API_KEY_SECRET_LENGTH,
  generateApiKeySecret,
  parseApiKeyPrefix,
} from './api-key-secret.js';
import { BASE62_ALPHABET, randomBase62 } from './random-base62.js';
import { hashSecret, hashesEqual } from './secret-hash.js';
import { TunnelError } from '@burrow/protocol';

describe('api key secrets', () => {
  it('generates bk_<8>_<43> secrets that parse back to their prefix', () => {
    for (let n = 0; n < 200; n++) {
      const { prefix, secret } = generateApiKeySecret(randomBytes);
      expect(secret).toHaveLength(3 + API_KEY_PREFIX_LENGTH + 1 + API_KEY_SECRET_LENGTH);
      expect(parseApiKeyPrefix(secret)).toBe(prefix);
    }
  });

  it('parses nothing but well-formed secrets', () => {
    const body = 'a'.repeat(32);
    expect(parseApiKeyPrefix(`bk_ABCdef12_${body}`)).toBe('ABCdef12');
    expect(parseApiKeyPrefix(`bk_ABCdef12_${body.slice(1)}`)).toBeNull();
    expect(parseApiKeyPrefix(`bk_ABCdef12_${'a'.repeat(129)}`)).toBeNull();
    expect(parseApiKeyPrefix(`bk_ABC-ef12_${body}`)).toBeNull();
    expect(parseApiKeyPrefix(`BK_ABCdef12_${body}`)).toBeNull();
    expect(parseApiKeyPrefix(`bk_ABCdef12_${body}\n`)).toBeNull();
    expect(parseApiKeyPrefix(12)).toBeNull();
    expect(parseApiKeyPrefix(null)).toBeNull();
  });
});

describe('randomBase62', () => {
  it('uses every character of the alphabet and only those', () => {
    const sample = randomBase62(randomBytes, 20_000);
    expect(new Set(sample)).toEqual(new Set(BASE62_ALPHABET));
  });

  it('skips bytes that would bias the distribution', () => {
    // 248..255 must be dropped, so the first usable byte (5) decides the character.
    const bytes = [255, 250, 248, 5];
    const source = (size: number) => Buffer.from(Array.from({ length: size }, (_, i) => bytes[i] ?? 5));
    expect(randomBase62(source, 1)).toBe('5');
  });

  it('throws TUN_ERR_INTERNAL rather than spinning on a source with no usable bytes', () => {
    const err = (() => {
      try {
        randomBase62((size) => Buffer.alloc(size, 0xff), 4);
        return undefined;
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(TunnelError);
    expect((err as TunnelError).code).toBe('TUN_ERR_INTERNAL');
  });
});

describe('secret hashing', () => {
  it('hashes to lowercase sha256 hex', () => {
    expect(hashSecret('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it('compares equal hashes as equal and anything else as different', () => {
    expect(hashesEqual(hashSecret('a'), hashSecret('a'))).toBe(true);
    expect(hashesEqual(hashSecret('a'), hashSecret('b'))).toBe(false);
    expect(hashesEqual(hashSecret('a'), hashSecret('a').slice(1))).toBe(false);
    expect(hashesEqual('', '')).toBe(true);
  });
});
