import { describe, expect, it } from 'vitest';
import { explainError } from './cli/explain-error.js';
import { PolicyRefusedError, policySecrets, redactSecrets } from './policy-refusal.js';

describe('policySecrets and redactSecrets', () => {
  const policy = {
    basicAuth: ['alice:pw-alice-1', 'bob:x'],
    authToken: 'tok"secret',
    requestHeaderAdd: ['Authorization: Bearer abcdef'],
    allowIp: ['10.0.0.0/8'],
  };

  it('collects passwords, the token and added header values, not user names or addresses', () => {
    const secrets = policySecrets(policy);
    expect(secrets).toEqual(
      expect.arrayContaining(['alice:pw-alice-1', 'pw-alice-1', 'bob:x', 'tok"secret', 'tok\\"secret']),
    );
    expect(secrets).toContain('Bearer abcdef');
    // Too short to redact without garbling ordinary words.
    expect(secrets).not.toContain('x');
    expect(secrets.some((secret) => secret.includes('10.0.0.0'))).toBe(false);
    expect(policySecrets(null)).toEqual([]);
  });

  it('replaces whole entries before their parts, raw and JSON-quoted', () => {
    const text =
      'basicAuth[0] got "alice:pw-alice-1"; token "tok\\"secret"; again pw-alice-1; header Bearer abcdef';
    expect(redactSecrets(text, policySecrets(policy))).toBe(
      'basicAuth[0] got "***"; token "***"; again ***; header ***',
    );
  });
});

describe('explainError for a refused policy', () => {
  it('keeps the edge reason and says where the setting lives', () => {
    const err = new PolicyRefusedError('default', 'invalid tunnel policy: rateLimit must be "N/s"');
    expect(err.code).toBe('TUN_ERR_BAD_MESSAGE');
    expect(err.retryable).toBe(false);
    expect(explainError(err)).toBe(
      'the edge refused the access settings of tunnel "default": invalid tunnel policy: rateLimit must be "N/s" ' +
        '(TUN_ERR_BAD_MESSAGE). Fix the setting it names: a key of the tunnel in burrow.yml, or for burrow http ' +
        'the flag of the same words (allowIp is --allow-ip, rateLimit is --rate-limit).',
    );
  });
});
