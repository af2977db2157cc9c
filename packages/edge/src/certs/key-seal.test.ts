import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { TunnelError } from '@burrow/protocol';
import { KeySeal } from './key-seal.js';

const KEY_PEM = '-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIN8b\n-----END PRIVATE KEY-----\n';

describe('KeySeal', () => {
  const secret = randomBytes(32);

  it('opens what it sealed, and never stores the key in clear', () => {
    const seal = new KeySeal(secret);
    const sealed = seal.seal(KEY_PEM);
    expect(sealed).toMatch(/^v1\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]+$/);
    expect(sealed).not.toContain('PRIVATE KEY');
    expect(seal.open(sealed)).toBe(KEY_PEM);
  });

  it('uses a fresh nonce each time', () => {
    const seal = new KeySeal(secret);
    expect(seal.seal(KEY_PEM)).not.toBe(seal.seal(KEY_PEM));
  });

  it('refuses another edge secret, a tampered text and garbage with TUN_ERR_SEALED_KEY_INVALID', () => {
    const sealed = new KeySeal(secret).seal(KEY_PEM);
    const other = new KeySeal(randomBytes(32));
    const tampered = sealed.slice(0, -2) + (sealed.endsWith('A') ? 'BB' : 'AA');
    for (const text of [sealed, tampered, 'garbage', 'v1.x.y']) {
      const opener = text === sealed ? other : new KeySeal(secret);
      let caught: unknown;
      try {
        opener.open(text);
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(TunnelError);
      expect((caught as TunnelError).code).toBe('TUN_ERR_SEALED_KEY_INVALID');
      expect((caught as TunnelError).message).toMatch(/edge\.secret/);
    }
  });
});
