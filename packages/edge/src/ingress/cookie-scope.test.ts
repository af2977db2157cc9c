import { describe, expect, it } from 'vitest';
import { scopeSetCookie } from './cookie-scope.js';

describe('scopeSetCookie', () => {
  const host = 'app.tunnel.example';

  it('removes a Domain naming the base domain, a parent, or another tunnel', () => {
    expect(scopeSetCookie('a=1; Domain=tunnel.example; Path=/', host)).toBe('a=1; Path=/');
    expect(scopeSetCookie('a=1; domain=.TUNNEL.example', host)).toBe('a=1');
    expect(scopeSetCookie('a=1; Domain=example', host)).toBe('a=1');
    expect(scopeSetCookie('a=1; Secure; DOMAIN = other.tunnel.example; HttpOnly', host)).toBe(
      'a=1; Secure; HttpOnly',
    );
  });

  it("keeps a Domain equal to the tunnel's own host, and cookies without one", () => {
    expect(scopeSetCookie('a=1; Domain=App.Tunnel.Example', host)).toBe('a=1; Domain=App.Tunnel.Example');
    expect(scopeSetCookie('a=1; Domain=.app.tunnel.example', host)).toBe('a=1; Domain=.app.tunnel.example');
    expect(scopeSetCookie('domain=1; Path=/', host)).toBe('domain=1; Path=/');
  });

  it('removes every Domain when the tunnel has no host of its own (path-routed)', () => {
    expect(scopeSetCookie('a=1; Domain=app.tunnel.example', null)).toBe('a=1');
  });

  it('does not touch a value that merely contains the word domain', () => {
    expect(scopeSetCookie('a=domain=x; Path=/domain', host)).toBe('a=domain=x; Path=/domain');
  });
});
