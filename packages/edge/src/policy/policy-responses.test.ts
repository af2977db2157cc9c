import { describe, expect, it } from 'vitest';
import { authLocked, ipDenied, rateLimited, tokenRedirect, unauthorized } from './policy-responses.js';

describe('policy responses', () => {
  it('are plain text that caches nowhere', () => {
    for (const d of [ipDenied('192.0.2.1'), unauthorized({ basic: true, token: false }, false, 0)]) {
      expect(d.headers).toEqual(expect.arrayContaining(['Content-Type', 'text/plain; charset=utf-8']));
      expect(d.headers).toEqual(expect.arrayContaining(['Cache-Control', 'no-store']));
    }
  });

  it('show an unreadable client address only as safe characters', () => {
    expect(ipDenied('<script>alert(1)</script>\r\n').body).not.toMatch(/[<>\r]/);
    expect(ipDenied('').body).toContain('an unknown address');
  });

  it('say the rate in the unit it was set in', () => {
    const d = rateLimited('192.0.2.1', { count: 30, perMs: 60_000 }, 2);
    expect(d.body).toContain('30 requests per minute');
    expect(d.headers).toEqual(expect.arrayContaining(['Retry-After', '2']));
    expect(authLocked('192.0.2.1', 300).headers).toEqual(expect.arrayContaining(['Retry-After', '300']));
  });

  it('tell a wrong credential apart from a missing one, and carry the delay', () => {
    const wrong = unauthorized({ basic: false, token: true }, true, 1500);
    expect(wrong).toMatchObject({ status: 401, code: 'POLICY_AUTH_INVALID', delayMs: 1500 });
    expect(wrong.body).toContain('not accepted');
  });

  it('redirect with Location and Set-Cookie', () => {
    const d = tokenRedirect('/a?b=1', 'burrow_token=x; Path=/');
    expect(d.status).toBe(302);
    expect(d.headers.slice(0, 4)).toEqual(['Location', '/a?b=1', 'Set-Cookie', 'burrow_token=x; Path=/']);
  });
});
