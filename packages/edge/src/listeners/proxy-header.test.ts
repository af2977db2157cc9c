import { describe, expect, it } from 'vitest';
import { parseProxyHeader, PROXY_V1_MAX_BYTES, PROXY_V2_MAX_BYTES } from './proxy-header.js';
import { proxyV1, proxyV2 } from './test-support/proxy-headers.js';

const REQUEST = Buffer.from('GET / HTTP/1.1\r\nHost: a\r\n\r\n');

describe('parseProxyHeader: version 1', () => {
  it.each([
    ['TCP4', '203.0.113.7', 'TCP4 203.0.113.7 192.0.2.1 51000 443', 51000],
    ['TCP6', '2001:db8::7', 'TCP6 2001:db8::7 2001:db8::1 1 80', 1],
    ['TCP4 port 0', '10.0.0.1', 'TCP4 10.0.0.1 10.0.0.2 0 65535', 0],
  ])('reads %s and says where the request starts', (_, address, line, port) => {
    const header = Buffer.from(`PROXY ${line}\r\n`);
    const parsed = parseProxyHeader(Buffer.concat([header, REQUEST]));
    expect(parsed).toEqual({
      state: 'complete',
      header: { version: 1, source: { address, port } },
      length: header.length,
    });
  });

  it('reads UNKNOWN as no address (the socket peer stands)', () => {
    const parsed = parseProxyHeader(Buffer.from('PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n'));
    expect(parsed).toMatchObject({ state: 'complete', header: { version: 1, source: null } });
  });

  it.each([
    ['a family that is not TCP', 'PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n'],
    ['an IPv6 address under TCP4', 'PROXY TCP4 ::1 ::1 1 2\r\n'],
    ['a host name', 'PROXY TCP4 example.com 5.6.7.8 1 2\r\n'],
    ['a port past 65535', 'PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n'],
    ['a port with a leading zero', 'PROXY TCP4 1.2.3.4 5.6.7.8 080 2\r\n'],
    ['a missing field', 'PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n'],
    ['two spaces', 'PROXY TCP4  1.2.3.4 5.6.7.8 1 2\r\n'],
    ['lower case', 'proxy TCP4 1.2.3.4 5.6.7.8 1 2\r\n'],
  ])('refuses %s', (_, text) => {
    expect(parseProxyHeader(Buffer.from(text)).state).toBe('invalid');
  });

  it(`refuses a line with no CRLF within ${PROXY_V1_MAX_BYTES} bytes, and waits below that`, () => {
    const long = Buffer.from(`PROXY TCP4 ${'1'.repeat(200)}`);
    expect(parseProxyHeader(long.subarray(0, PROXY_V1_MAX_BYTES - 1)).state).toBe('incomplete');
    expect(parseProxyHeader(long.subarray(0, PROXY_V1_MAX_BYTES))).toMatchObject({
      state: 'invalid',
      reason: expect.stringContaining('longer than 107') as string,
    });
  });
});

describe('parseProxyHeader: version 2', () => {
  it('reads TCP4 and skips TLVs', () => {
    const header = proxyV2({
      source: '198.51.100.9',
      port: 40000,
      tlvs: Buffer.from([0x04, 0x00, 0x03, 1, 2, 3]),
    });
    expect(parseProxyHeader(Buffer.concat([header, REQUEST]))).toEqual({
      state: 'complete',
      header: { version: 2, source: { address: '198.51.100.9', port: 40000 } },
      length: header.length,
    });
  });

  it('reads TCP6', () => {
    const parsed = parseProxyHeader(proxyV2({ source: '2001:db8::42', port: 8443 }));
    expect(parsed).toMatchObject({
      state: 'complete',
      header: { source: { address: '2001:db8::42', port: 8443 } },
    });
  });

  it('reads LOCAL (a health check from the proxy itself) as no address', () => {
    expect(parseProxyHeader(proxyV2({ command: 'local' }))).toMatchObject({
      state: 'complete',
      header: { version: 2, source: null },
    });
  });

  it.each([
    ['version 1 in the version nibble', (h: Buffer) => h.writeUInt8(0x11, 12)],
    ['an unknown command', (h: Buffer) => h.writeUInt8(0x22, 12)],
    ['a UDP family', (h: Buffer) => h.writeUInt8(0x12, 13)],
    ['an address block too short for TCP4', (h: Buffer) => h.writeUInt16BE(4, 14)],
  ])('refuses %s', (_, spoil) => {
    const header = proxyV2({ source: '192.0.2.1', port: 1 });
    spoil(header);
    expect(parseProxyHeader(header).state).toBe('invalid');
  });

  it(`refuses a declared length past ${PROXY_V2_MAX_BYTES} bytes before reading it`, () => {
    const header = proxyV2({ source: '192.0.2.1', port: 1 }).subarray(0, 16);
    header.writeUInt16BE(PROXY_V2_MAX_BYTES - 16 + 1, 14);
    expect(parseProxyHeader(header)).toMatchObject({
      state: 'invalid',
      reason: expect.stringContaining('at most') as string,
    });
    header.writeUInt16BE(PROXY_V2_MAX_BYTES - 16, 14);
    expect(parseProxyHeader(header).state).toBe('incomplete');
  });
});

describe('parseProxyHeader: arrival in pieces', () => {
  it.each([
    ['v1', proxyV1('TCP4 203.0.113.7 192.0.2.1 51000 443')],
    ['v2', proxyV2({ source: '203.0.113.7', port: 51000, tlvs: Buffer.alloc(20, 7) })],
  ])('%s: every proper prefix is incomplete, the whole header is complete', (_, header) => {
    for (let n = 0; n < header.length; n++) {
      expect(parseProxyHeader(header.subarray(0, n)).state, `prefix of ${n} bytes`).toBe('incomplete');
    }
    expect(parseProxyHeader(Buffer.concat([header, REQUEST]))).toMatchObject({
      state: 'complete',
      length: header.length,
      header: { source: { address: '203.0.113.7', port: 51000 } },
    });
  });

  it.each([
    ['an HTTP request', REQUEST],
    ['a TLS ClientHello', Buffer.from([0x16, 0x03, 0x01, 0x00, 0xa5])],
    ['one wrong byte of the v2 signature', Buffer.from([0x0d, 0x0a, 0x0d, 0x0b])],
    ['PROXY without its space', Buffer.from('PROXYX')],
  ])('refuses %s at once, without waiting for more bytes', (_, data) => {
    expect(parseProxyHeader(data).state).toBe('invalid');
  });
});
