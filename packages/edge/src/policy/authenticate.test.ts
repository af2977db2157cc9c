import { describe, expect, it } from 'vitest';
import { authenticate, type CompiledAuth } from './authenticate.js';
import { SecretDigester } from './secret-digest.js';

const digester = new SecretDigester(Buffer.alloc(32, 3));
const TOKEN = 'the-token';

function compiled(options: { basic?: string[]; token?: string }): CompiledAuth {
  const token = options.token;
  return {
    digester,
    basic: (options.basic ?? []).map((entry) => digester.digest('basic', entry)),
    token:
      token === undefined
        ? null
        : {
            digest: digester.digest('token', token),
            cookieDigest: digester.digest('cookie', digester.cookieValue(token)),
          },
  };
}

describe('authenticate', () => {
  it('calls a request without any of this tunnel’s credentials missing, not wrong', () => {
    const auth = compiled({ basic: ['a:b'] });
    expect(authenticate(auth, [], '/').kind).toBe('missing');
    expect(authenticate(auth, ['Authorization', 'Bearer x'], '/').kind).toBe('missing');
    expect(authenticate(compiled({ token: TOKEN }), ['Cookie', 'burrow_token=forged'], '/').kind).toBe(
      'missing',
    );
  });

  it('calls a presented password or token that does not match wrong', () => {
    const basicHeader = `Basic ${Buffer.from('a:x').toString('base64')}`;
    expect(authenticate(compiled({ basic: ['a:b'] }), ['Authorization', basicHeader], '/').kind).toBe(
      'wrong',
    );
    expect(authenticate(compiled({ token: TOKEN }), [], '/?burrow_token=nope').kind).toBe('wrong');
  });

  it('issues a cookie only for a token that came in the query', () => {
    const auth = compiled({ token: TOKEN });
    const viaQuery = authenticate(auth, [], `/p?burrow_token=${TOKEN}`);
    expect(viaQuery).toEqual({
      kind: 'accepted',
      headers: [],
      target: '/p',
      issueCookie: digester.cookieValue(TOKEN),
    });
    const viaHeader = authenticate(auth, ['Authorization', `Bearer ${TOKEN}`], '/p');
    expect(viaHeader).toEqual({ kind: 'accepted', headers: [], target: '/p', issueCookie: null });
  });

  it('strips the token parameter and cookie even when the header already admitted', () => {
    const auth = compiled({ token: TOKEN });
    const out = authenticate(
      auth,
      ['Authorization', `Bearer ${TOKEN}`, 'Cookie', 'burrow_token=old; a=1'],
      '/p?burrow_token=stale&q=1',
    );
    expect(out).toEqual({
      kind: 'accepted',
      headers: ['Cookie', 'a=1'],
      target: '/p?q=1',
      issueCookie: null,
    });
  });
});
