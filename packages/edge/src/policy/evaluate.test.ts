import { describe, expect, it } from 'vitest';
import { FakeTimers } from '../test-support/fake-timers.js';
import { compilePolicy, type CompilePolicyOptions } from './compile-policy.js';
import { evaluate, type Decision, type ForwardDecision, type PolicyRequest } from './evaluate.js';
import type { RespondDecision } from './policy-responses.js';
import type { TunnelPolicySpec } from './policy-spec.js';

/** Where these tests' clock starts. */
const T0 = 1_700_000_000_000;

const SECRET = Buffer.alloc(32, 42);
const PASSWORD = 'correct-horse-battery';
const TOKEN = 'tok_Zx81-secret-token';

function setup(spec: TunnelPolicySpec, options: Partial<CompilePolicyOptions> = {}) {
  const clock = new FakeTimers(T0);
  const policy = compilePolicy(spec, { clock, secret: SECRET, ...options });
  const run = (request: Partial<PolicyRequest> = {}): Decision =>
    evaluate(policy, { remoteAddress: '203.0.113.5', method: 'GET', path: '/', headers: [], ...request });
  return { clock, policy, run };
}

function basic(userPass: string): string {
  return `Basic ${Buffer.from(userPass).toString('base64')}`;
}

function forwarded(decision: Decision): ForwardDecision {
  if (decision.action !== 'forward')
    throw new Error(`expected forward, got ${decision.status} ${decision.code}`);
  return decision;
}

function responded(decision: Decision): RespondDecision {
  if (decision.action !== 'respond') throw new Error('expected respond, got forward');
  return decision;
}

function header(headers: readonly string[], name: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < headers.length; i += 2)
    if (headers[i]!.toLowerCase() === name) out.push(headers[i + 1]!);
  return out;
}

describe('evaluate: an open policy', () => {
  it('forwards the request unchanged, in a new array', () => {
    const { run } = setup({});
    const headers = ['Host', 'app.example.com', 'Authorization', 'Bearer origin-own', 'Cookie', 'a=1'];
    const decision = forwarded(run({ path: '/x?burrow_token=abc', headers }));
    expect(decision.requestHeaders).toEqual(headers);
    expect(decision.requestHeaders).not.toBe(headers);
    expect(decision.path).toBe('/x?burrow_token=abc');
    expect(decision.setCookie).toBeUndefined();
    expect(decision.responseHeaderEdit(['Server', 'x'])).toEqual(['Server', 'x']);
  });
});

describe('evaluate: IP rules', () => {
  it('answers 403 naming the client IP', () => {
    const { run } = setup({ allowIp: ['10.0.0.0/8'] });
    const d = responded(run({ remoteAddress: '::ffff:198.51.100.7' }));
    expect(d).toMatchObject({ status: 403, code: 'POLICY_IP_DENIED', delayMs: 0 });
    expect(d.body).toContain('198.51.100.7');
    expect(forwarded(run({ remoteAddress: '::ffff:10.9.8.7' })).action).toBe('forward');
  });

  it('matches IPv6 clients and lets deny win', () => {
    const { run } = setup({ allowIp: ['2001:db8::/32'], denyIp: ['2001:db8:bad::/48'] });
    expect(run({ remoteAddress: '2001:db8:1::1' }).action).toBe('forward');
    const d = responded(run({ remoteAddress: '2001:db8:bad::9' }));
    expect(d.status).toBe(403);
    expect(d.body).toContain('2001:db8:bad::9');
    expect(responded(run({ remoteAddress: '192.0.2.1' })).status).toBe(403);
  });

  it('checks the IP before anything else, even a right password', () => {
    const { run } = setup({ denyIp: ['203.0.113.0/24'], basicAuth: [`alice:${PASSWORD}`], rateLimit: '1/m' });
    const headers = ['Authorization', basic(`alice:${PASSWORD}`)];
    for (let i = 0; i < 3; i++) expect(responded(run({ headers })).code).toBe('POLICY_IP_DENIED');
  });
});

