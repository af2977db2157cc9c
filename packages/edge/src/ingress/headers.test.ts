import { describe, expect, it } from 'vitest';
import { HeaderEdit } from '../policy/header-edit.js';
import { http2ResponseHeaders, requestHeadersForAgent, viewerRequestHeaders } from './headers.js';

const info = {
  remoteAddress: '127.0.0.1',
  proto: 'http' as const,
  host: 'a.localhost:8080',
  requestId: 'rid',
  prefix: null,
};

/** The request path's order: viewer's hop-by-hop off, then the owner's edits, then forwarding headers. */
function forward(raw: string[], edit: HeaderEdit, upgrade = false): string[] {
  return requestHeadersForAgent(edit.apply(viewerRequestHeaders(raw, { upgrade })), info);
}

function values(raw: readonly string[], name: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) if (raw[i]!.toLowerCase() === name) out.push(raw[i + 1]!);
  return out;
}

describe('viewerRequestHeaders then the policy edits', () => {
  it("keeps the owner's added header that the viewer named in Connection", () => {
    const out = forward(
      ['Host', 'a.localhost:8080', 'Connection', 'X-Foo, keep-alive', 'X-Foo', 'viewer', 'Keep-Alive', '5'],
      new HeaderEdit([], [['X-Foo', 'owner']]),
    );
    expect(values(out, 'x-foo')).toEqual(['owner']);
    expect(values(out, 'connection')).toEqual([]);
    expect(values(out, 'keep-alive')).toEqual([]);
  });

  it('never strips Host or the forwarding headers, and drops Expect', () => {
    const out = viewerRequestHeaders(
      [
        'Host',
        'a.localhost',
        'Connection',
        'Host, X-Forwarded-For, Forwarded',
        'X-Forwarded-For',
        '203.0.113.9',
        'Expect',
        '100-continue',
      ],
      { upgrade: false },
    );
    expect(out).toEqual(['Host', 'a.localhost', 'X-Forwarded-For', '203.0.113.9']);
  });

  it('drops HTTP/2 pseudo-headers and sends :authority as the one Host', () => {
    const raw = [
      ':method',
      'POST',
      ':path',
      '/x',
      ':scheme',
      'https',
      ':authority',
      'a.burrow.test',
      'host',
      'a.burrow.test',
      'x-a',
      '1',
    ];
    expect(viewerRequestHeaders(raw, { upgrade: false })).toEqual(['host', 'a.burrow.test', 'x-a', '1']);
  });

  it('gives an upgrade Connection: Upgrade only, and keeps Upgrade', () => {
    const out = forward(
      ['Host', 'h', 'Upgrade', 'websocket', 'Connection', 'Upgrade, X-Foo', 'X-Foo', 'viewer'],
      new HeaderEdit([], [['X-Foo', 'owner']]),
      true,
    );
    expect(values(out, 'upgrade')).toEqual(['websocket']);
    expect(values(out, 'connection')).toEqual(['Upgrade']);
    expect(values(out, 'x-foo')).toEqual(['owner']);
  });
});

describe('requestHeadersForAgent: Forwarded', () => {
  it("replaces the viewer's Forwarded with one RFC 7239 element for this hop", () => {
    const out = requestHeadersForAgent(
      ['Forwarded', 'for=1.2.3.4;host=evil;proto=https', 'X-Forwarded-For', '198.51.100.7'],
      info,
    );
    expect(values(out, 'forwarded')).toEqual(['for=127.0.0.1;host="a.localhost:8080";proto=http']);
    expect(values(out, 'x-forwarded-for')).toEqual(['127.0.0.1']);
  });

  it("replaces the viewer's X-Forwarded-For and X-Real-IP with the one client address the edge resolved", () => {
    const out = requestHeadersForAgent(
      ['X-Forwarded-For', '1.2.3.4', 'x-real-ip', '1.2.3.4', 'X-Forwarded-For', '5.6.7.8'],
      { ...info, remoteAddress: '203.0.113.7' },
    );
    expect(values(out, 'x-forwarded-for')).toEqual(['203.0.113.7']);
    expect(values(out, 'x-real-ip')).toEqual(['203.0.113.7']);
    expect(values(out, 'forwarded')[0]).toMatch(/^for=203\.0\.113\.7;/);
  });

  it('quotes and brackets IPv6, leaves a plain host a token, and says unknown without an address', () => {
    const v6 = requestHeadersForAgent([], {
      ...info,
      remoteAddress: '2001:db8::1',
      host: 'a.localhost',
      proto: 'https',
    });
    expect(values(v6, 'forwarded')).toEqual(['for="[2001:db8::1]";host=a.localhost;proto=https']);
    const none = requestHeadersForAgent([], { ...info, remoteAddress: '' });
    expect(values(none, 'forwarded')[0]).toMatch(/^for=unknown;/);
  });
});

