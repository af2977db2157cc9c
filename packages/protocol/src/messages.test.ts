import { describe, expect, it } from 'vitest';
import { TunnelError } from './errors.js';
import { HEAD_LIMITS } from './head-limits.js';
import {
  decodeBind,
  decodeBindAck,
  decodeErrorMessage,
  decodeHello,
  decodeHelloAck,
  decodeRequestHead,
  decodeResponseHead,
  decodeUnbind,
  encodeJson,
  type Hello,
  type HelloAck,
  type RequestHead,
} from './messages.js';

function badMessage(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(TunnelError);
    expect((err as TunnelError).code).toBe('TUN_ERR_BAD_MESSAGE');
    return (err as TunnelError).message;
  }
  throw new Error('expected TUN_ERR_BAD_MESSAGE, nothing was thrown');
}

const hello: Hello = {
  versions: [1],
  agent: 'burrow/0.1.0',
  token: null,
  window: 1024 * 1024,
  maxFramePayload: 65_536,
};
const helloAck: HelloAck = {
  version: 1,
  sessionId: 's-1',
  window: 1 << 20,
  maxFramePayload: 1 << 16,
  heartbeatMs: 10_000,
  maxStreams: 1000,
  maxTunnels: 20,
};
const head: RequestHead = {
  tunnel: 'demo',
  method: 'GET',
  path: '/a%2Fb?x=1',
  headers: ['Set-Cookie', 'a=1', 'set-cookie', 'b=2'],
  remoteAddress: '::1',
  requestId: 'r',
};