describe('evaluate: rate limit', () => {
  it('answers 429 with Retry-After once the burst is spent, and recovers', () => {
    const { run, clock } = setup({ rateLimit: '2/s' });
    expect(run().action).toBe('forward');
    expect(run().action).toBe('forward');
    const d = responded(run());
    expect(d).toMatchObject({ status: 429, code: 'POLICY_RATE_LIMITED' });
    expect(header(d.headers, 'retry-after')).toEqual(['1']);
    expect(d.body).toContain('203.0.113.5');
    clock.advance(500);
    expect(run().action).toBe('forward');
  });

  it('counts per client, with an IPv6 /64 as one client', () => {
    const { run } = setup({ rateLimit: '1/m' });
    expect(run({ remoteAddress: '2001:db8:0:1::a' }).action).toBe('forward');
    const d = responded(run({ remoteAddress: '2001:db8:0:1::b' }));
    expect(header(d.headers, 'retry-after')).toEqual(['60']);
    expect(run({ remoteAddress: '2001:db8:0:2::a' }).action).toBe('forward');
    expect(run({ remoteAddress: '192.0.2.1' }).action).toBe('forward');
  });

  it('limits before asking for credentials', () => {
    const { run } = setup({ rateLimit: '1/s', authToken: TOKEN });
    expect(responded(run()).code).toBe('POLICY_AUTH_REQUIRED');
    expect(responded(run()).code).toBe('POLICY_RATE_LIMITED');
  });
});

describe('evaluate: basic auth', () => {
  const spec = { basicAuth: [`alice:${PASSWORD}`, 'bob:b:o:b'] };

  it('asks for credentials with a Basic challenge', () => {
    const { run } = setup(spec);
    const d = responded(run());
    expect(d).toMatchObject({ status: 401, code: 'POLICY_AUTH_REQUIRED', delayMs: 0 });
    expect(header(d.headers, 'www-authenticate')).toEqual(['Basic realm="burrow", charset="UTF-8"']);
    expect(d.body).toContain('username and password');
  });

  it('forwards with the Authorization header removed and everything else in order', () => {
    const { run } = setup(spec);
    const headers = ['Host', 'h', 'Authorization', basic('bob:b:o:b'), 'Accept', '*/*', 'X-A', '1'];
    const d = forwarded(run({ headers }));
    expect(d.requestHeaders).toEqual(['Host', 'h', 'Accept', '*/*', 'X-A', '1']);
    expect(headers).toHaveLength(8);
  });

  it('refuses a wrong password, a wrong user, and garbage', () => {
    const { run } = setup(spec, { authFailureLimits: { maxFailures: 100 } });
    for (const value of [basic('alice:wrong'), basic(`mallory:${PASSWORD}`), 'Basic !!!', 'Basic']) {
      const d = responded(run({ headers: ['Authorization', value] }));
      expect(d).toMatchObject({ status: 401, code: 'POLICY_AUTH_INVALID' });
    }
  });

  it('leaves a Bearer header alone when the tunnel uses no token', () => {
    const { run } = setup(spec);
    expect(responded(run({ headers: ['Authorization', 'Bearer x'] })).code).toBe('POLICY_AUTH_REQUIRED');
  });
});

describe('evaluate: brute force', () => {
  const spec = { basicAuth: [`alice:${PASSWORD}`] };
  const wrong = ['Authorization', basic('alice:guess')];
  const right = ['Authorization', basic(`alice:${PASSWORD}`)];

  it('slows wrong passwords down, then answers 429 without checking, until the cooldown ends', () => {
    const { run, clock } = setup(spec);
    const delays = Array.from({ length: 5 }, () => responded(run({ headers: wrong })).delayMs);
    expect(delays).toEqual([0, 500, 1000, 1500, 2000]);

    const locked = responded(run({ headers: right }));
    expect(locked).toMatchObject({ status: 429, code: 'POLICY_AUTH_LOCKED' });
    expect(header(locked.headers, 'retry-after')).toEqual(['300']);
    expect(locked.body).toContain('203.0.113.5');

    clock.advance(120_000);
    expect(header(responded(run({ headers: right })).headers, 'retry-after')).toEqual(['180']);
    clock.advance(180_000);
    expect(forwarded(run({ headers: right })).action).toBe('forward');
  });

  it('locks out only the guessing client', () => {
    const { run } = setup(spec);
    for (let i = 0; i < 5; i++) run({ headers: wrong });
    expect(responded(run({ headers: right })).status).toBe(429);
    expect(run({ headers: right, remoteAddress: '198.51.100.1' }).action).toBe('forward');
  });

  it('does not count requests that carry no credential', () => {
    const { run } = setup(spec);
    for (let i = 0; i < 20; i++) expect(responded(run()).code).toBe('POLICY_AUTH_REQUIRED');
    expect(run({ headers: right }).action).toBe('forward');
  });

  it('counts a wrong bearer or query token too', () => {
    const { run } = setup({ authToken: TOKEN });
    for (let i = 0; i < 3; i++) run({ headers: ['Authorization', 'Bearer nope'] });
    for (let i = 0; i < 2; i++) run({ path: '/?burrow_token=nope' });
    expect(responded(run({ headers: ['Authorization', `Bearer ${TOKEN}`] })).code).toBe('POLICY_AUTH_LOCKED');
  });

  it('tries only the first of many Authorization headers or token parameters', () => {
    const { run } = setup({ authToken: TOKEN });
    const many = ['Authorization', 'Bearer a', 'Authorization', `Bearer ${TOKEN}`];
    expect(responded(run({ headers: many })).code).toBe('POLICY_AUTH_INVALID');
    expect(responded(run({ path: `/?burrow_token=a&burrow_token=${TOKEN}` })).code).toBe(
      'POLICY_AUTH_INVALID',
    );
  });
});

