import { describe, expect, it } from 'vitest';
import { TrustedProxies } from './trusted-proxies.js';

const LB = '10.0.0.5';
const trusted = TrustedProxies.parse(['10.0.0.0/8', '2001:db8:ffff::/48']);

function client(peer: string, headers: Record<string, string | string[]>, proxies = trusted): string {
  const raw: string[] = [];
  for (const [name, value] of Object.entries(headers)) {
    for (const v of Array.isArray(value) ? value : [value]) raw.push(name, v);
  }
  return proxies.clientAddress(peer, raw);
}

describe('TrustedProxies.parse', () => {
  it('takes addresses and CIDR blocks, IPv4 and IPv6', () => {
    expect(TrustedProxies.parse(['192.0.2.1', '10.0.0.0/8', '::1', '2001:db8::/32']).size).toBe(4);
  });

  it('refuses an entry that is not an address or block, naming it', () => {
    expect(() => TrustedProxies.parse(['10.0.0.0/8', 'lb.internal'])).toThrow(/lb\.internal/);
    expect(() => TrustedProxies.parse(['10.0.0.0/33'])).toThrow(/10\.0\.0\.0\/33/);
  });
});

describe('X-Forwarded-For from a trusted peer', () => {
  it.each<[string, string, string]>([
    ['one hop', '203.0.113.7', '203.0.113.7'],
    ['the right-most untrusted address, not a forged left one', '1.2.3.4, 203.0.113.7', '203.0.113.7'],
    ['past trusted hops on the right', '1.2.3.4, 203.0.113.7, 10.1.1.1, 10.2.2.2', '203.0.113.7'],
    ['spaces and empty entries ignored', ' 203.0.113.7 ,, ', '203.0.113.7'],
    ['an IPv4 address with a port', '203.0.113.7:5555', '203.0.113.7'],
    ['IPv6, bare', '2001:db8::9', '2001:db8::9'],
    ['IPv6, bracketed with a port', '[2001:db8::9]:443', '2001:db8::9'],
    ['IPv4-mapped IPv6 as IPv4', '::ffff:203.0.113.7', '203.0.113.7'],
    ['every hop trusted: the left-most', '10.9.9.9, 10.1.1.1', '10.9.9.9'],
    ['an invalid entry reached: the peer', 'garbage, 10.1.1.1', LB],
    ['a host name: the peer', 'client.example', LB],
    ['an invalid right-most entry: the peer', '203.0.113.7, unknown', LB],
  ])('%s', (_, xff, expected) => {
    expect(client(LB, { 'X-Forwarded-For': xff })).toBe(expected);
  });

  it('reads repeated X-Forwarded-For fields as one list, in order', () => {
    expect(client(LB, { 'X-Forwarded-For': ['198.51.100.1', '203.0.113.7, 10.1.1.1'] })).toBe('203.0.113.7');
  });

  it('uses X-Forwarded-For over Forwarded when both are sent', () => {
    expect(client(LB, { 'X-Forwarded-For': '203.0.113.7', Forwarded: 'for=198.51.100.1' })).toBe(
      '203.0.113.7',
    );
  });

  it('stops after 64 hops and falls back to the peer', () => {
    const many = Array.from({ length: 70 }, (_, i) => `10.0.${i >> 8}.${i & 255}`).join(', ');
    expect(client(LB, { 'X-Forwarded-For': `203.0.113.7, ${many}` })).toBe(LB);
  });

  it('trusts an IPv6 peer by its block', () => {
    expect(client('2001:db8:ffff::1', { 'X-Forwarded-For': '203.0.113.7' })).toBe('203.0.113.7');
  });
});

describe('Forwarded (RFC 7239) from a trusted peer', () => {
  it.each<[string, string, string]>([
    ['for= of one element', 'for=203.0.113.7', '203.0.113.7'],
    ['case-insensitive names, other parameters', 'Proto=https;FOR=203.0.113.7;by=10.0.0.5', '203.0.113.7'],
    ['the right-most untrusted element', 'for=1.2.3.4, for=203.0.113.7, for=10.1.1.1', '203.0.113.7'],
    ['quoted IPv6 in brackets with a port', 'for="[2001:db8::9]:4711"', '2001:db8::9'],
    ['quoted IPv4 with a port', 'for="203.0.113.7:80"', '203.0.113.7'],
    ['a quoted comma does not split elements', 'for=203.0.113.7;host="a,b", for=10.1.1.1', '203.0.113.7'],
    ['an obfuscated identifier: the peer', 'for=203.0.113.7, for=_hidden', LB],
    ['unknown: the peer', 'for=unknown', LB],
    ['an element without for=: the peer', 'proto=https', LB],
    ['an unclosed quote: the peer', 'for="203.0.113.7', LB],
  ])('%s', (_, forwarded, expected) => {
    expect(client(LB, { Forwarded: forwarded })).toBe(expected);
  });
});

describe('headers never believed', () => {
  it.each<[string, Record<string, string>]>([
    ['X-Forwarded-For from an untrusted peer', { 'X-Forwarded-For': '1.2.3.4' }],
    ['Forwarded from an untrusted peer', { Forwarded: 'for=1.2.3.4' }],
    ['X-Real-IP, from anyone', { 'X-Real-IP': '1.2.3.4' }],
  ])('%s', (_, headers) => {
    expect(client('198.51.100.20', headers)).toBe('198.51.100.20');
  });

  it('with an empty trust list, the peer is the client whatever it sends', () => {
    const none = TrustedProxies.parse([]);
    expect(client(LB, { 'X-Forwarded-For': '1.2.3.4' }, none)).toBe(LB);
    expect(none.trusts(LB)).toBe(false);
  });

  it('a trusted peer sending no forwarding header is the client itself', () => {
    expect(client(LB, {})).toBe(LB);
  });
});
