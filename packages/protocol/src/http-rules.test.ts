import { describe, expect, it } from 'vitest';
import { MAX_STATUS_TEXT } from './head-limits.js';
import {
  connectionTokens,
  HOP_BY_HOP_HEADERS,
  isHopByHop,
  isValidStatus,
  reasonPhrase,
} from './http-rules.js';

describe('hop-by-hop rules', () => {
  it('lists the RFC 9110 connection headers and Proxy-Connection', () => {
    for (const name of ['connection', 'keep-alive', 'te', 'trailer', 'transfer-encoding', 'upgrade'])
      expect(HOP_BY_HOP_HEADERS.has(name)).toBe(true);
    expect(HOP_BY_HOP_HEADERS.has('proxy-connection')).toBe(true);
    expect(HOP_BY_HOP_HEADERS.has('content-length')).toBe(false);
  });

  it('reads the names every Connection field lists, in any case, skipping empty tokens', () => {
    const named = connectionTokens(['CONNECTION', 'X-One, ,x-TWO', 'Host', 'a', 'connection', 'close']);
    expect([...named].sort()).toEqual(['close', 'x-one', 'x-two']);
    expect(isHopByHop('x-two', named)).toBe(true);
    expect(isHopByHop('host', named)).toBe(false);
    expect(connectionTokens(['Host', 'a']).size).toBe(0);
  });

  it('leaves out names already on the fixed list, so `Connection: keep-alive` costs no set', () => {
    expect(connectionTokens(['Connection', 'keep-alive'])).toBe(connectionTokens([]));
    const named = connectionTokens(['Connection', 'Keep-Alive, Upgrade,X-A']);
    expect([...named]).toEqual(['x-a']);
    for (const name of ['keep-alive', 'upgrade', 'x-a']) expect(isHopByHop(name, named)).toBe(true);
  });
});

describe('isValidStatus', () => {
  it('takes three-digit integers only', () => {
    for (const ok of [100, 101, 200, 599, 999]) expect(isValidStatus(ok)).toBe(true);
    for (const bad of [99, 1000, 200.5, Number.NaN, -200]) expect(isValidStatus(bad)).toBe(false);
  });
});

describe('reasonPhrase', () => {
  it('keeps tab, space and visible ASCII', () => {
    expect(reasonPhrase(200, 'Fine By Me')).toBe('Fine By Me');
    expect(reasonPhrase(200, 'Fine\tBy Me')).toBe('Fine\tBy Me');
  });

  it('replaces anything else, an empty or an over-long phrase by the standard one (or none)', () => {
    for (const bad of ['O\x01K', '€', 'OK\r\nX: y', 'caf\xe9', '', 'x'.repeat(MAX_STATUS_TEXT + 1)])
      expect(reasonPhrase(200, bad)).toBe('OK');
    expect(reasonPhrase(299, 'bad\n')).toBe('');
  });
});