describe('evaluate: token', () => {
  it('asks for the token, saying how to send it', () => {
    const { run } = setup({ authToken: TOKEN });
    const d = responded(run());
    expect(d).toMatchObject({ status: 401, code: 'POLICY_AUTH_REQUIRED' });
    expect(header(d.headers, 'www-authenticate')).toEqual(['Bearer realm="burrow"']);
    expect(d.body).toContain('Authorization: Bearer <token>');
    expect(d.body).toContain('?burrow_token=<token>');
  });

  it('forwards a right Bearer token with the header removed', () => {
    const { run } = setup({ authToken: TOKEN });
    const d = forwarded(run({ headers: ['Authorization', `bearer ${TOKEN}`, 'X', 'y'] }));
    expect(d.requestHeaders).toEqual(['X', 'y']);
  });

  it('turns ?burrow_token= on a page load into a 302 and a cookie, and the cookie then admits', () => {
    const { run } = setup({ authToken: TOKEN });
    const nav = ['Sec-Fetch-Mode', 'navigate', 'Accept', 'text/html'];
    const d = responded(run({ path: `/app/page?x=1&burrow_token=${TOKEN}&y=2`, headers: nav }));
    expect(d).toMatchObject({ status: 302, code: 'POLICY_TOKEN_REDIRECT' });
    expect(header(d.headers, 'location')).toEqual(['/app/page?x=1&y=2']);
    const [setCookie] = header(d.headers, 'set-cookie');
    expect(setCookie).toMatch(/^burrow_token=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Lax$/);
    expect(setCookie).not.toContain(TOKEN);
    expect(header(d.headers, 'cache-control')).toEqual(['no-store']);

    const cookie = setCookie!.split(';')[0]!;
    const next = forwarded(
      run({ path: '/app/page?x=1&y=2', headers: ['Cookie', `theme=dark; ${cookie}; sid=9`] }),
    );
    expect(next.requestHeaders).toEqual(['Cookie', 'theme=dark; sid=9']);
    expect(next.path).toBe('/app/page?x=1&y=2');
  });

  it('marks the cookie Secure over HTTPS', () => {
    const { run } = setup({ authToken: TOKEN });
    const d = responded(
      run({ path: `/?burrow_token=${TOKEN}`, headers: ['Sec-Fetch-Mode', 'navigate'], secure: true }),
    );
    expect(header(d.headers, 'set-cookie')[0]).toMatch(/; Secure$/);
  });

  it('forwards a query token from an API client, stripped, with the cookie to set', () => {
    const { run } = setup({ authToken: TOKEN });
    const d = forwarded(
      run({ method: 'POST', path: `/api?burrow_token=${encodeURIComponent(TOKEN)}`, headers: [] }),
    );
    expect(d.path).toBe('/api');
    expect(d.setCookie).toMatch(/^burrow_token=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Lax$/);
    const curl = forwarded(run({ path: `/?burrow_token=${TOKEN}`, headers: ['Accept', '*/*'] }));
    expect(curl.path).toBe('/');
  });

  it('refuses a forged or stale cookie without counting it as a guess', () => {
    const { run } = setup({ authToken: TOKEN });
    for (let i = 0; i < 20; i++) {
      expect(responded(run({ headers: ['Cookie', `burrow_token=${TOKEN}`] })).code).toBe(
        'POLICY_AUTH_REQUIRED',
      );
    }
    expect(run({ headers: ['Authorization', `Bearer ${TOKEN}`] }).action).toBe('forward');
  });

  it('accepts a cookie from another edge only if it shares the secret', () => {
    const a = setup({ authToken: TOKEN });
    const b = setup({ authToken: TOKEN });
    const c = setup({ authToken: TOKEN }, { secret: Buffer.alloc(32, 1) });
    const issued = forwarded(a.run({ path: `/?burrow_token=${TOKEN}` })).setCookie!.split(';')[0]!;
    expect(b.run({ headers: ['Cookie', issued] }).action).toBe('forward');
    expect(c.run({ headers: ['Cookie', issued] }).action).toBe('respond');
  });

  it("keeps the origin's own Authorization header when the cookie admits", () => {
    const { run } = setup({ authToken: TOKEN });
    const cookie = forwarded(run({ path: `/?burrow_token=${TOKEN}` })).setCookie!.split(';')[0]!;
    const d = forwarded(run({ headers: ['Authorization', 'Basic b3JpZ2luOnVzZXI=', 'Cookie', cookie] }));
    expect(d.requestHeaders).toEqual(['Authorization', 'Basic b3JpZ2luOnVzZXI=']);
  });

  it('with basic auth and a token, either admits and both are challenged', () => {
    const { run } = setup({ authToken: TOKEN, basicAuth: [`alice:${PASSWORD}`] });
    expect(header(responded(run()).headers, 'www-authenticate')).toHaveLength(2);
    expect(run({ headers: ['Authorization', basic(`alice:${PASSWORD}`)] }).action).toBe('forward');
    expect(run({ headers: ['Authorization', `Bearer ${TOKEN}`] }).action).toBe('forward');
  });
});