describe('control messages', () => {
  it('round-trips every message through JSON', () => {
    expect(decodeHello(encodeJson(hello))).toEqual(hello);
    expect(decodeHello(encodeJson({ ...hello, token: 'key_abc' })).token).toBe('key_abc');
    expect(decodeHelloAck(encodeJson(helloAck))).toEqual(helloAck);
    expect(decodeBind(encodeJson({ id: 1, proto: 'http', name: 'demo', resumeToken: null }))).toEqual({
      id: 1,
      proto: 'http',
      name: 'demo',
      resumeToken: null,
      policy: null,
      force: false,
    });
    expect(decodeBind(encodeJson({ id: 1, proto: 'http', name: 'demo', force: true })).force).toBe(true);
    badMessage(() => decodeBind(encodeJson({ id: 1, proto: 'http', force: 'yes' })));
    expect(
      decodeBind(encodeJson({ id: 1, proto: 'http', name: null, policy: { authToken: 't' } })).policy,
    ).toEqual({
      authToken: 't',
    });
    badMessage(() => decodeBind(encodeJson({ id: 1, proto: 'http', policy: ['not', 'an', 'object'] })));
    const ok = { id: 1, ok: true as const, name: 'demo', url: 'https://demo.example.com', resumeToken: 't' };
    expect(decodeBindAck(encodeJson(ok))).toEqual(ok);
    const refused = { id: 2, ok: false as const, code: 'TUN_ERR_NAME_TAKEN' as const, message: 'taken' };
    expect(decodeBindAck(encodeJson(refused))).toEqual(refused);
    expect(decodeUnbind(encodeJson({ name: 'demo' }))).toEqual({ name: 'demo' });
    expect(decodeRequestHead(encodeJson(head))).toEqual(head);
    expect(decodeResponseHead(encodeJson({ status: 204, headers: [] }))).toEqual({
      status: 204,
      statusText: '',
      headers: [],
    });
    expect(decodeErrorMessage(encodeJson({ code: 5, message: 'x' }))).toEqual({ code: 5, message: 'x' });
  });

  it('keeps header order, case and repeats', () => {
    expect(decodeRequestHead(encodeJson(head)).headers).toEqual(['Set-Cookie', 'a=1', 'set-cookie', 'b=2']);
  });

  it('ignores unknown fields', () => {
    expect(decodeHello(encodeJson({ ...hello, future: { x: 1 } }))).toEqual(hello);
  });

  it.each([
    ['not JSON', Buffer.from('{')],
    ['an array', encodeJson([1])],
    ['null', Buffer.from('null')],
    ['a string', Buffer.from('"x"')],
  ])('rejects a payload that is %s', (_what, payload) => {
    badMessage(() => decodeHello(payload));
  });

  it('names the message and the field in the error', () => {
    expect(badMessage(() => decodeHelloAck(encodeJson({ ...helloAck, heartbeatMs: 0 })))).toMatch(
      /^HELLO_ACK: heartbeatMs must be an integer/,
    );
  });

  it.each([
    ['no versions', { ...hello, versions: [] }],
    ['17 versions', { ...hello, versions: Array.from({ length: 17 }, () => 1) }],
    ['version 0', { ...hello, versions: [0] }],
    ['version 256', { ...hello, versions: [256] }],
    ['a fractional version', { ...hello, versions: [1.5] }],
    ['a window under 1024', { ...hello, window: 1023 }],
    ['a window over 2^31-1', { ...hello, window: 2 ** 31 }],
    ['maxFramePayload over 16 MiB', { ...hello, maxFramePayload: 16 * 1024 * 1024 + 1 }],
    ['a token over 512 chars', { ...hello, token: 'k'.repeat(513) }],
    ['a numeric token', { ...hello, token: 5 }],
  ])('rejects a HELLO with %s', (_what, message) => {
    badMessage(() => decodeHello(encodeJson(message)));
  });

  it.each([
    ['an odd header list', { ...head, headers: ['Host'] }],
    ['a non-string header', { ...head, headers: ['Host', 1] }],
    ['a missing method', { ...head, method: undefined }],
    ['a method over 64 chars', { ...head, method: 'M'.repeat(65) }],
  ])('rejects an OPEN head with %s', (_what, message) => {
    badMessage(() => decodeRequestHead(encodeJson(message)));
  });

  it('refuses a head over the head limits with the code naming the limit', () => {
    const headers = Array.from({ length: 2002 }, () => 'x');
    const codeOf = (fn: () => unknown): string => {
      try {
        fn();
      } catch (err) {
        return (err as TunnelError).code;
      }
      return 'nothing thrown';
    };
    expect(codeOf(() => decodeRequestHead(encodeJson({ ...head, headers })))).toBe(
      'TUN_ERR_HEADERS_TOO_LARGE',
    );
    expect(codeOf(() => decodeResponseHead(encodeJson({ status: 200, headers })))).toBe(
      'TUN_ERR_HEAD_TOO_LARGE',
    );
    const big = ['X-Big', 'v'.repeat(HEAD_LIMITS.maxBytes)];
    expect(codeOf(() => decodeRequestHead(encodeJson({ ...head, headers: big })))).toBe(
      'TUN_ERR_HEADERS_TOO_LARGE',
    );
    // Exactly at the limits is accepted.
    const fields = Array.from({ length: HEAD_LIMITS.maxFields * 2 }, () => 'x');
    expect(decodeRequestHead(encodeJson({ ...head, headers: fields })).headers).toHaveLength(2000);
  });

  it('carries the origin time in HEAD when the agent measured it, and nothing when it did not', () => {
    expect(decodeResponseHead(encodeJson({ status: 200, headers: [], originMs: 12.5 })).originMs).toBe(12.5);
    expect(decodeResponseHead(encodeJson({ status: 200, headers: [], originMs: 0 })).originMs).toBe(0);
    expect('originMs' in decodeResponseHead(encodeJson({ status: 200, headers: [] }))).toBe(false);
    expect('originMs' in decodeResponseHead(encodeJson({ status: 200, headers: [], originMs: null }))).toBe(
      false,
    );
  });

  it.each([-1, '5', true, [1], { ms: 1 }])('rejects a HEAD with originMs %j', (originMs) => {
    expect(badMessage(() => decodeResponseHead(encodeJson({ status: 200, headers: [], originMs })))).toMatch(
      /originMs/,
    );
  });

  it('rejects a HEAD whose originMs is not finite', () => {
    // JSON has no Infinity; a huge exponent parses to it.
    const payload = Buffer.from('{"status":200,"headers":[],"originMs":1e999}');
    expect(badMessage(() => decodeResponseHead(payload))).toMatch(/originMs/);
  });

  it.each([99, 1000, 200.5])('rejects a HEAD with status %s', (status) => {
    badMessage(() => decodeResponseHead(encodeJson({ status, headers: [] })));
  });

  it('rejects a BIND for another protocol', () => {
    badMessage(() => decodeBind(encodeJson({ id: 1, proto: 'tcp', name: null, resumeToken: null })));
  });

  it('rejects an ErrorMessage code outside 0..65535', () => {
    badMessage(() => decodeErrorMessage(encodeJson({ code: 65_536, message: '' }), 'GOAWAY'));
    expect(badMessage(() => decodeErrorMessage(encodeJson({ code: -1, message: '' }), 'RESET'))).toMatch(
      /^RESET:/,
    );
  });
});
