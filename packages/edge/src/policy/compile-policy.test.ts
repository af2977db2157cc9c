import { inspect } from 'node:util';
import { TunnelError } from '@burrow/protocol';
import { describe, expect, it } from 'vitest';
import { compilePolicy } from './compile-policy.js';
import type { TunnelPolicySpec } from './policy-spec.js';

const clock = { now: (): number => 1_700_000_000_000 };

describe('compilePolicy', () => {
  it('makes an open policy from an empty spec', () => {
    const policy = compilePolicy({}, { clock });
    expect(policy.isOpen).toBe(true);
    expect(policy.auth).toBeNull();
    expect(policy.authFailures).toBeNull();
    expect(policy.rateLimiter).toBeNull();
  });

  it('builds each protection the spec asks for', () => {
    const policy = compilePolicy(
      { basicAuth: ['a:b'], authToken: 'tok', allowIp: ['10.0.0.0/8'], denyIp: ['::1'], rateLimit: '3/m' },
      { clock },
    );
    expect(policy.isOpen).toBe(false);
    expect(policy.ipRules.allow).toHaveLength(1);
    expect(policy.ipRules.deny).toHaveLength(1);
    expect(policy.rateLimiter?.rate).toEqual({ count: 3, perMs: 60_000 });
    expect(policy.rateLimiter?.burst).toBe(3);
    expect(policy.auth?.basic).toHaveLength(1);
    expect(policy.auth?.token).not.toBeNull();
    expect(policy.authFailures?.limits.maxFailures).toBe(5);
  });

  it("refuses hostHeader: Host is the agent's setting, and a compiled policy has none", () => {
    expect(() => compilePolicy({ hostHeader: 'rewrite' } as TunnelPolicySpec, { clock })).toThrow(
      /--host-header/,
    );
    expect(Object.keys(compilePolicy({}, { clock }))).not.toContain('hostRewrite');
  });

  it('keeps capture (maxBytes 65,536 unless set) and Server-Timing, each enough to make a policy not open', () => {
    const capture = compilePolicy({ capture: { bodies: true } }, { clock });
    expect(capture.capture).toEqual({ bodies: true, maxBytes: 65_536 });
    expect(capture.serverTiming).toBe(false);
    expect(capture.isOpen).toBe(false);
    expect(compilePolicy({ capture: { bodies: false, maxBytes: 10 } }, { clock }).capture).toEqual({
      bodies: false,
      maxBytes: 10,
    });
    const timing = compilePolicy({ serverTiming: true }, { clock });
    expect(timing.serverTiming).toBe(true);
    expect(timing.capture).toBeNull();
    expect(timing.isOpen).toBe(false);
    expect(timing.toJSON()).toMatchObject({ serverTiming: true, capture: null });
  });

  it('passes limits through', () => {
    const policy = compilePolicy(
      { authToken: 'tok', rateLimit: '1/s' },
      { clock, maxTrackedClients: 7, authFailureLimits: { maxFailures: 3, cooldownMs: 1_000 } },
    );
    expect(policy.authFailures?.limits).toMatchObject({ maxFailures: 3, cooldownMs: 1_000, maxKeys: 7 });
  });

  it('validates the spec itself, so wire input cannot skip parsePolicySpec', () => {
    const bad = { allowIp: ['nope'] } as TunnelPolicySpec;
    expect(() => compilePolicy(bad, { clock })).toThrow(TunnelError);
  });

  it('keeps no password or token, and shows neither they nor their digests when logged', () => {
    const spec: TunnelPolicySpec = {
      basicAuth: ['alice:correct-horse'],
      authToken: 'tok-battery-staple',
      requestHeaderAdd: ['X-Api-Key: origin-secret'],
    };
    const policy = compilePolicy(spec, { clock, secret: Buffer.alloc(32, 1) });
    const digests = [policy.auth!.basic[0]!, policy.auth!.token!.digest, policy.auth!.token!.cookieDigest];
    const shown = [
      JSON.stringify(policy),
      inspect(policy, { depth: 10 }),
      String(JSON.stringify(policy.toJSON())),
    ];
    for (const text of shown) {
      for (const secret of ['correct-horse', 'tok-battery-staple', 'origin-secret'])
        expect(text).not.toContain(secret);
      for (const d of digests) {
        expect(text).not.toContain(d.toString('hex'));
        expect(text).not.toContain(d.toString('base64'));
      }
    }
    expect(policy.toJSON()).toMatchObject({
      basicAuthUsers: ['alice'],
      authToken: true,
      requestHeaderAdd: ['X-Api-Key'],
    });
    // Structure: credentials are held as 32-byte digests only.
    expect(digests.every((d) => Buffer.isBuffer(d) && d.length === 32)).toBe(true);
  });
});
