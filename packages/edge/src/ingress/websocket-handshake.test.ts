import { describe, expect, it } from 'vitest';
import { handshakeAnswerProblem, websocketAccept } from './websocket-handshake.js';

const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';

describe('websocketAccept', () => {
  it('answers the RFC 6455 §1.3 sample key with its sample Accept', () => {
    expect(websocketAccept(KEY)).toBe('s3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
  });
});

describe('handshakeAnswerProblem', () => {
  const switching = (headers: string[]): string | null =>
    handshakeAnswerProblem(KEY, { status: 101, headers });

  it('passes a 101 to websocket (any case) with the matching Accept', () => {
    expect(switching(['Upgrade', 'WebSocket', 'Sec-WebSocket-Accept', websocketAccept(KEY)])).toBeNull();
  });

  it('refuses a 101 with a wrong or missing Accept, or to another protocol', () => {
    expect(switching(['Upgrade', 'websocket', 'Sec-WebSocket-Accept', websocketAccept('x')])).toMatch(
      /Sec-WebSocket-Accept/,
    );
    expect(switching(['Upgrade', 'websocket'])).toMatch(/Sec-WebSocket-Accept/);
    expect(switching(['Upgrade', 'h2c', 'Sec-WebSocket-Accept', websocketAccept(KEY)])).toMatch(/h2c/);
    expect(switching(['Sec-WebSocket-Accept', websocketAccept(KEY)])).toMatch(/Upgrade ""/);
  });

  it('refuses every other 2xx and lets 3xx, 4xx and 5xx through as refusals', () => {
    for (const status of [200, 204, 299])
      expect(handshakeAnswerProblem(KEY, { status, headers: [] })).toMatch(String(status));
    for (const status of [301, 400, 426, 503])
      expect(handshakeAnswerProblem(KEY, { status, headers: [] })).toBeNull();
  });
});
