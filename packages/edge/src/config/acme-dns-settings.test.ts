// The acme.dns settings: where DNS-01 records are published (RFC 2136 or an exec hook).
import { TunnelError } from '@burrow/protocol';
import { describe, expect, it } from 'vitest';
import type { EdgeFlags, Env } from './edge-config.js';
import { loadEdgeConfig } from './load-edge-config.js';

const SECRET = 'c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3I=';

function load(opts: { flags?: EdgeFlags; env?: Env } = {}) {
  return loadEdgeConfig({ flags: opts.flags ?? {}, env: opts.env ?? {}, cwd: '/' });
}

function failure(opts: { flags?: EdgeFlags; env?: Env }): string {
  try {
    load(opts);
  } catch (err) {
    expect(err).toBeInstanceOf(TunnelError);
    expect((err as TunnelError).code).toBe('TUN_ERR_CONFIG_INVALID');
    return (err as TunnelError).message;
  }
  throw new Error('expected loadEdgeConfig to throw');
}

describe('acme.dns settings', () => {
  it('default to no DNS-01 publishing at all', () => {
    expect(load().acme.dns).toEqual({
      server: null,
      zone: null,
      tsigKeyName: null,
      tsigAlgorithm: 'hmac-sha256',
      tsigSecret: null,
      propagationTimeoutMs: 120_000,
      hook: null,
      hookTimeoutMs: 180_000,
    });
  });

  it('take an RFC 2136 server from flags and the secret from the environment', () => {
    const dns = load({
      flags: {
        acmeDnsServer: '127.0.0.1:5353',
        acmeDnsZone: 'Tunnel.Example.com',
        acmeDnsTsigKeyName: 'burrow',
      },
      env: { BURROW_ACME_DNS_TSIG_SECRET: SECRET, BURROW_ACME_DNS_TSIG_ALGORITHM: 'hmac-sha512' },
    }).acme.dns;
    expect(dns).toMatchObject({
      server: { host: '127.0.0.1', port: 5353 },
      zone: 'tunnel.example.com.',
      tsigKeyName: 'burrow',
      tsigAlgorithm: 'hmac-sha512',
      tsigSecret: SECRET,
    });
    expect(
      load({
        flags: { acmeDnsServer: '[::1]:53' },
        env: { BURROW_ACME_DNS_TSIG_KEY_NAME: 'k', BURROW_ACME_DNS_TSIG_SECRET: SECRET },
      }).acme.dns.server,
    ).toEqual({ host: '::1', port: 53 });
    expect(
      load({
        flags: { acmeDnsServer: '192.0.2.1' },
        env: { BURROW_ACME_DNS_TSIG_KEY_NAME: 'k', BURROW_ACME_DNS_TSIG_SECRET: SECRET },
      }).acme.dns.server,
    ).toEqual({ host: '192.0.2.1', port: 53 });
  });

  it('refuse a server that is not an IP address with an optional port', () => {
    expect(failure({ flags: { acmeDnsServer: 'ns1.example.com' } })).toMatch(
      /acme\.dns\.server \(from flag --acme-dns-server\) must be an IP address/,
    );
  });

  it('need the key name and secret with a server, never echoing the secret', () => {
    expect(failure({ flags: { acmeDnsServer: '127.0.0.1' } })).toMatch(
      /acme\.dns\.tsigKeyName .*must be set when acme\.dns\.server is set/,
    );
    const bad = failure({
      flags: { acmeDnsServer: '127.0.0.1', acmeDnsTsigKeyName: 'k' },
      env: { BURROW_ACME_DNS_TSIG_SECRET: 'not base64!' },
    });
    expect(bad).toMatch(/acme\.dns\.tsigSecret .*must be base64/);
    expect(bad).not.toContain('not base64!');
  });

  it('refuse a server and a hook together, and a relative hook path', () => {
    expect(
      failure({
        flags: {
          acmeDnsServer: '127.0.0.1',
          acmeDnsTsigKeyName: 'k',
          acmeDnsHook: '/usr/local/bin/dns-hook',
        },
        env: { BURROW_ACME_DNS_TSIG_SECRET: SECRET },
      }),
    ).toMatch(/acme\.dns\.hook .*must be unset when acme\.dns\.server is set/);
    expect(failure({ flags: { acmeDnsHook: 'dns-hook.sh' } })).toMatch(
      /acme\.dns\.hook .*must be an absolute path/,
    );
  });

  it('bound the waits', () => {
    expect(failure({ env: { BURROW_ACME_DNS_PROPAGATION_TIMEOUT_MS: '10' } })).toMatch(
      /acme\.dns\.propagationTimeoutMs/,
    );
    expect(load({ env: { BURROW_ACME_DNS_HOOK_TIMEOUT_MS: '5000' } }).acme.dns.hookTimeoutMs).toBe(5_000);
  });
});
