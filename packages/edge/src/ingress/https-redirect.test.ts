import { describe, expect, it } from 'vitest';
import { httpsRedirectLocation } from './https-redirect.js';

const tunnel = { kind: 'tunnel' } as const;
const edge = { kind: 'edge' } as const;
const custom = { kind: 'custom-domain' } as const;
const unknown = { kind: 'unknown-host' } as const;
const at = (host: string, port: number | null = 8080) => ({ host, port });

describe('httpsRedirectLocation', () => {
  it('sends tunnel hosts and custom domains to https, same host and path, with the HTTPS port', () => {
    expect(httpsRedirectLocation('tunnels', tunnel, at('app.example.com'), '/a?b=1', 8443)).toBe(
      'https://app.example.com:8443/a?b=1',
    );
    expect(httpsRedirectLocation('tunnels', custom, at('shop.example.org', null), '/', 443)).toBe(
      'https://shop.example.org/',
    );
    expect(httpsRedirectLocation('tunnels', tunnel, at('[::1]'), '/x', 8443)).toBe('https://[::1]:8443/x');
  });

  it('leaves hosts that are not ours alone in tunnels mode (their 404 stays), redirects them with all', () => {
    expect(httpsRedirectLocation('tunnels', unknown, at('evil.example'), '/', 443)).toBeNull();
    expect(httpsRedirectLocation('all', unknown, at('evil.example'), '/', 443)).toBe('https://evil.example/');
  });

  it('leaves the edge host alone unless the mode is all', () => {
    expect(httpsRedirectLocation('tunnels', edge, at('example.com'), '/api/v1/me', 443)).toBeNull();
    expect(httpsRedirectLocation('all', edge, at('example.com'), '/api/v1/me', 443)).toBe(
      'https://example.com/api/v1/me',
    );
  });

  it('redirects nothing when off, nothing without a Host, and never an ACME challenge', () => {
    expect(httpsRedirectLocation('off', tunnel, at('app.example.com'), '/', 443)).toBeNull();
    expect(httpsRedirectLocation('all', tunnel, null, '/', 443)).toBeNull();
    expect(
      httpsRedirectLocation('all', tunnel, at('app.example.com'), '/.well-known/acme-challenge/tok', 443),
    ).toBeNull();
  });
});