describe('viewerRequestHeaders for HTTP/2 requests', () => {
  const crumbs = [
    ':authority',
    'a.localhost',
    'cookie',
    'a=1',
    'accept',
    '*/*',
    'cookie',
    'b=2',
    'cookie',
    'c=3',
  ];

  it('joins the cookie crumbs into one Cookie field, where the first one was (RFC 9113 §8.2.3)', () => {
    const out = viewerRequestHeaders(crumbs, { upgrade: false }, true);
    expect(out).toEqual(['host', 'a.localhost', 'cookie', 'a=1; b=2; c=3', 'accept', '*/*']);
  });

  it('leaves HTTP/1.1 Cookie fields as the viewer sent them', () => {
    const raw = ['Host', 'a.localhost', 'Cookie', 'a=1', 'Cookie', 'b=2'];
    expect(values(viewerRequestHeaders(raw, { upgrade: false }, false), 'cookie')).toEqual(['a=1', 'b=2']);
  });

  it("makes an extended CONNECT for websocket the HTTP/1.1 handshake, with the edge's key (RFC 8441 §5)", () => {
    const raw = [
      ':method',
      'CONNECT',
      ':protocol',
      'websocket',
      ':scheme',
      'https',
      ':path',
      '/ws',
      ':authority',
      'a.localhost',
      'sec-websocket-version',
      '13',
      'sec-websocket-protocol',
      'chat',
      'sec-websocket-key',
      'the-viewers-own',
    ];
    const key = 'dGhlIHNhbXBsZSBub25jZQ==';
    expect(viewerRequestHeaders(raw, { upgrade: true, websocketKey: key }, true)).toEqual([
      'host',
      'a.localhost',
      'sec-websocket-version',
      '13',
      'sec-websocket-protocol',
      'chat',
      'Upgrade',
      'websocket',
      'Sec-WebSocket-Key',
      key,
      'Connection',
      'Upgrade',
    ]);
  });
});

describe('requestHeadersForAgent: trace context', () => {
  const trace = {
    traceId: '0af7651916cd43dd8448eb211c80319c',
    spanId: '00f067aa0ba902b7',
    parentSpanId: 'b7ad6b7169203331',
    sampled: true,
    traceState: 'congo=t61rcWkgMzE',
  };

  it("replaces the viewer's traceparent and tracestate with the edge's span as the parent", () => {
    const out = requestHeadersForAgent(
      ['TraceParent', '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', 'tracestate', 'spoofed=1'],
      { ...info, trace },
    );
    expect(values(out, 'traceparent')).toEqual(['00-0af7651916cd43dd8448eb211c80319c-00f067aa0ba902b7-01']);
    expect(values(out, 'tracestate')).toEqual(['congo=t61rcWkgMzE']);
  });

  it('sends no tracestate for a trace the edge started, and the unsampled flag as decided', () => {
    const out = requestHeadersForAgent(['tracestate', 'orphan=1'], {
      ...info,
      trace: { ...trace, parentSpanId: null, sampled: false, traceState: null },
    });
    expect(values(out, 'traceparent')).toEqual(['00-0af7651916cd43dd8448eb211c80319c-00f067aa0ba902b7-00']);
    expect(values(out, 'tracestate')).toEqual([]);
  });

  it('passes both through as sent without a trace', () => {
    const out = requestHeadersForAgent(['traceparent', 'x', 'tracestate', 'y'], info);
    expect(values(out, 'traceparent')).toEqual(['x']);
    expect(values(out, 'tracestate')).toEqual(['y']);
  });
});

describe('http2ResponseHeaders', () => {
  it('drops every connection-specific field HTTP/2 forbids, in any case, and keeps the rest in order', () => {
    const raw = [
      'X-A',
      '1',
      'HTTP2-Settings',
      'x',
      'Keep-Alive',
      'timeout=5',
      'connection',
      'close',
      'Proxy-Connection',
      'keep-alive',
      'Transfer-Encoding',
      'chunked',
      'Upgrade',
      'websocket',
      'TE',
      'trailers',
      'X-B',
      '2',
    ];
    expect(http2ResponseHeaders(raw)).toEqual(['X-A', '1', 'X-B', '2']);
  });

  it('returns the same list, uncopied, when it has none', () => {
    const raw = [
      'Content-Type',
      'text/plain',
      'Content-Length',
      '2',
      'Set-Cookie',
      'a=1',
      'Set-Cookie',
      'b=2',
    ];
    expect(http2ResponseHeaders(raw)).toBe(raw);
  });

  it('keeps only the first of a once-only field repeated (Node throws on it over HTTP/2), any other repeat stays', () => {
    const raw = [
      'Location',
      '/a',
      'Vary',
      'Accept',
      'location',
      '/b',
      'Vary',
      'Origin',
      'ETag',
      '"1"',
      'ETag',
      '"2"',
    ];
    expect(http2ResponseHeaders(raw)).toEqual([
      'Location',
      '/a',
      'Vary',
      'Accept',
      'Vary',
      'Origin',
      'ETag',
      '"1"',
    ]);
  });
});
