import { describe, expect, it } from 'vitest';
import { reasonPhrase } from '@burrow/protocol';
import { checkResponseHead } from './response-head.js';

const plain = { method: 'GET', upgrade: false };

describe('reasonPhrase', () => {
  it('keeps a valid phrase and replaces one with control, CR/LF or non-latin1 characters', () => {
    expect(reasonPhrase(200, 'Fine By Me')).toBe('Fine By Me');
    for (const bad of ['O\x01K', '€', 'OK\r\nX: y', 'caf\xe9']) expect(reasonPhrase(200, bad)).toBe('OK');
    expect(reasonPhrase(299, 'bad\n')).toBe('');
  });
});

describe('checkResponseHead', () => {
  it('passes an ordinary head through without copying it', () => {
    const headers = ['Content-Type', 'text/plain', 'Content-Length', '5'];
    const checked = checkResponseHead({ status: 200, statusText: 'OK', headers }, plain);
    expect(checked).toEqual({ ok: true, head: { status: 200, reason: 'OK', headers, bodyLength: 5 } });
    if (checked.ok) expect(checked.head.headers).toBe(headers);
  });

  it('collapses identical Content-Length values into one field', () => {
    const checked = checkResponseHead(
      { status: 200, statusText: '', headers: ['content-length', '5, 5', 'X', 'y', 'Content-Length', '05'] },
      plain,
    );
    expect(checked.ok && checked.head.headers).toEqual(['content-length', '5', 'X', 'y']);
  });

  it.each([['5', '6'], ['5, 6'], ['-1'], [''], ['1e3'], ['9'.repeat(16)]])(
    'refuses Content-Length %j',
    (...values) => {
      const headers = values.flatMap((v) => ['Content-Length', v]);
      expect(checkResponseHead({ status: 200, statusText: '', headers }, plain).ok).toBe(false);
    },
  );

  it('refuses Content-Length with Transfer-Encoding', () => {
    const headers = ['Transfer-Encoding', 'chunked', 'Content-Length', '5'];
    expect(checkResponseHead({ status: 200, statusText: '', headers }, plain).ok).toBe(false);
  });

  it('accepts 101 only on upgrades and nothing outside 100-599', () => {
    const head = (status: number) => ({ status, statusText: '', headers: [] });
    expect(checkResponseHead(head(101), plain).ok).toBe(false);
    expect(checkResponseHead(head(101), { method: 'GET', upgrade: true }).ok).toBe(true);
    for (const status of [100, 103, 199, 600, 999]) {
      expect(checkResponseHead(head(status), { method: 'GET', upgrade: true }).ok).toBe(false);
    }
  });

  it('gives HEAD, 204 and 304 no body, and drops Content-Length from a 204 only', () => {
    const headers = ['Content-Length', '5'];
    const at = (status: number, method = 'GET') =>
      checkResponseHead({ status, statusText: '', headers }, { method, upgrade: false });
    expect(at(204)).toMatchObject({ ok: true, head: { headers: [], bodyLength: 0 } });
    expect(at(304)).toMatchObject({ ok: true, head: { headers, bodyLength: 0 } });
    expect(at(200, 'HEAD')).toMatchObject({ ok: true, head: { headers, bodyLength: 0 } });
    expect(checkResponseHead({ status: 200, statusText: '', headers: [] }, plain)).toMatchObject({
      ok: true,
      head: { bodyLength: null },
    });
  });
});
