import { describe, expect, it } from 'vitest';
import {
  decodeBasic,
  findAuthorization,
  isNavigation,
  takeCookie,
  takeQueryParam,
  withoutHeaderAt,
} from './request-credentials.js';

describe('findAuthorization', () => {
  it('splits the first Authorization header into a lower-cased scheme and credentials', () => {
    const raw = ['Host', 'x', 'authorization', 'BEARER  abc.def ', 'Authorization', 'Basic second'];
    expect(findAuthorization(raw)).toEqual({ scheme: 'bearer', credentials: 'abc.def', index: 2 });
    expect(findAuthorization(['Authorization', 'Negotiate'])).toEqual({
      scheme: 'negotiate',
      credentials: '',
      index: 0,
    });
    expect(findAuthorization(['Host', 'x'])).toBeNull();
  });
});

describe('decodeBasic', () => {
  it('decodes user:pass as UTF-8, keeping colons in the password', () => {
    expect(decodeBasic(Buffer.from('alice:pa:ss').toString('base64'))).toBe('alice:pa:ss');
    expect(decodeBasic(Buffer.from('jürgen:pässwörd').toString('base64'))).toBe('jürgen:pässwörd');
  });

  it('refuses what is not base64 of something with a colon', () => {
    expect(decodeBasic(Buffer.from('nocolon').toString('base64'))).toBeNull();
    expect(decodeBasic('not base64!')).toBeNull();
    expect(decodeBasic('')).toBeNull();
  });
});

describe('withoutHeaderAt', () => {
  it('removes exactly one name/value pair', () => {
    expect(withoutHeaderAt(['A', '1', 'B', '2', 'C', '3'], 2)).toEqual(['A', '1', 'C', '3']);
  });
});

describe('takeQueryParam', () => {
  it('removes every occurrence, keeps other parameters byte for byte, returns the first value', () => {
    expect(takeQueryParam('/a?x=%20&burrow_token=t1&y=2&burrow_token=t2', 'burrow_token')).toEqual({
      target: '/a?x=%20&y=2',
      value: 't1',
    });
  });

  it('drops the ? when nothing is left, and keeps the path', () => {
    expect(takeQueryParam('/app/page?burrow_token=abc', 'burrow_token')).toEqual({
      target: '/app/page',
      value: 'abc',
    });
    expect(takeQueryParam('?burrow_token=abc', 'burrow_token')).toEqual({ target: '/', value: 'abc' });
  });

  it('percent-decodes the value but leaves + alone', () => {
    expect(takeQueryParam('/?burrow_token=a%2Fb+c', 'burrow_token').value).toBe('a/b+c');
    expect(takeQueryParam('/?burrow_token=%E0%A4%A', 'burrow_token').value).toBe('%E0%A4%A');
    expect(takeQueryParam('/?burrow_token', 'burrow_token').value).toBe('');
  });

  it('leaves targets without the parameter untouched', () => {
    expect(takeQueryParam('/p?burrow_tokens=1&xburrow_token=2', 'burrow_token')).toEqual({
      target: '/p?burrow_tokens=1&xburrow_token=2',
      value: null,
    });
    expect(takeQueryParam('/p', 'burrow_token')).toEqual({ target: '/p', value: null });
  });
});

describe('takeCookie', () => {
  it('removes the cookie from every Cookie header, keeps others, drops emptied headers', () => {
    const raw = ['Cookie', 'a=1; burrow_token=v1; b=2', 'Accept', '*/*', 'cookie', 'burrow_token=v2'];
    expect(takeCookie(raw, 'burrow_token')).toEqual({
      headers: ['Cookie', 'a=1; b=2', 'Accept', '*/*'],
      values: ['v1', 'v2'],
    });
  });

  it('leaves lists without the cookie as they were', () => {
    const raw = ['Cookie', 'a=1;b=2', 'X', 'y'];
    expect(takeCookie(raw, 'burrow_token')).toEqual({ headers: ['Cookie', 'a=1;b=2', 'X', 'y'], values: [] });
  });
});

describe('isNavigation', () => {
  it('is true for a browser page load and false for fetch, curl and non-GET', () => {
    expect(isNavigation('GET', ['Sec-Fetch-Mode', 'navigate'])).toBe(true);
    expect(isNavigation('GET', ['Sec-Fetch-Mode', 'cors', 'Accept', 'text/html'])).toBe(false);
    expect(isNavigation('GET', ['Accept', 'text/html,application/xhtml+xml'])).toBe(true);
    expect(isNavigation('GET', ['Accept', '*/*', 'User-Agent', 'curl/8.5.0'])).toBe(false);
    expect(isNavigation('POST', ['Sec-Fetch-Mode', 'navigate'])).toBe(false);
  });
});
