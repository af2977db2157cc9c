import { describe, expect, it } from 'vitest';
import { TunnelError } from './errors.js';
import { PROTOCOL_VERSION } from './frame.js';
import { negotiateVersion, SUPPORTED_VERSIONS } from './versions.js';

describe('negotiateVersion', () => {
  it('speaks exactly the frame version today', () => {
    expect(SUPPORTED_VERSIONS).toEqual([PROTOCOL_VERSION]);
  });

  it('picks the highest version both sides speak, whatever the order offered', () => {
    expect(negotiateVersion([1])).toBe(1);
    expect(negotiateVersion([3, 1, 2], [1, 2])).toBe(2);
    expect(negotiateVersion([2, 9], [1, 2, 3])).toBe(2);
  });

  it('throws TUN_ERR_BAD_VERSION when there is no version in common', () => {
    let caught: unknown;
    try {
      negotiateVersion([2, 3]);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(TunnelError);
    expect((caught as TunnelError).code).toBe('TUN_ERR_BAD_VERSION');
    expect((caught as TunnelError).message).toBe(
      'no protocol version in common: peer speaks 2, 3, we speak 1',
    );
  });
});
