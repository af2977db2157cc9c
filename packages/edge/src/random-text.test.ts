import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { TunnelError } from '@burrow/protocol';
import { randomName, RANDOM_NAME_ALPHABET, RANDOM_NAME_LENGTH } from './gateway/names.js';
import { randomText } from './random-text.js';
import { BASE62_ALPHABET, randomBase62 } from './store/random-base62.js';
import { seededRandom } from './store/test-support/contract-fixture.js';

describe('randomText', () => {
  it('draws only from the alphabet, at the length asked', () => {
    const text = randomText(randomBytes, 'abc', 500);
    expect(text).toMatch(/^[abc]{500}$/);
    expect(new Set(text)).toEqual(new Set('abc'));
  });

  it('drops the bytes that would favour the first characters', () => {
    // 3 characters: 255 = 3 * 85 is the cut; a source that gives only 255 and then 4 yields 'b's.
    let calls = 0;
    const source = (size: number): Uint8Array => Buffer.alloc(size, calls++ === 0 ? 255 : 4);
    expect(randomText(source, 'abc', 4)).toBe('bbbb');
    expect(calls).toBe(2);
  });

  it('fails with TUN_ERR_INTERNAL on a source that never gives a usable byte', () => {
    const broken = (size: number): Uint8Array => Buffer.alloc(size, 0xff);
    expect(() => randomText(broken, BASE62_ALPHABET, 8)).toThrow(TunnelError);
  });

  it('is reproducible from a seeded source', () => {
    expect(randomText(seededRandom('a'), BASE62_ALPHABET, 16)).toBe(
      randomText(seededRandom('a'), BASE62_ALPHABET, 16),
    );
  });

  it('makes base62 strings and temporary names from the same draw', () => {
    expect(randomBase62(seededRandom('k'), 32)).toMatch(/^[0-9A-Za-z]{32}$/);
    expect(randomName(seededRandom('n'))).toMatch(
      new RegExp(`^[${RANDOM_NAME_ALPHABET}]{${RANDOM_NAME_LENGTH}}$`),
    );
    expect(randomName(seededRandom('n'))).toBe(randomName(seededRandom('n')));
    expect(randomName()).toHaveLength(RANDOM_NAME_LENGTH);
  });
});
