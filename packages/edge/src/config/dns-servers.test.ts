import { describe, expect, it } from 'vitest';
import { parseDnsServers } from './dns-servers.js';

describe('parseDnsServers', () => {
  it('accepts ip and ip:port entries from a comma string or a list', () => {
    expect(parseDnsServers('127.0.0.1:5353, 9.9.9.9')).toEqual({
      ok: true,
      servers: ['127.0.0.1:5353', '9.9.9.9'],
    });
    expect(parseDnsServers(['::1', '[2001:db8::1]:53', '1.1.1.1,8.8.8.8'])).toEqual({
      ok: true,
      servers: ['::1', '[2001:db8::1]:53', '1.1.1.1', '8.8.8.8'],
    });
  });

  it('reads an empty string or list as the system resolver', () => {
    expect(parseDnsServers('')).toEqual({ ok: true, servers: [] });
    expect(parseDnsServers([])).toEqual({ ok: true, servers: [] });
  });

  it('refuses host names, bad ports and unbracketed IPv6 with a port, naming the entry', () => {
    const named = parseDnsServers('dns.example.org');
    expect(named.ok).toBe(false);
    expect(!named.ok && named.requirement).toMatch(/"dns.example.org": not an IP address/);
    expect(parseDnsServers('127.0.0.1:0').ok).toBe(false);
    expect(parseDnsServers('127.0.0.1:70000').ok).toBe(false);
    expect(parseDnsServers('[1.2.3.4]:53').ok).toBe(false);
  });
});
