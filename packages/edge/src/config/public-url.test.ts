import { describe, expect, it } from 'vitest';
import type { EdgeConfig } from './edge-config.js';
import { edgeBaseUrl, tunnelUrl } from './public-url.js';

function settings(
  scheme: 'http' | 'https',
  port: number | null,
  domain = 'tunnel.example.com',
): Pick<EdgeConfig, 'domain' | 'publicUrl'> {
  return { domain, publicUrl: { scheme, port } };
}

describe('tunnelUrl', () => {
  it('uses the actual listen port when publicUrl.port is unset', () => {
    expect(tunnelUrl(settings('http', null, 'localhost'), 'k3xnz3', 8080)).toBe(
      'http://k3xnz3.localhost:8080',
    );
  });

  it('omits port 80 for http and 443 for https', () => {
    expect(tunnelUrl(settings('http', null), 'web', 80)).toBe('http://web.tunnel.example.com');
    expect(tunnelUrl(settings('https', 443), 'web', 8080)).toBe('https://web.tunnel.example.com');
  });

  it('keeps a port that is not the default for its scheme', () => {
    expect(tunnelUrl(settings('https', 80), 'web', 8080)).toBe('https://web.tunnel.example.com:80');
    expect(tunnelUrl(settings('http', 443), 'web', 8080)).toBe('http://web.tunnel.example.com:443');
  });

  it('prefers publicUrl.port over the actual port (edge behind a proxy)', () => {
    expect(tunnelUrl(settings('https', 8443), 'web', 8080)).toBe('https://web.tunnel.example.com:8443');
  });
});

describe('edgeBaseUrl', () => {
  it('formats the edge itself without a tunnel label', () => {
    expect(edgeBaseUrl(settings('http', null, 'localhost'), 8080)).toBe('http://localhost:8080');
    expect(edgeBaseUrl(settings('https', null), 443)).toBe('https://tunnel.example.com');
  });
});
