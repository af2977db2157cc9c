import { describe, expect, it } from 'vitest';
import { cidrContains, clientKey, IpRules, parseCidr, parseIp, type Cidr } from './cidr.js';

function block(text: string): Cidr {
  const cidr = parseCidr(text);
  if (cidr === null) throw new Error(`test block ${text} did not parse`);
  return cidr;
}

function inBlock(cidr: string, ip: string): boolean {
  const addr = parseIp(ip);
  if (addr === null) throw new Error(`test address ${ip} did not parse`);
  return cidrContains(block(cidr), addr);
}

function rules(allow: string[], deny: string[]): IpRules {
  return new IpRules(allow.map(block), deny.map(block));
}

describe('parseIp', () => {
  it('reads IPv4 and IPv6, dropping an IPv6 zone', () => {
    expect(parseIp('203.0.113.7')).toMatchObject({ family: 4, text: '203.0.113.7' });
    expect(parseIp('2001:DB8::1')).toMatchObject({ family: 6, text: '2001:db8::1' });
    expect(parseIp('fe80::1%eth0')).toMatchObject({ family: 6, text: 'fe80::1' });
  });

  it('turns IPv4-mapped IPv6 into the IPv4 address', () => {
    const ip = parseIp('::ffff:198.51.100.9');
    expect(ip).toMatchObject({ family: 4, text: '198.51.100.9' });
    expect([...ip!.bytes]).toEqual([198, 51, 100, 9]);
    expect(parseIp('::ffff:c633:6409')?.text).toBe('198.51.100.9');
  });

  it('expands :: and trailing dotted quads to the right bytes', () => {
    expect([...parseIp('1:2::8')!.bytes]).toEqual([0, 1, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 8]);
    expect([...parseIp('64:ff9b::192.0.2.33')!.bytes].slice(12)).toEqual([192, 0, 2, 33]);
  });

  it('refuses what is not an address, and IPv4 with leading zeros', () => {
    for (const bad of ['', 'localhost', '1.2.3', '1.2.3.256', '010.0.0.1', '1::2::3', '12345::']) {
      expect(parseIp(bad), bad).toBeNull();
    }
  });
});

describe('parseCidr', () => {
  it('reads blocks and bare addresses, clearing host bits', () => {
    expect(block('10.1.2.3/8')).toMatchObject({ family: 4, prefix: 8 });
    expect([...block('10.1.2.3/8').bytes]).toEqual([10, 0, 0, 0]);
    expect(block('192.0.2.1')).toMatchObject({ family: 4, prefix: 32 });
    expect(block('2001:db8::/32')).toMatchObject({ family: 6, prefix: 32 });
    expect(block('::1')).toMatchObject({ family: 6, prefix: 128 });
  });

  it('turns a mapped IPv6 block of /96 or longer into the IPv4 block', () => {
    expect(block('::ffff:192.0.2.0/120')).toMatchObject({ family: 4, prefix: 24 });
    expect(inBlock('::ffff:192.0.2.0/120', '192.0.2.77')).toBe(true);
  });

  it('refuses bad prefixes, zones and garbage', () => {
    for (const bad of [
      '10.0.0.0/33',
      '::/129',
      '10.0.0.0/',
      '10.0.0.0/08',
      '10.0.0.0/-1',
      'fe80::1%eth0/64',
      'x/8',
    ]) {
      expect(parseCidr(bad), bad).toBeNull();
    }
  });
});

describe('cidrContains', () => {
  it('matches IPv4 blocks on and off byte boundaries', () => {
    expect(inBlock('10.0.0.0/8', '10.255.1.2')).toBe(true);
    expect(inBlock('10.0.0.0/8', '11.0.0.0')).toBe(false);
    expect(inBlock('172.16.0.0/12', '172.31.255.255')).toBe(true);
    expect(inBlock('172.16.0.0/12', '172.32.0.0')).toBe(false);
    expect(inBlock('0.0.0.0/0', '8.8.8.8')).toBe(true);
  });

  it('matches IPv6 blocks, including prefixes inside a byte', () => {
    expect(inBlock('2001:db8::/32', '2001:db8:ffff::1')).toBe(true);
    expect(inBlock('2001:db8::/32', '2001:db9::1')).toBe(false);
    expect(inBlock('2001:db8:abcd:12::/61', '2001:db8:abcd:17:ffff::1')).toBe(true);
    expect(inBlock('2001:db8:abcd:12::/61', '2001:db8:abcd:18::1')).toBe(false);
    expect(inBlock('::1/128', '::1')).toBe(true);
    expect(inBlock('::/0', 'fe80::1%lo0')).toBe(true);
  });

  it('lets an IPv4-mapped client match IPv4 rules, never IPv6 ones', () => {
    expect(inBlock('203.0.113.0/24', '::ffff:203.0.113.50')).toBe(true);
    expect(inBlock('::/0', '::ffff:203.0.113.50')).toBe(false);
    expect(inBlock('0.0.0.0/0', '2001:db8::1')).toBe(false);
  });
});

describe('IpRules', () => {
  it('lets everything through when empty', () => {
    expect(rules([], []).allows(parseIp('192.0.2.1'))).toBe(true);
    expect(rules([], []).allows(null)).toBe(true);
  });

  it('denies what is not in a non-empty allow list', () => {
    const r = rules(['192.0.2.0/24', '2001:db8::/48'], []);
    expect(r.allows(parseIp('192.0.2.9'))).toBe(true);
    expect(r.allows(parseIp('2001:db8:0:1::5'))).toBe(true);
    expect(r.allows(parseIp('198.51.100.1'))).toBe(false);
    expect(r.allows(parseIp('2001:db8:1::5'))).toBe(false);
  });

  it('lets deny win over allow', () => {
    const r = rules(['10.0.0.0/8'], ['10.1.0.0/16']);
    expect(r.allows(parseIp('10.2.0.1'))).toBe(true);
    expect(r.allows(parseIp('10.1.0.1'))).toBe(false);
    expect(r.allows(parseIp('::ffff:10.1.0.1'))).toBe(false);
  });

  it('with only a deny list, allows the rest', () => {
    const r = rules([], ['2001:db8::/32']);
    expect(r.allows(parseIp('2001:db8::1'))).toBe(false);
    expect(r.allows(parseIp('2001:db9::1'))).toBe(true);
  });

  it('fails closed on an address it cannot read', () => {
    expect(rules([], ['10.0.0.0/8']).allows(parseIp('not-an-ip'))).toBe(false);
  });
});

describe('clientKey', () => {
  it('groups IPv6 clients by /64 and keeps IPv4 (mapped too) per address', () => {
    const a = clientKey(parseIp('2001:db8:1:2:aaaa::1'), '');
    const b = clientKey(parseIp('2001:db8:1:2:bbbb::2'), '');
    const c = clientKey(parseIp('2001:db8:1:3::1'), '');
    expect(a).toBe(b);
    expect(a).not.toBe(c);
    expect(clientKey(parseIp('::ffff:192.0.2.1'), '')).toBe(clientKey(parseIp('192.0.2.1'), ''));
    expect(clientKey(parseIp('192.0.2.1'), '')).not.toBe(clientKey(parseIp('192.0.2.2'), ''));
  });
});