describe('evaluate: header edits and Host', () => {
  it('strips credentials first, then removes and adds request headers', () => {
    const { run } = setup({
      authToken: TOKEN,
      requestHeaderRemove: ['x-remove', 'Cookie'],
      requestHeaderAdd: ['X-Remove: replaced', 'x-Added: 1'],
    });
    const headers = [
      'Authorization',
      `Bearer ${TOKEN}`,
      'X-REMOVE',
      'a',
      'Keep',
      'k',
      'x-remove',
      'b',
      'Cookie',
      'c=1',
    ];
    expect(forwarded(run({ headers })).requestHeaders).toEqual([
      'Keep',
      'k',
      'X-Remove',
      'replaced',
      'x-Added',
      '1',
    ]);
  });

  it('edits response heads', () => {
    const { run } = setup({
      responseHeaderRemove: ['server'],
      responseHeaderAdd: ['Strict-Transport-Security: max-age=60'],
    });
    const edit = forwarded(run()).responseHeaderEdit;
    expect(edit(['Server', 'x', 'Set-Cookie', 'a=1', 'Set-Cookie', 'b=2'])).toEqual([
      'Set-Cookie',
      'a=1',
      'Set-Cookie',
      'b=2',
      'Strict-Transport-Security',
      'max-age=60',
    ]);
  });

  it('leaves Host as the viewer sent it (the agent rewrites it, from its own config)', () => {
    const headers = ['Host', 'abc.tunnel.example.com'];
    expect(forwarded(setup({ requestHeaderAdd: ['X-Env: dev'] }).run({ headers })).requestHeaders).toEqual([
      ...headers,
      'X-Env',
      'dev',
    ]);
  });
});

describe('evaluate: secrecy', () => {
  it('never puts a password or token in any answer', () => {
    const { run, clock } = setup({ basicAuth: [`alice:${PASSWORD}`], authToken: TOKEN, rateLimit: '100/s' });
    const attempts: Partial<PolicyRequest>[] = [
      {},
      { headers: ['Authorization', basic(`alice:${PASSWORD}x`)] },
      { headers: ['Authorization', `Bearer ${TOKEN}x`] },
      { path: `/?burrow_token=${TOKEN}x` },
      { path: `/?burrow_token=${TOKEN}`, headers: ['Sec-Fetch-Mode', 'navigate'] },
      { headers: ['Cookie', `burrow_token=${TOKEN}`] },
      { headers: ['Authorization', basic(`alice:${PASSWORD}`)] },
    ];
    const texts: string[] = [];
    for (let round = 0; round < 3; round++) {
      for (const attempt of attempts) {
        const d = run(attempt);
        texts.push(
          d.action === 'respond' ? JSON.stringify(d) : JSON.stringify({ ...d, setCookie: d.setCookie }),
        );
        if (d.action === 'forward') texts.push(JSON.stringify(d.requestHeaders), d.path);
      }
      clock.advance(1_000);
    }
    expect(texts.some((t) => t.includes('POLICY_AUTH_LOCKED'))).toBe(true);
    const all = texts.join('\n');
    for (const secret of [PASSWORD, TOKEN, Buffer.from(`alice:${PASSWORD}`).toString('base64')]) {
      expect(all).not.toContain(secret);
    }
  });
});
