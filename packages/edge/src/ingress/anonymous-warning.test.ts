import { describe, expect, it } from 'vitest';
import {
  WarningCookies,
  isContinueRequest,
  isSameOriginPost,
  renderWarningPage,
  safeReturnTarget,
  wantsWarning,
} from './anonymous-warning.js';

const cookies = new WarningCookies(new Uint8Array(32).fill(1));
const OK = cookies.value('app', 'app.localhost');

const chromeNav = [
  'Accept',
  'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8',
  'Sec-Fetch-Mode',
  'navigate',
  'Sec-Fetch-Dest',
  'document',
];

describe('wantsWarning: which requests get the page', () => {
  it.each<[string, string, string[], boolean]>([
    ['a browser navigation', 'GET', chromeNav, true],
    ['a navigation without Sec-Fetch-* (older browser) accepting HTML', 'GET', ['Accept', 'text/html'], true],
    [
      'Sec-Fetch-Mode navigate even with a generic Accept',
      'GET',
      ['Accept', '*/*', 'Sec-Fetch-Mode', 'navigate'],
      true,
    ],
    ['curl (Accept */*)', 'GET', ['Accept', '*/*', 'User-Agent', 'curl/8.5.0'], false],
    ['an API client without Accept', 'GET', [], false],
    ['a JSON API client', 'GET', ['Accept', 'application/json'], false],
    ['fetch() asking for HTML', 'GET', ['Accept', 'text/html', 'Sec-Fetch-Mode', 'cors'], false],
    ['a no-cors subresource', 'GET', ['Accept', 'text/html', 'Sec-Fetch-Mode', 'no-cors'], false],
    ['a same-origin fetch', 'GET', ['Accept', 'text/html', 'Sec-Fetch-Mode', 'same-origin'], false],
    ['a form POST navigation (webhooks post too)', 'POST', chromeNav, false],
    ['HEAD', 'HEAD', chromeNav, false],
    ['a WebSocket upgrade', 'GET', [...chromeNav, 'Upgrade', 'websocket'], false],
    ['the owner skip header', 'GET', [...chromeNav, 'Burrow-Skip-Warning', '1'], false],
    ['the cookie after Continue', 'GET', [...chromeNav, 'Cookie', `a=b; burrow_warning_ok=${OK}`], false],
    [
      'the cookie in a second Cookie header',
      'GET',
      [...chromeNav, 'Cookie', 'a=b', 'cookie', `burrow_warning_ok=${OK}`],
      false,
    ],
    ['a cookie with another value', 'GET', [...chromeNav, 'Cookie', 'burrow_warning_ok=0'], true],
    ['the old constant cookie', 'GET', [...chromeNav, 'Cookie', 'burrow_warning_ok=1'], true],
    ['a look-alike cookie name', 'GET', [...chromeNav, 'Cookie', `xburrow_warning_ok=${OK}`], true],
  ])('%s → %s', (_what, method, headers, expected) => {
    expect(wantsWarning({ method, headers, cookie: OK })).toBe(expected);
  });
});

describe('WarningCookies: signed per tunnel and host', () => {
  it('gives each tunnel and host its own value, stable for one key and unknown without it', () => {
    const a = cookies.value('app', 'app.localhost');
    expect(a).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(cookies.value('app', 'app.localhost')).toBe(a);
    expect(cookies.value('other', 'other.localhost')).not.toBe(a);
    expect(cookies.value('app', 'app.example.org')).not.toBe(a);
    expect(new WarningCookies(new Uint8Array(32).fill(7)).value('app', 'app.localhost')).not.toBe(a);
  });

  it("one tunnel's cookie does not skip the warning on another", () => {
    const headers = [...chromeNav, 'Cookie', `burrow_warning_ok=${cookies.value('one', 'one.localhost')}`];
    expect(wantsWarning({ method: 'GET', headers, cookie: cookies.value('one', 'one.localhost') })).toBe(
      false,
    );
    expect(wantsWarning({ method: 'GET', headers, cookie: cookies.value('two', 'two.localhost') })).toBe(
      true,
    );
  });
});

describe('isContinueRequest', () => {
  it('matches only POST /_burrow/continue', () => {
    expect(isContinueRequest('POST', '/_burrow/continue?to=%2F')).toBe(true);
    expect(isContinueRequest('POST', '/_burrow/continue')).toBe(true);
    expect(isContinueRequest('GET', '/_burrow/continue?to=%2F')).toBe(false);
    expect(isContinueRequest('POST', '/_burrow/continuex')).toBe(false);
  });
});

describe('safeReturnTarget: never an open redirect', () => {
  it.each<[string | null, string | null, string]>([
    ['/page?x=1', null, '/page?x=1'],
    ['/', null, '/'],
    ['//evil.example/', null, '/'],
    ['/\\evil.example/', null, '/'],
    ['/\t/evil.example', null, '/'],
    ['https://evil.example/', null, '/'],
    ['evil.example', null, '/'],
    ['/a b', null, '/'],
    ['/a\r\nSet-Cookie: x=1', null, '/'],
    [null, null, '/'],
    ['/t/app/page', '/t/app', '/t/app/page'],
    ['/t/app?x=1', '/t/app', '/t/app?x=1'],
    ['/t/other/page', '/t/app', '/t/app/'],
    ['/t/appx/page', '/t/app', '/t/app/'],
  ])('%j (prefix %j) → %j', (to, prefix, expected) => {
    expect(safeReturnTarget(to, prefix)).toBe(expected);
  });
});

describe('isSameOriginPost', () => {
  it('trusts Sec-Fetch-Site first, then Origin, and a client sending neither', () => {
    expect(isSameOriginPost(['Sec-Fetch-Site', 'same-origin'], 'a.localhost:8080')).toBe(true);
    expect(isSameOriginPost(['Sec-Fetch-Site', 'cross-site'], 'a.localhost:8080')).toBe(false);
    expect(isSameOriginPost(['Sec-Fetch-Site', 'same-site'], 'a.localhost:8080')).toBe(false);
    expect(isSameOriginPost(['Origin', 'http://a.localhost:8080'], 'A.localhost:8080')).toBe(true);
    expect(isSameOriginPost(['Origin', 'http://b.localhost:8080'], 'a.localhost:8080')).toBe(false);
    expect(isSameOriginPost(['Origin', 'null'], 'a.localhost:8080')).toBe(false);
    expect(isSameOriginPost([], 'a.localhost:8080')).toBe(true);
  });
});

describe('renderWarningPage', () => {
  it('names the host, escapes it, and posts Continue to the same host with the return path', () => {
    const html = renderWarningPage({ host: 'x.localhost"><script>', returnTo: '/p?q=1&r=2', prefix: null });
    expect(html).toContain('served through a Burrow tunnel by an anonymous user');
    expect(html).toContain('Do not enter passwords or personal data');
    expect(html).not.toContain('<script>');
    expect(html).toContain('action="/_burrow/continue?to=%2Fp%3Fq%3D1%26r%3D2"');
  });

  it('keeps path-routed tunnels under their prefix and drops unsafe or huge targets', () => {
    expect(renderWarningPage({ host: 'h', returnTo: '/t/app/x', prefix: '/t/app' })).toContain(
      'action="/t/app/_burrow/continue?to=%2Ft%2Fapp%2Fx"',
    );
    expect(renderWarningPage({ host: 'h', returnTo: '//evil', prefix: null })).toContain('to=%2F"');
    expect(renderWarningPage({ host: 'h', returnTo: `/${'a'.repeat(5000)}`, prefix: null })).toContain(
      'to=%2F"',
    );
  });
});
