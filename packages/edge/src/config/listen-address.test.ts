import { describe, expect, it } from 'vitest';
import { parseListenAddress } from './listen-address.js';

function ok(text: string) {
  const parsed = parseListenAddress(text);
  if (!parsed.ok) throw new Error(`expected ${text} to parse, got: ${parsed.requirement}`);
  return parsed.address;
}

function problem(text: string): string {
  const parsed = parseListenAddress(text);
  if (parsed.ok) throw new Error(`expected ${text} to fail, got ${JSON.stringify(parsed.address)}`);
  return parsed.requirement;
}

describe('parseListenAddress', () => {
  it('reads HOST:PORT', () => {
    expect(ok('127.0.0.1:9000')).toEqual({ host: '127.0.0.1', port: 9000 });
    expect(ok('LocalHost:80')).toEqual({ host: 'localhost', port: 80 });
  });

  it('reads a bracketed IPv6 host and strips the brackets', () => {
    expect(ok('[::1]:8080')).toEqual({ host: '::1', port: 8080 });
    expect(ok('[::]:443')).toEqual({ host: '::', port: 443 });
  });

  it('treats ":PORT" and a bare port as all IPv4 interfaces', () => {
    expect(ok(':8080')).toEqual({ host: '0.0.0.0', port: 8080 });
    expect(ok('8081')).toEqual({ host: '0.0.0.0', port: 8081 });
  });

  it('allows port 0 so tests can ask for an ephemeral port', () => {
    expect(ok('127.0.0.1:0')).toEqual({ host: '127.0.0.1', port: 0 });
  });

  it('rejects a port above 65535', () => {
    expect(problem('0.0.0.0:65536')).toContain('the port must be from 0 to 65535');
  });

  it('rejects a missing or non-numeric port', () => {
    expect(problem('localhost')).toContain('the port is missing');
    expect(problem('localhost:http')).toContain('the port must be digits');
    expect(problem('localhost:')).toContain('the port must be digits');
  });

  it('asks for brackets around an IPv6 host', () => {
    expect(problem('::1:8080')).toContain('IPv6 hosts need brackets');
  });

  it('rejects brackets around something that is not IPv6', () => {
    expect(problem('[localhost]:8080')).toContain('brackets must hold an IPv6 address');
  });

  it('rejects invalid host names and impossible IPv4 addresses', () => {
    expect(problem('bad_host:8080')).toContain('the host is not a valid name or IP address');
    expect(problem('999.1.1.1:8080')).toContain('the host is not a valid name or IP address');
  });

  it('states the expected format in every problem', () => {
    expect(problem('nope')).toMatch(/^a "host:port" address such as 0\.0\.0\.0:8080/);
  });
});
