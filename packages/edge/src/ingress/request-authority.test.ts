import { describe, expect, it } from 'vitest';
import { TunnelError } from '@burrow/protocol';
import { checkRequestTarget, parseAuthority, type RequestHead } from './request-authority.js';

describe('parseAuthority', () => {
  it.each<[string, { host: string; port: number | null }]>([
    ['a.localhost', { host: 'a.localhost', port: null }],
    ['A.LocalHost:8080', { host: 'a.localhost', port: 8080 }],
    ['a.example.org.', { host: 'a.example.org', port: null }],
    ['my_host-1.example', { host: 'my_host-1.example', port: null }],
    ['127.0.0.1:1', { host: '127.0.0.1', port: 1 }],
    ['[::1]', { host: '[::1]', port: null }],
    ['[2001:DB8::1]:65535', { host: '[2001:db8::1]', port: 65535 }],
  ])('accepts %j', (text, expected) => {
    expect(parseAuthority(text)).toEqual(expected);
  });

  it.each([
    '',
    'a.localhost:1@b.localhost',
    'u@a.localhost',
    'a.localhost:80x',
    'a.localhost:',
    'a.localhost:0',
    'a.localhost:65536',
    'a.localhost:123456',
    'a.localhost,b.localhost',
    'a.localhost:80,b.localhost',
    'a..localhost',
    '-a.localhost',
    'a b',
    '999.1.1.1',
    '1.2.3',
    '[::1',
    '[not-ip]',
    '[::1]x',
    '::1',
    `${'a'.repeat(64)}.localhost`,
    'a%2e.localhost',
  ])('refuses %j', (text) => {
    expect(parseAuthority(text)).toBeNull();
  });
});

function head(url: string, rawHeaders: string[], version = '1.1', method = 'GET'): RequestHead {
  const [major, minor] = version.split('.').map(Number);
  return { url, method, httpVersionMajor: major!, httpVersionMinor: minor!, rawHeaders };
}

function code(result: ReturnType<typeof checkRequestTarget>): string | null {
  return result instanceof TunnelError ? result.code : null;
}

describe('checkRequestTarget', () => {
  it('passes an origin-form request with one valid Host', () => {
    expect(checkRequestTarget(head('/x?y', ['Host', 'a.localhost:80']))).toEqual({
      authority: { host: 'a.localhost', port: 80 },
      hostHeader: 'a.localhost:80',
      path: '/x?y',
    });
  });

  it('refuses duplicate, missing (HTTP/1.1) and invalid Host with TUN_ERR_BAD_REQUEST (400)', () => {
    const twice = checkRequestTarget(head('/', ['Host', 'a.localhost', 'host', 'a.localhost']));
    expect(twice).toBeInstanceOf(TunnelError);
    expect((twice as TunnelError).status).toBe(400);
    expect(code(twice)).toBe('TUN_ERR_BAD_REQUEST');
    expect(code(checkRequestTarget(head('/', [])))).toBe('TUN_ERR_BAD_REQUEST');
    expect(code(checkRequestTarget(head('/', ['Host', 'a.localhost:1@b.localhost'])))).toBe(
      'TUN_ERR_BAD_REQUEST',
    );
  });

  it('takes an HTTP/2 authority from :authority; a Host beside it must agree', () => {
    const pseudo = [
      ':method',
      'GET',
      ':path',
      '/p',
      ':scheme',
      'https',
      ':authority',
      'App.burrow.test:8443',
    ];
    expect(checkRequestTarget(head('/p', pseudo, '2.0'))).toEqual({
      authority: { host: 'app.burrow.test', port: 8443 },
      hostHeader: 'App.burrow.test:8443',
      path: '/p',
    });
    expect(checkRequestTarget(head('/p', [...pseudo, 'host', 'app.burrow.test:8443'], '2.0'))).toMatchObject({
      authority: { host: 'app.burrow.test' },
    });
    expect(code(checkRequestTarget(head('/p', [...pseudo, 'host', 'other.burrow.test'], '2.0')))).toBe(
      'TUN_ERR_BAD_REQUEST',
    );
    const missing = checkRequestTarget(head('/p', [':method', 'GET', ':path', '/p'], '2.0'));
    expect((missing as TunnelError).message).toContain(':authority');
  });

  it('lets HTTP/1.0 go without Host (the edge answers it itself)', () => {
    expect(checkRequestTarget(head('/', [], '1.0'))).toEqual({ authority: null, hostHeader: '', path: '/' });
  });

  it('turns an agreeing absolute-form target into origin-form', () => {
    const h = ['Host', 'a.localhost'];
    expect(checkRequestTarget(head('http://A.localhost/x?q=1', h))).toMatchObject({ path: '/x?q=1' });
    expect(checkRequestTarget(head('http://a.localhost:80', h))).toMatchObject({ path: '/' });
    expect(checkRequestTarget(head('https://a.localhost:443?q', h))).toMatchObject({ path: '/?q' });
    expect(checkRequestTarget(head('http://a.localhost/x#frag', h))).toMatchObject({ path: '/x' });
  });

  it('refuses absolute-form targets that disagree with Host, carry userinfo, or another scheme', () => {
    const h = ['Host', 'a.localhost:8080'];
    for (const url of [
      'http://b.localhost:8080/x',
      'http://a.localhost/x',
      'http://a.localhost:8081/x',
      'http://u@a.localhost:8080/x',
      'ftp://a.localhost:8080/x',
      'x',
      '*',
    ]) {
      expect(code(checkRequestTarget(head(url, h))), url).toBe('TUN_ERR_BAD_REQUEST');
    }
    expect(checkRequestTarget(head('*', h, '1.1', 'OPTIONS'))).toMatchObject({ path: '*' });
  });
});
