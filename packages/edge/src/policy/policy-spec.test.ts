import { TunnelError } from '@burrow/protocol';
import { describe, expect, it } from 'vitest';
import {
  overlayPolicies,
  parsePolicySpec,
  parseStoredPolicySpec,
  redactPolicySpec,
  tryParseRate,
  type TunnelPolicySpec,
} from './policy-spec.js';

const FULL: TunnelPolicySpec = {
  basicAuth: ['alice:wonder:land', 'bob:builder'],
  authToken: 'tok_9f8e7d',
  allowIp: ['10.0.0.0/8', '2001:db8::/32', '192.0.2.1'],
  denyIp: ['10.1.0.0/16'],
  rateLimit: '20/s',
  requestHeaderAdd: ['X-Env: dev'],
  requestHeaderRemove: ['Cookie'],
  responseHeaderAdd: ['X-Frame-Options: DENY'],
  responseHeaderRemove: ['Server'],
  capture: { bodies: true, maxBytes: 4096 },
  serverTiming: true,
};

/** The error parsePolicySpec throws for `json`, which the test expects to be invalid. */
function rejection(json: unknown): TunnelError {
  try {
    parsePolicySpec(json);
  } catch (err) {
    if (err instanceof TunnelError) return err;
    throw err;
  }
  throw new Error(`expected ${JSON.stringify(json)} to be rejected`);
}

