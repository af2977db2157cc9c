import { describe, expect, it } from 'vitest';
import { HostRouter, normalizeHost } from './host-router.js';

describe('HostRouter', () => {
  const router = new HostRouter('Burrow.Test');

  it('routes <name>.<domain> to the tunnel, case and port aside', () => {
    expect(router.route('Demo.burrow.test:8080', '/a?b')).toEqual({
      kind: 'tunnel',
      name: 'demo',
      path: '/a?b',
      prefix: null,
    });
  });

  it('routes /t/<name>/ on the edge host to the tunnel, prefix kept for rewriting', () => {
    expect(router.route('burrow.test', '/t/Demo/x/y')).toEqual({
      kind: 'tunnel',
      name: 'demo',
      path: '/x/y',
      prefix: '/t/demo',
    });
    expect(router.route('127.0.0.1:80', '/t/demo?q=1')).toMatchObject({ name: 'demo', path: '/?q=1' });
  });

  it("keeps the edge's own paths, on its host, IP literals and localhost", () => {
    for (const host of ['burrow.test', '127.0.0.1', '[::1]:80', 'localhost', undefined]) {
      expect(router.route(host, '/health')).toEqual({ kind: 'edge', path: '/health' });
    }
    expect(router.route('burrow.test', '/t/')).toEqual({ kind: 'edge', path: '/t/' });
  });

  it('calls deeper names and foreign hosts unknown', () => {
    expect(router.route('a.b.burrow.test', '/')).toEqual({ kind: 'unknown-host', host: 'a.b.burrow.test' });
    expect(router.route('example.com.', '/')).toEqual({ kind: 'unknown-host', host: 'example.com' });
  });

  it('normalizes hosts', () => {
    expect(normalizeHost(' [::1]:443 ')).toBe('[::1]');
    expect(normalizeHost('Demo.Burrow.Test.')).toBe('demo.burrow.test');
    expect(normalizeHost(undefined)).toBe('');
  });
});
