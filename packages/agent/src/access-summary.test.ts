import { describe, expect, it } from 'vitest';
import { describeAccess } from './access-summary.js';

const origin = new URL('http://127.0.0.1:5173');

describe('describeAccess', () => {
  it('says nothing for a tunnel without settings', () => {
    expect(describeAccess({ origin, policy: null, hostHeader: 'preserve' })).toEqual([]);
  });

  it('names every setting without a password, token or added header value', () => {
    const phrases = describeAccess({
      origin,
      hostHeader: 'rewrite',
      policy: {
        basicAuth: ['alice:pw-alice-1', 'bob:pw-bob-2'],
        authToken: 'tok-secret-123',
        allowIp: ['10.0.0.0/8', '::1'],
        denyIp: ['10.0.0.5'],
        rateLimit: '10/s',
        requestHeaderAdd: ['Authorization: Bearer header-secret'],
        requestHeaderRemove: ['Cookie'],
        responseHeaderAdd: ['X-Robots-Tag: noindex'],
        responseHeaderRemove: ['X-Powered-By'],
      },
    });
    expect(phrases).toEqual([
      'basic auth (alice, bob)',
      'auth token',
      'allow 10.0.0.0/8 ::1',
      'deny 10.0.0.5',
      'rate limit 10/s per client IP',
      'request headers -Cookie +Authorization',
      'response headers -X-Powered-By +X-Robots-Tag',
      'Host header 127.0.0.1:5173',
    ]);
    const text = phrases.join(' ');
    for (const secret of ['pw-alice-1', 'pw-bob-2', 'tok-secret-123', 'header-secret', 'noindex']) {
      expect(text).not.toContain(secret);
    }
  });

  it('shows a literal Host value as given', () => {
    expect(describeAccess({ origin, policy: null, hostHeader: 'myapp.test' })).toEqual([
      'Host header myapp.test',
    ]);
  });
});