describe('parsePolicySpec', () => {
  it('accepts a full valid spec unchanged, and an empty one', () => {
    expect(parsePolicySpec(FULL)).toEqual(FULL);
    expect(parsePolicySpec({})).toEqual({});
  });

  it('accepts the edges of every range', () => {
    expect(() =>
      parsePolicySpec({
        basicAuth: [`${'u'.repeat(256)}:${'p'.repeat(256)}`],
        authToken: 't'.repeat(256),
        rateLimit: '100000/m',
        allowIp: Array.from({ length: 32 }, (_, i) => `10.0.${i}.0/24`),
      }),
    ).not.toThrow();
  });

  it('refuses hostHeader, saying the agent sets Host (--host-header)', () => {
    for (const hostHeader of ['rewrite', 'preserve', 'localhost:5173']) {
      const err = rejection({ rateLimit: '1/s', hostHeader });
      expect(err.code).toBe('TUN_ERR_BAD_MESSAGE');
      expect(err.message).toBe(
        'invalid tunnel policy: "hostHeader" is not an edge policy field: the agent sets Host itself ' +
          '(burrow http --host-header, or hostHeader under the tunnel in burrow.yml)',
      );
    }
    expect(rejection({ hostHeader: 'rewrite', colour: 'red' }).message).toMatch(
      /"hostHeader" is not an edge policy field: .*; unknown field "colour" \(allowed: /,
    );
  });

  it('reads a stored row that still has hostHeader (stored before it was refused) without it', () => {
    const legacy = { rateLimit: '1/s', hostHeader: 'rewrite' };
    expect(parseStoredPolicySpec(legacy)).toEqual({ rateLimit: '1/s' });
    expect(overlayPolicies(legacy, null)).toEqual({ rateLimit: '1/s' });
    expect(overlayPolicies(legacy, { authToken: 'tok_1' })).toEqual({ rateLimit: '1/s', authToken: 'tok_1' });
    const clean = { rateLimit: '1/s' };
    expect(overlayPolicies(clean, null)).toBe(clean);
  });

  it('throws TUN_ERR_BAD_MESSAGE naming the field and what it allows', () => {
    const err = rejection({ rateLimit: '0/s' });
    expect(err.code).toBe('TUN_ERR_BAD_MESSAGE');
    expect(err.message).toBe(
      'invalid tunnel policy: rateLimit must be "N/s" or "N/m" with N from 1 to 100000, got "0/s"',
    );
  });

  it.each([
    [{ rateLimit: '100001/s' }, 'rateLimit must be "N/s" or "N/m"'],
    [{ rateLimit: '5/h' }, 'rateLimit must be'],
    [{ rateLimit: 5 }, 'rateLimit must be'],
    [{ allowIp: ['10.0.0.0/8', '10.0.0.300'] }, 'allowIp[1] must be an IPv4 or IPv6 address or CIDR block'],
    [{ denyIp: ['2001:db8::/129'] }, 'denyIp[0] must be an IPv4 or IPv6 address or CIDR block'],
    [{ denyIp: '10.0.0.0/8' }, 'denyIp must be a list of addresses or CIDR blocks'],
    [
      { allowIp: Array.from({ length: 33 }, () => '10.0.0.1') },
      'allowIp must be a list of at most 32 entries',
    ],
    [{ requestHeaderAdd: ['X-Ok: 1', 'Bad Name: 1'] }, 'requestHeaderAdd[1] must be "Name: value"'],
    [{ responseHeaderAdd: ['X-A: a\r\nSet-Cookie: x=1'] }, 'responseHeaderAdd[0] must be "Name: value"'],
    [
      { requestHeaderAdd: ['Host: example.com'] },
      'requestHeaderAdd[0] must be a header other than host, content-length',
    ],
    [{ responseHeaderRemove: ['Transfer-Encoding'] }, 'responseHeaderRemove[0] must be a header other than'],
    [
      { requestHeaderRemove: ['x y'] },
      'requestHeaderRemove[0] must be a header name made of token characters',
    ],
    [{ basicAuth: ['nopassword'] }, 'basicAuth[0] must be "user:pass"'],
    [{ basicAuth: [':pass'] }, 'basicAuth[0] must be "user:pass"'],
    [{ basicAuth: ['user:'] }, 'basicAuth[0] must be "user:pass"'],
    [{ basicAuth: [`user:${'p'.repeat(257)}`] }, 'basicAuth[0] must be "user:pass"'],
    [{ authToken: '' }, 'authToken must be 1-256 visible ASCII characters'],
    [{ authToken: 't'.repeat(257) }, 'authToken must be 1-256 visible ASCII characters'],
    [{ authToken: 'has space' }, 'authToken must be 1-256 visible ASCII characters'],
    [{ basicAuthh: ['a:b'] }, 'unknown field "basicAuthh" (allowed: basicAuth, authToken'],
    [{ foo: 1, bar: 2 }, 'unknown fields "foo", "bar" (allowed:'],
    [{ capture: true }, 'capture must be an object {"bodies": true or false, "maxBytes": 1 to 1048576'],
    [{ capture: {} }, 'capture.bodies must be true or false'],
    [
      { capture: { bodies: true, maxBytes: 0 } },
      'capture.maxBytes must be a whole number of bytes from 1 to',
    ],
    [{ capture: { bodies: true, maxBytes: 1_048_577 } }, 'capture.maxBytes must be a whole number'],
    [{ capture: { bodies: true, maxBytes: 1.5 } }, 'capture.maxBytes must be a whole number'],
    [{ capture: { bodies: true, headers: true } }, 'unknown field "headers"'],
    [{ serverTiming: 'yes' }, 'serverTiming must be true or false'],
    [null, 'the policy must be a JSON object'],
    [['a'], 'the policy must be a JSON object'],
  ])('rejects %j', (json, expected) => {
    expect(rejection(json).message).toContain(expected);
  });

  it('reports every bad field at once', () => {
    const message = rejection({ rateLimit: 'fast', allowIp: ['x'] }).message;
    expect(message).toContain('rateLimit must be');
    expect(message).toContain('allowIp[0] must be');
  });

  it('never quotes a password, token or added header value in its errors', () => {
    const secrets = ['hunter2\u0007', 'tok en with space', 'Authorization: Bearer sekrit\n'];
    const message = rejection({
      basicAuth: [`alice:${secrets[0]}`],
      authToken: secrets[1],
      requestHeaderAdd: [secrets[2]],
    }).message;
    expect(message).toContain('basicAuth[0] must be');
    expect(message).toContain('authToken must be');
    expect(message).toContain('requestHeaderAdd[0] must be');
    expect(message).not.toContain('hunter2');
    expect(message).not.toContain('tok en');
    expect(message).not.toContain('sekrit');
  });
});

describe('tryParseRate', () => {
  it('reads per-second and per-minute rates', () => {
    expect(tryParseRate('20/s')).toEqual({ count: 20, perMs: 1_000 });
    expect(tryParseRate('600/m')).toEqual({ count: 600, perMs: 60_000 });
    expect(tryParseRate('020/s')).toBeNull();
    expect(tryParseRate(' 5/s')).toBeNull();
  });
});

describe('redactPolicySpec', () => {
  it('hides passwords, the token and added header values, and keeps the rest', () => {
    const redacted = redactPolicySpec(FULL);
    const text = JSON.stringify(redacted);
    expect(redacted.basicAuth).toEqual(['alice:***', 'bob:***']);
    expect(redacted.authToken).toBe('***');
    expect(redacted.requestHeaderAdd).toEqual(['X-Env: ***']);
    expect(redacted.allowIp).toEqual(FULL.allowIp);
    for (const secret of ['wonder', 'builder', 'tok_9f8e7d', 'dev', 'DENY'])
      expect(text).not.toContain(secret);
    expect(FULL.authToken).toBe('tok_9f8e7d');
  });
});
